# platform-team: operates the cluster and the secret catalog's structure, not its values.
# Reads cluster health and raft state, manages KV metadata and the application roles; cannot read secret
# values, change policies or audit devices. No raft snapshots either: a snapshot is the whole dataset,
# every secret value included (the snapshot timer on the nodes takes them).

path "sys/health" {
  capabilities = ["read"]
}

path "sys/mounts" {
  capabilities = ["read"]
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/policies/acl" {
  capabilities = ["list"]
}

path "sys/policies/acl/*" {
  capabilities = ["read"]
}

path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}

path "sys/storage/raft/autopilot/*" {
  capabilities = ["read"]
}

path "sys/leases/lookup/*" {
  capabilities = ["list", "sudo"]
}

path "secret/metadata/*" {
  capabilities = ["read", "list", "update"]
}

path "auth/aws/role/*" {
  capabilities = ["read", "list"]
}

path "auth/aws/roles" {
  capabilities = ["list"]
}

path "auth/approle/role" {
  capabilities = ["list"]
}

path "auth/approle/role/+" {
  capabilities = ["read"]
}
