# provisioner: what later `pulumi up` runs need, held as a periodic orphan token in the stack's
# (encrypted) state. Rendered per stack by components/vault_policies.py (the audit devices' options and the
# region are filled in). It reconciles the bootstrap's configuration and seeds KV values:
# - manage KV v2 data and metadata under secret/;
# - write the policies it binds (platform-team, security-team, rotation, snapshot, app-*) and loadtest,
#   read all of them, but never write admin, break-glass, default or its own: with those it could raise
#   its own rights (a run that must change them takes an admin token as vaultAdoptToken);
# - enable and tune secrets engines and auth methods, but never disable one, and never tune a mount's
#   fields out of the audit log's HMAC (audit_non_hmac_*; a new mount's nested `config` is not checked);
# - re-enable the two audit devices only exactly as declared (no log_raw, no hmac_accessor, no socket
#   device), never disable one;
# - write the AWS and AppRole auth roles binding only the platform's own policies, never admin or
#   break-glass; no AppRole secret IDs or role IDs and no role without a secret ID: it cannot log in as CI;
# - point AWS auth at this region's STS endpoint only (another endpoint could vouch for any identity);
# - read the raft configuration and autopilot state, set the autopilot configuration;
# - look up and renew itself.
# No root, no sys/raw, no seal or step-down, no snapshots or peer removal, no token creation.
#
# What it can still do: read every KV value (seeding checks what is there), rewrite the texts of the
# policies it binds, and bind an AWS auth role to any IAM principal. A holder of this token who also holds
# an AWS identity can therefore grant that identity what the rewritten policy says. Treat the stack state
# that holds it like an admin credential.

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

# Policies. Vault lowercases the name it writes while ACL paths match case for case, so writes are granted
# by exact lowercase name and prefix; a deny by name under a writable glob would let
# "sys/policies/acl/ADMIN" through.
path "sys/policies/acl" {
  capabilities = ["list"]
}

path "sys/policies/acl/*" {
  capabilities = ["read"]
}

path "sys/policies/acl/platform-team" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/policies/acl/security-team" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/policies/acl/rotation" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/policies/acl/snapshot" {
  capabilities = ["create", "read", "update", "delete"]
}

path "sys/policies/acl/loadtest" {
  capabilities = ["create", "read", "update", "delete"]
}

# The applications' policies (app-<name>-readonly) and the database ones (app-db-readonly, -readwrite).
path "sys/policies/acl/app-*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Read only: an exact path outranks any glob, so a broader grant added later cannot make these writable.
path "sys/policies/acl/admin" {
  capabilities = ["read"]
}

path "sys/policies/acl/break-glass" {
  capabilities = ["read"]
}

path "sys/policies/acl/provisioner" {
  capabilities = ["read"]
}

path "sys/policies/acl/default" {
  capabilities = ["read"]
}

# Secrets engines and auth methods: enable and tune, never disable, never tune fields out of the HMAC.
path "sys/mounts" {
  capabilities = ["read"]
}

path "sys/mounts/*" {
  capabilities = ["create", "read", "update"]
  denied_parameters = {
    "audit_non_hmac_request_keys"  = []
    "audit_non_hmac_response_keys" = []
  }
}

path "sys/auth" {
  capabilities = ["read"]
}

path "sys/auth/*" {
  capabilities = ["create", "read", "update", "sudo"]
  denied_parameters = {
    "audit_non_hmac_request_keys"  = []
    "audit_non_hmac_response_keys" = []
  }
}

# Audit devices: only the two the bootstrap declares, with exactly its options. log_raw and hmac_accessor
# live inside `options`, where denied_parameters cannot look (Vault checks top-level fields only), so the
# whole options map is pinned; `type` rules out a socket device.
path "sys/audit" {
  capabilities = ["read", "sudo"]
}

path "sys/audit/file" {
  capabilities = ["create", "update", "sudo"]
  allowed_parameters = {
    "type"        = ["file"]
    "description" = []
    "options"     = [{ "file_path" = "${audit_file_path}" }]
  }
}

path "sys/audit/syslog" {
  capabilities = ["create", "update", "sudo"]
  allowed_parameters = {
    "type"        = ["syslog"]
    "description" = []
    "options"     = [{ "facility" = "${syslog_facility}", "tag" = "${syslog_tag}" }]
  }
}

# AWS auth forwards each signed login to sts_endpoint: only this region's endpoint, no credentials or
# other endpoints.
path "auth/aws/config/client" {
  capabilities = ["create", "read", "update"]
  allowed_parameters = {
    "sts_endpoint"               = ["https://sts.${region}.amazonaws.com"]
    "sts_region"                 = ["${region}"]
    "iam_server_id_header_value" = []
  }
}

# Roles bind only the platform's policies: snapshot, rotation, platform-team and app-* (the applications'
# and the database ones), rendered from providers/vault_config.BINDABLE_POLICIES. A value with a comma is
# refused: Vault matches a comma-separated string as one value (before 1.21 only that way, since 1.21
# first), so "app-x,admin" would pass "app-*". The bootstrap sends a role's one policy as a plain string
# (before Vault 1.21 a list is matched as a whole and would not match any value here).
path "auth/aws/role/+" {
  capabilities = ["create", "read", "update", "delete"]
  allowed_parameters = {
    "*"              = []
    "token_policies" = ${bindable_policies}
    "policies"       = ${bindable_policies}
  }
  denied_parameters = {
    "token_policies" = ["*,*"]
    "policies"       = ["*,*"]
  }
}

# As above; and a role must keep requiring a secret ID, whose role ID the provisioner cannot set or read.
path "auth/approle/role/+" {
  capabilities = ["create", "read", "update", "delete"]
  allowed_parameters = {
    "*"              = []
    "token_policies" = ${bindable_policies}
    "policies"       = ${bindable_policies}
    "bind_secret_id" = [true]
  }
  denied_parameters = {
    "token_policies" = ["*,*"]
    "policies"       = ["*,*"]
    "role_id"        = []
  }
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

# Break-glass (providers/vault_break_glass.py): read to compare, never write. An exact path outranks the
# `auth/aws/role/+` grant above: rebinding the broker's role to another principal, or changing a
# break-glass token role, would let the provisioner mint itself a break-glass token.
path "auth/aws/role/break-glass-broker" {
  capabilities = ["read"]
}

path "auth/token/roles/break-glass" {
  capabilities = ["read"]
}

path "auth/token/roles/break-glass-drill" {
  capabilities = ["read"]
}

path "sys/policies/acl/break-glass-broker" {
  capabilities = ["read"]
}

path "sys/policies/acl/break-glass-drill" {
  capabilities = ["read"]
}
