# DEV MODE: a single Vault server of {{ cluster_name }} keeping everything in memory (rendered by
# components/userdata.py). Every secret is lost when the process stops. Never for real secrets.
# __PRIVATE_IP__ is filled in at boot from IMDSv2.

ui            = true
cluster_name  = "{{ cluster_name }}"
disable_mlock = true
api_addr      = "https://__PRIVATE_IP__:8200"

log_level            = "debug"
log_file             = "/var/log/vault/vault.log"
log_rotate_bytes     = 104857600
log_rotate_max_files = 10

storage "inmem" {}

seal "awskms" {
  region     = "{{ region }}"
  kms_key_id = "{{ unseal_key_arn }}"
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "{{ tls_dir }}/vault.pem"
  tls_key_file    = "{{ tls_dir }}/vault-key.pem"
  tls_min_version = "tls12"

  x_forwarded_for_authorized_addrs      = "{{ load_balancer_cidrs }}"
  x_forwarded_for_reject_not_authorized = false
  x_forwarded_for_reject_not_present    = false
}

telemetry {
  dogstatsd_addr            = "127.0.0.1:8125"
  dogstatsd_tags            = ["vault_cluster:{{ cluster_name }}"]
  disable_hostname          = true
  prometheus_retention_time = "24h"
  filter_default            = false
  prefix_filter             = [{{ metric_prefix_filter }}]
}
