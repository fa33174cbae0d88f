#!/usr/bin/env bash
# Write this node's TLS bundle (certificate, key, CA) from Secrets Manager into the TLS directory.
# Run as root by vault.service before every start and on reload (rendered by components/userdata.py).
set -euo pipefail
umask 077

readonly SECRET_ID="{{ tls_secret_arn }}"
readonly REGION="{{ region }}"
readonly TLS_DIR="{{ tls_dir }}"

install -d -o root -g vault -m 0750 "${TLS_DIR}"
BUNDLE=$(mktemp -p "${TLS_DIR}" .bundle.XXXXXX)
readonly BUNDLE
trap 'rm -f "${BUNDLE}"' EXIT
aws secretsmanager get-secret-value --region "${REGION}" --secret-id "${SECRET_ID}" \
  --query SecretString --output text >"${BUNDLE}"

# Replace each file atomically, so a reload never sees half a certificate.
write_field() {
  local field=$1 file=$2 mode=$3 staged
  staged=$(mktemp -p "${TLS_DIR}" ".${file}.XXXXXX")
  jq -er --arg field "${field}" '.[$field]' "${BUNDLE}" >"${staged}"
  chown root:vault "${staged}"
  chmod "${mode}" "${staged}"
  mv -f "${staged}" "${TLS_DIR}/${file}"
}

write_field certificate vault.pem 0644
write_field ca_certificate ca.pem 0644
write_field private_key vault-key.pem 0640
