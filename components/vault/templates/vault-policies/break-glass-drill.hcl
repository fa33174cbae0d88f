# break-glass-drill: what a drill token carries (token role break-glass-drill). It can prove that it works
# and what it is, and nothing else: the drill exercises the whole break-glass procedure without granting
# access to anything.

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
