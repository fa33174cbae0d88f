# admin: Vault administration by the platform's administrators.
# Everything an operator configures (engines, auth methods, policies, audit, raft), but not the raw
# storage view, root-token generation or rekeying: those need the recovery shares (break-glass).
#
# THIS POLICY IS ROOT-EQUIVALENT. sudo on auth/* lets its holder create tokens with any policy
# (auth/token/create with sudo skips the rule that a child token's policies are a subset of its parent's),
# including orphan and periodic ones, and it writes every ACL policy (break-glass and admin itself
# included), so it can grant itself anything this file denies. Hold it like root: only the few named
# platform administrators, each through their own short-lived, audited login, never automation (the
# pulumi run uses the narrower provisioner policy; CI gets platform-team), and never as a long-lived
# token. Day-to-day work uses platform-team or security-team.

path "sys/mounts" {
  capabilities = ["read"]
}

path "sys/mounts/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/auth/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}

path "sys/audit" {
  capabilities = ["read", "sudo"]
}

path "sys/audit/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}

path "sys/policies/acl" {
  capabilities = ["list"]
}

path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

path "sys/leases/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

path "sys/storage/raft/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

path "sys/capabilities" {
  capabilities = ["update"]
}

path "sys/health" {
  capabilities = ["read", "sudo"]
}

path "auth/*" {
  capabilities = ["create", "read", "update", "delete", "list", "sudo"]
}

path "secret/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}

path "sys/raw" {
  capabilities = ["deny"]
}

path "sys/raw/*" {
  capabilities = ["deny"]
}

path "sys/generate-root/*" {
  capabilities = ["deny"]
}

path "sys/rekey/*" {
  capabilities = ["deny"]
}

path "sys/rekey-recovery-key/*" {
  capabilities = ["deny"]
}
