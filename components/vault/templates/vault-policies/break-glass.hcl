# break-glass: emergency administration when the normal paths are broken. Attached only to a token
# minted after `vault operator generate-root` with the recovery shares from the break-glass secret, and
# revoked when the emergency is over. Full control except the raw storage view.

path "*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
}

path "sys/raw" {
  capabilities = ["deny"]
}

path "sys/raw/*" {
  capabilities = ["deny"]
}
