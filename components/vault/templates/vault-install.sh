#!/usr/bin/env bash
# First-boot setup of a Vault node, run once by cloud-init (rendered by components/userdata.py):
# harden the host, install the pinned Vault release after verifying HashiCorp's signature and the
# checksum, mount the encrypted data and audit volumes, fill in this node's settings, start services.
set -euo pipefail
umask 027

readonly VAULT_VERSION="{{ vault_version }}"
readonly HASHICORP_KEY_FINGERPRINT="{{ hashicorp_key_fingerprint }}"
readonly HASHICORP_KEY_URL="https://www.hashicorp.com/.well-known/pgp-key.txt"
readonly RELEASES_URL="https://releases.hashicorp.com/vault/${VAULT_VERSION}"
readonly DATA_DEVICE="{{ data_device }}"
readonly DATA_DIR="{{ data_dir }}"
readonly AUDIT_DEVICE="{{ audit_device }}"
readonly AUDIT_DIR="{{ audit_dir }}"
readonly TLS_DIR="{{ tls_dir }}"
# Amazon RDS's CA bundle, for Vault's database engine to verify PostgreSQL's certificate (verify-full).
readonly RDS_CA_BUNDLE_URL="https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
readonly RDS_CA_BUNDLE="{{ rds_ca_bundle }}"
readonly SNAPSHOTS="{{ snapshots_enabled }}"
WORK_DIR=$(mktemp -d)
readonly WORK_DIR
trap 'rm -rf "${WORK_DIR}"' EXIT

log() { printf 'vault-install: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Instance metadata through IMDSv2 only: a session token first, then the value.
imds() {
  local token
  token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
    "http://169.254.169.254/latest/api/token")
  curl -fsS -H "X-aws-ec2-metadata-token: ${token}" "http://169.254.169.254/latest/meta-data/$1"
}

# No swap (secrets must not reach disk) and no core dumps (they would hold key material).
harden_host() {
  swapoff -a
  sed -i '/[[:space:]]swap[[:space:]]/d' /etc/fstab
  printf 'kernel.core_pattern = |/bin/false\nfs.suid_dumpable = 0\n' >/etc/sysctl.d/90-vault.conf
  sysctl --quiet --system
  printf '* hard core 0\n* soft core 0\n' >/etc/security/limits.d/90-no-core-dumps.conf
  mkdir -p /etc/systemd/coredump.conf.d
  printf '[Coredump]\nStorage=none\nProcessSizeMax=0\n' >/etc/systemd/coredump.conf.d/90-vault.conf
}

install_packages() {
  dnf install -y -q amazon-cloudwatch-agent jq nvme-cli unzip logrotate
}

install_vault() {
  local arch zip sums signer
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "unsupported architecture $(uname -m)" ;;
  esac
  zip="vault_${VAULT_VERSION}_linux_${arch}.zip"
  sums="vault_${VAULT_VERSION}_SHA256SUMS"
  for file in "${zip}" "${sums}" "${sums}.sig"; do
    curl -fsSL --retry 5 --retry-connrefused -o "${WORK_DIR}/${file}" "${RELEASES_URL}/${file}"
  done
  curl -fsSL --retry 5 --retry-connrefused -o "${WORK_DIR}/hashicorp.asc" "${HASHICORP_KEY_URL}"

  # Trust the checksums only if HashiCorp's key, identified by its pinned fingerprint, signed them.
  export GNUPGHOME="${WORK_DIR}/gnupg"
  install -d -m 0700 "${GNUPGHOME}"
  gpg --batch --quiet --import "${WORK_DIR}/hashicorp.asc"
  gpg --batch --with-colons --fingerprint | grep -q "^fpr:*:${HASHICORP_KEY_FINGERPRINT}:" \
    || die "the downloaded HashiCorp key is not ${HASHICORP_KEY_FINGERPRINT}"
  # A good signature by any key in the downloaded file is not enough: the signer's primary key must be
  # the pinned one (VALIDSIG's last field is the primary key's fingerprint).
  signer=$(gpg --batch --status-fd 1 --verify "${WORK_DIR}/${sums}.sig" "${WORK_DIR}/${sums}" 2>/dev/null \
    | awk '$2 == "VALIDSIG" { print $NF }') || true
  [ "${signer}" = "${HASHICORP_KEY_FINGERPRINT}" ] \
    || die "SHA256SUMS is not validly signed by ${HASHICORP_KEY_FINGERPRINT} (signer: ${signer:-none})"
  (cd "${WORK_DIR}" && grep -E "[[:space:]]${zip}\$" "${sums}" | sha256sum --check --strict --quiet) \
    || die "${zip} does not match its published checksum"

  unzip -o -q "${WORK_DIR}/${zip}" vault -d /usr/bin
  chmod 0755 /usr/bin/vault
  /usr/bin/vault version
}

