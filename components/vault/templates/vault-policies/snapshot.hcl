# snapshot: the hourly snapshot timer on the leader (AWS auth role "snapshot", bound to the node role).
# It may write the snapshot canary (one KV path: tools.restore compares it after a restore), read a raft
# snapshot and revoke its own token when done, nothing else; its tokens carry no default policy, so
# revoking itself is granted here.

path "secret/data/canary/snapshot" {
  capabilities = ["create", "update"]
}

path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}
