# snapshot: the hourly snapshot timer on the leader (AWS auth role "snapshot", bound to the node role).
# It may read a raft snapshot and revoke its own token when done, nothing else; its tokens carry no
# default policy, so revoking itself is granted here.

path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}
