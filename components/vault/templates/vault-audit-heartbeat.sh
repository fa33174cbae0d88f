#!/usr/bin/env bash
# An audited request every few minutes, from the raft leader only, so that "no audit events for 15
# minutes" (the audit-log-gap alarm) means the audit pipeline broke, never that the platform was quiet.
# Logs in with the snapshot role over AWS auth and discards the token, which expires in 15 minutes
# (rendered by components/userdata.py, run by vault-audit-heartbeat.timer as the vault user).
set -euo pipefail
umask 077

readonly REGION="{{ region }}"
readonly SERVER_NAME="{{ server_name }}"
# Sign for the regional STS endpoint: Vault's AWS auth forwards the login there (sts_endpoint).
export AWS_STS_REGIONAL_ENDPOINTS=regional
export VAULT_ADDR="https://127.0.0.1:8200"
export VAULT_CACERT="{{ tls_dir }}/ca.pem"

if ! curl -fsS --cacert "${VAULT_CACERT}" "${VAULT_ADDR}/v1/sys/leader" | jq -e '.is_self == true' >/dev/null; then
  exit 0
fi
vault login -method=aws -no-store -token-only role=snapshot region="${REGION}" \
  header_value="${SERVER_NAME}" >/dev/null
