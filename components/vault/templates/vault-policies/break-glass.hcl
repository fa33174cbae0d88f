# break-glass: emergency administration when the normal paths are broken. Carried only by tokens the
# break-glass broker mints from the `break-glass` token role after a justified request and two approvals
# (orphan, not renewable, explicit max TTL = the configured limit, revoked by accessor when the window
# ends). Full control except the raw storage view and anything that would outlive the token: it creates no
# token (a child or orphan would survive its revocation, or be renewable) and cannot change the
# break-glass token roles or policies. Leases it obtains are revoked with it.
# Not closed by a policy: an admin-level token can still create durable configuration (an auth role bound
# to a policy it writes); the audit log's saved query ties every request it made to the activation.

path "*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
}

path "sys/raw" {
  capabilities = ["deny"]
}

path "sys/raw/*" {
  capabilities = ["deny"]
}

path "auth/token/create" {
  capabilities = ["deny"]
}

path "auth/token/create/*" {
  capabilities = ["deny"]
}

path "auth/token/create-orphan" {
  capabilities = ["deny"]
}

path "auth/token/roles/*" {
  capabilities = ["deny"]
}

path "sys/policies/acl/break-glass" {
  capabilities = ["deny"]
}

path "sys/policies/acl/break-glass-broker" {
  capabilities = ["deny"]
}

path "auth/aws/role/break-glass-broker" {
  capabilities = ["deny"]
}
