# Vault server configuration for a raft node of {{ cluster_name }} (rendered by components/vault/userdata.py,
# followed by vault-common.hcl). __INSTANCE_ID__ and __PRIVATE_IP__ are filled in
# at boot from IMDSv2.

log_level    = "info"
cluster_addr = "https://__PRIVATE_IP__:8201"

storage "raft" {
  path                      = "{{ data_dir }}"
  node_id                   = "__INSTANCE_ID__"
  performance_multiplier    = 1
  # No autopilot_redundancy_zone: redundancy zones are a Vault Enterprise feature, which the Community
  # build this stack installs does not accept.

  retry_join {
    auto_join             = "provider=aws region={{ region }} tag_key={{ join_tag_key }} tag_value={{ join_tag_value }} addr_type=private_v4"
    auto_join_scheme      = "https"
    auto_join_port        = 8200
    leader_tls_servername = "{{ server_name }}"
    leader_ca_cert_file   = "{{ tls_dir }}/ca.pem"
  }
}
