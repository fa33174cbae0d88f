# Applications that only read the platform database: short-lived PostgreSQL logins (1 h, renewable to 24 h)
# that are members of app_readonly. Vault's default policy lets the token renew the lease.
path "database/creds/app-readonly" {
  capabilities = ["read"]
}
