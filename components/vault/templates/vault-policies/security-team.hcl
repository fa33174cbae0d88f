# security-team: audits the platform. Read-only on configuration, policies, audit devices and roles,
# may hash values against the audit log and look up token accessors; reads no secret values.

path "sys/audit" {
  capabilities = ["read", "sudo"]
}

path "sys/audit-hash/*" {
  capabilities = ["update"]
}

path "sys/policies/acl" {
  capabilities = ["list"]
}

path "sys/policies/acl/*" {
  capabilities = ["read"]
}

path "sys/mounts" {
  capabilities = ["read"]
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}

path "sys/storage/raft/autopilot/*" {
  capabilities = ["read"]
}

path "auth/token/accessors" {
  capabilities = ["list", "sudo"]
}

path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}

path "auth/aws/role/*" {
  capabilities = ["read"]
}

path "auth/aws/roles" {
  capabilities = ["list"]
}

path "auth/approle/role/+" {
  capabilities = ["read"]
}

path "secret/metadata/*" {
  capabilities = ["read", "list"]
}
