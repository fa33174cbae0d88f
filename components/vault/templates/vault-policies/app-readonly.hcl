# app-readonly: one application's read access to one KV v2 path prefix.
# Rendered once per path the application owns (${app_path} is replaced by that path, e.g.
# "candlefish/payments"); an application's policy is the concatenation of its rendered blocks.

path "secret/data/${app_path}/*" {
  capabilities = ["read"]
}

path "secret/metadata/${app_path}/*" {
  capabilities = ["read", "list"]
}
