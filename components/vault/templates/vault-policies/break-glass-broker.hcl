# break-glass-broker: the break-glass broker Lambda's Vault login (AWS IAM auth role break-glass-broker,
# 15 minutes at most, revoked by the broker when it is done). It may mint tokens from the two break-glass
# token roles, and only response-wrapped (min_wrapping_ttl makes wrapping mandatory), look tokens up and
# revoke them by accessor, hash an accessor as the audit log does, and revoke its own token. It reads no
# secret and creates no other token.
# Vault cannot narrow revoke-accessor to the break-glass tokens: the broker could revoke any token whose
# accessor it knows (a denial of service, never an escalation).

path "auth/token/create/break-glass" {
  capabilities     = ["update"]
  min_wrapping_ttl = "30s"
  max_wrapping_ttl = "5m"
}

path "auth/token/create/break-glass-drill" {
  capabilities     = ["update"]
  min_wrapping_ttl = "30s"
  max_wrapping_ttl = "5m"
}

path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}

path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# The minted token's accessor as the file audit device writes it, recorded with the activation so that
# the audit log's requests made with the token can be found.
path "sys/audit-hash/file" {
  capabilities = ["update"]
}