create_user() {
  if ! id vault >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /etc/vault.d --no-create-home --shell /sbin/nologin vault
  fi
}

# EBS volumes show up as NVMe devices on Nitro instances, in no fixed order. The device name given in
# the launch template (e.g. /dev/sdf) is kept in the controller's vendor-specific data, which
# ebsnvme-id (amazon-ec2-utils) or nvme-cli read; Xen instances still expose /dev/sdf or /dev/xvdf.
ebs_device_name() {
  local name
  if command -v ebsnvme-id >/dev/null 2>&1; then
    name=$(ebsnvme-id --block-dev "$1" 2>/dev/null) || return 1
  else
    name=$(nvme id-ctrl --raw-binary "$1" 2>/dev/null | dd bs=1 skip=3072 count=32 status=none \
      | tr -d '\0 ') || return 1
  fi
  name=${name#/dev/}
  printf '%s\n' "${name/#xvd/sd}"
}

block_device_for() {
  local wanted=${1#/dev/} candidate attempt
  for attempt in $(seq 1 90); do
    for candidate in /dev/nvme*n1; do
      [ -b "${candidate}" ] || continue
      if [ "$(ebs_device_name "${candidate}" || true)" = "${wanted}" ]; then
        printf '%s\n' "${candidate}"
        return 0
      fi
    done
    for candidate in "/dev/${wanted}" "/dev/xvd${wanted#sd}"; do
      if [ -b "${candidate}" ]; then
        readlink -f "${candidate}"
        return 0
      fi
    done
    log "waiting for ${wanted} (attempt ${attempt})"
    sleep 2
  done
  return 1
}

mount_volume() {
  local device target=$2 label=$3 uuid
  device=$(block_device_for "$1") || die "no block device attached as $1"
  if [ -z "$(blkid -o value -s TYPE "${device}" || true)" ]; then
    mkfs.xfs -q -L "${label}" "${device}"
  fi
  uuid=$(blkid -o value -s UUID "${device}")
  install -d -m 0750 "${target}"
  printf 'UUID=%s %s xfs defaults,nofail,noatime,nodev,nosuid,noexec 0 2\n' "${uuid}" "${target}" >>/etc/fstab
  mount "${target}"
  chown vault:vault "${target}"
  chmod 0750 "${target}"
}

configure_vault() {
  local instance_id private_ip
  instance_id=$(imds instance-id)
  private_ip=$(imds local-ipv4)
  sed -e "s/__INSTANCE_ID__/${instance_id}/g" \
      -e "s/__PRIVATE_IP__/${private_ip}/g" \
      /etc/vault.d/vault.hcl.template >/etc/vault.d/vault.hcl
  chown root:vault /etc/vault.d /etc/vault.d/vault.hcl
  chmod 0750 /etc/vault.d
  chmod 0640 /etc/vault.d/vault.hcl
  install -d -o vault -g vault -m 0750 /var/log/vault
  install -d -o root -g vault -m 0750 "${TLS_DIR}"
}

install_rds_ca_bundle() {
  local staged
  staged=$(mktemp -p "${TLS_DIR}" .rds-bundle.XXXXXX)
  curl -fsSL --proto '=https' --retry 5 --retry-connrefused -o "${staged}" "${RDS_CA_BUNDLE_URL}"
  # Refuse anything that is not a list of certificates (a captive portal page, an error body).
  openssl crl2pkcs7 -nocrl -certfile "${staged}" | openssl pkcs7 -print_certs -noout >/dev/null \
    || die "${RDS_CA_BUNDLE_URL} did not return PEM certificates"
  chown root:vault "${staged}"
  chmod 0644 "${staged}"
  mv -f "${staged}" "${RDS_CA_BUNDLE}"
}

start_services() {
  systemctl daemon-reload
  systemctl enable --now vault.service
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
    -c file:/etc/vault.d/cloudwatch-agent.json
  systemctl restart logrotate.timer
  if [ "${SNAPSHOTS}" = "true" ]; then
    systemctl enable --now vault-snapshot.timer vault-audit-heartbeat.timer
  fi
}

main() {
  harden_host
  install_packages
  install_vault
  create_user
  if [ -n "${DATA_DEVICE}" ]; then
    mount_volume "${DATA_DEVICE}" "${DATA_DIR}" vault-data
  fi
  mount_volume "${AUDIT_DEVICE}" "${AUDIT_DIR}" vault-audit
  configure_vault
  install_rds_ca_bundle
  start_services
  log "Vault ${VAULT_VERSION} is running"
}

main "$@"
