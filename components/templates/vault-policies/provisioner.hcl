# provisioner: what later `pulumi up` runs need, held as a periodic orphan token in the stack's
# (encrypted) state. It reconciles the bootstrap's configuration and seeds KV values:
# - manage KV v2 data and metadata under secret/;
# - write ACL policies;
# - enable and tune secrets engines, auth methods and audit devices, but never disable one;
# - write the AWS and AppRole auth roles (not AppRole secret IDs: it cannot log in as CI);
# - read the raft configuration and autopilot state, set the autopilot configuration;
# - look up and renew itself.
# No root, no sys/raw, no seal or step-down, no snapshots or peer removal, no token creation.

path "secret/data/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "secret/metadata/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

path "secret/delete/*" {
  capabilities = ["update"]
}

path "secret/undelete/*" {
  capabilities = ["update"]
}

path "sys/policies/acl" {
  capabilities = ["list"]
}

path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/mounts" {
  capabilities = ["read"]
}

path "sys/mounts/*" {
  capabilities = ["create", "read", "update"]
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/auth/*" {
  capabilities = ["create", "read", "update", "sudo"]
}

path "sys/audit" {
  capabilities = ["read", "sudo"]
}

path "sys/audit/*" {
  capabilities = ["create", "update", "sudo"]
}

path "auth/aws/config/client" {
  capabilities = ["create", "read", "update"]
}

path "auth/aws/role/+" {
  capabilities = ["create", "read", "update", "delete"]
}

path "auth/approle/role/+" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/storage/raft/configuration" {
  capabilities = ["read"]
}

path "sys/storage/raft/autopilot/state" {
  capabilities = ["read"]
}

path "sys/storage/raft/autopilot/configuration" {
  capabilities = ["read", "update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

# The database engine (providers/vault_database.py): its PostgreSQL connection and roles, the one
# bootstrap credential that creates vault_admin, rotating vault_admin's password, and revoking that
# bootstrap lease. Application credentials (database/creds/app-*) are not the provisioner's to read.
path "database/config/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "database/roles/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "database/creds/candlefish-postgres-bootstrap" {
  capabilities = ["read"]
}

path "database/rotate-root/candlefish-postgres" {
  capabilities = ["update"]
}

path "sys/leases/revoke" {
  capabilities = ["update"]
}

path "sys/raw" {
  capabilities = ["deny"]
}

path "sys/raw/*" {
  capabilities = ["deny"]
}

path "auth/token/create*" {
  capabilities = ["deny"]
}

path "sys/storage/raft/snapshot*" {
  capabilities = ["deny"]
}

path "sys/storage/raft/remove-peer" {
  capabilities = ["deny"]
}
