# snapshot: the hourly snapshot timer on the leader (AWS auth role "snapshot", bound to the node role).
# It may read a raft snapshot and nothing else; its tokens carry no default policy.

path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}
