
# --- the same on every node, in raft and in dev mode ---

ui            = true
cluster_name  = "{{ cluster_name }}"
# Swap is off on the nodes; HashiCorp recommends disable_mlock with integrated storage.
disable_mlock = true
api_addr      = "https://__PRIVATE_IP__:8200"

log_file             = "/var/log/vault/vault.log"
log_rotate_bytes     = 104857600
log_rotate_max_files = 10

# Auto-unseal with the unseal key; credentials come from the instance profile, never from this file.
seal "awskms" {
  region     = "{{ region }}"
  kms_key_id = "{{ unseal_key_arn }}"
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_cert_file   = "{{ tls_dir }}/vault.pem"
  tls_key_file    = "{{ tls_dir }}/vault-key.pem"
  tls_min_version = "tls12"

  # Client addresses in the audit log come from the load balancer's X-Forwarded-For; requests without
  # the header (health checks, raft joins) are still served.
  x_forwarded_for_authorized_addrs      = "{{ load_balancer_cidrs }}"
  x_forwarded_for_reject_not_authorized = false
  x_forwarded_for_reject_not_present    = false
}

# Metrics go to the local CloudWatch agent's statsd listener; only the prefixes below are published.
telemetry {
  dogstatsd_addr            = "127.0.0.1:8125"
  dogstatsd_tags            = ["vault_cluster:{{ cluster_name }}"]
  disable_hostname          = true
  prometheus_retention_time = "24h"
  filter_default            = false
  prefix_filter             = [{{ metric_prefix_filter }}]
}
