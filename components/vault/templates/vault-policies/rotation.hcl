# rotation: the rotation functions (AWS auth role "rotation") read and write the catalog's values in
# KV v2 under secret/candlefish/, with check-and-set, read their metadata and merge their own keys into
# its custom metadata with PATCH (never a POST, which would replace the owners' metadata). Nothing else.

path "secret/data/candlefish/*" {
  capabilities = ["create", "read", "update"]
}

path "secret/metadata/candlefish/*" {
  capabilities = ["read", "list", "patch"]
}
