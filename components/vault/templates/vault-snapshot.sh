#!/usr/bin/env bash
# Take a raft snapshot on the leader and upload it to the backup bucket with SSE-KMS; on any other node,
# do nothing. Run hourly by vault-snapshot.timer as the vault user (rendered by components/vault/userdata.py).
# The token comes from Vault's AWS auth method, role "snapshot", whose policy may only write the snapshot
# canary, read sys/storage/raft/snapshot and revoke the token itself (auth/token/revoke-self); it is never
# written to disk and is revoked when the script ends (if that fails, it expires 15 minutes after login).
# The object carries user metadata tools.restore checks: `sha256` (of the whole file, as sha256sum prints
# it: S3's own checksum of a multipart upload is a checksum of the parts' checksums), `unseal-key-arn` and
# `canary` (the value written to secret/canary/snapshot just before the snapshot). Success publishes
# RaftSnapshotSucceeded, which the snapshot-stale alarm watches.
set -euo pipefail
umask 077

readonly REGION="{{ region }}"
readonly BUCKET="{{ snapshot_bucket }}"
readonly PREFIX="{{ snapshot_prefix }}"
readonly KMS_KEY_ARN="{{ data_key_arn }}"
readonly UNSEAL_KEY_ARN="{{ unseal_key_arn }}"
readonly METRICS_NAMESPACE="{{ metrics_namespace }}"
readonly CLUSTER_NAME="{{ cluster_name }}"
readonly SERVER_NAME="{{ server_name }}"
# Sign the AWS-auth login for the regional STS endpoint: Vault forwards it to that endpoint (sts_endpoint).
export AWS_STS_REGIONAL_ENDPOINTS=regional
export VAULT_ADDR="https://127.0.0.1:8200"
export VAULT_CACERT="{{ tls_dir }}/ca.pem"

log() { printf 'vault-snapshot: %s\n' "$*" >&2; }

if ! curl -fsS --cacert "${VAULT_CACERT}" "${VAULT_ADDR}/v1/sys/leader" | jq -e '.is_self == true' >/dev/null; then
  log "this node is not the raft leader; nothing to do"
  exit 0
fi

SNAPSHOT_DIR=$(mktemp -d)
readonly SNAPSHOT_DIR
cleanup() {
  rm -rf "${SNAPSHOT_DIR}"
  if [ -n "${VAULT_TOKEN:-}" ]; then
    vault token revoke -self >/dev/null 2>&1 || log "could not revoke the snapshot token; it expires on its own"
  fi
}
trap cleanup EXIT

VAULT_TOKEN=$(vault login -method=aws -no-store -token-only role=snapshot region="${REGION}" \
  header_value="${SERVER_NAME}")
export VAULT_TOKEN

stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="${SNAPSHOT_DIR}/${stamp}.snap"
# The canary goes in first, so the snapshot holds exactly this value (JSON on stdin: no value in argv).
printf '{"data":{"value":"%s"}}' "${stamp}" | vault write secret/data/canary/snapshot - >/dev/null
vault operator raft snapshot save "${file}"
# Refuse to upload a damaged archive: the gzip stream must be complete and the tar readable.
gzip -t "${file}"
tar -tzf "${file}" >/dev/null
digest=$(sha256sum "${file}" | cut -d' ' -f1)
key="${PREFIX}$(date -u +%Y/%m/%d)/${stamp}.snap"
aws s3 cp "${file}" "s3://${BUCKET}/${key}" --region "${REGION}" --only-show-errors \
  --sse aws:kms --sse-kms-key-id "${KMS_KEY_ARN}" \
  --metadata "sha256=${digest},unseal-key-arn=${UNSEAL_KEY_ARN},canary=${stamp}"
log "uploaded s3://${BUCKET}/${key} (sha256 ${digest})"
aws cloudwatch put-metric-data --region "${REGION}" --namespace "${METRICS_NAMESPACE}" \
  --metric-name RaftSnapshotSucceeded --dimensions "vault_cluster=${CLUSTER_NAME}" --value 1 --unit Count
