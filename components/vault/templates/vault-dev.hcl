# DEV MODE: a single Vault server of {{ cluster_name }} keeping everything in memory (rendered by
# components/userdata.py, followed by vault-common.hcl). Every secret is lost when the process stops.
# Never for real secrets. __PRIVATE_IP__ is filled in at boot from IMDSv2.

log_level = "debug"

storage "inmem" {}
