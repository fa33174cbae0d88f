"""A Vault node's user-data, rendered from the files in components/vault/templates/ by plain functions.

The user-data is a cloud-config document (written as JSON, which YAML parsers read as-is) whose
`write_files` carry vault.hcl, the systemd units, the CloudWatch agent configuration and the scripts,
and whose `runcmd` runs the install script once. It is gzipped, as cloud-init accepts, to stay far below
EC2's 16 KB user-data limit, and base64-encoded for the launch template.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# EC2 rejects user-data larger than this (before base64 encoding).
USER_DATA_LIMIT = 16 * 1024

# HashiCorp's release-signing key (https://www.hashicorp.com/security); the install script refuses any other.
HASHICORP_KEY_FINGERPRINT = "C874011F0AB405110D02105534365D9472D7468F"
# Launch-template device names of the extra volumes, and where they are mounted.
DATA_DEVICE = "/dev/sdf"
AUDIT_DEVICE = "/dev/sdg"
DATA_DIR = "/opt/vault/data"
AUDIT_DIR = "/var/log/vault-audit"
# The file audit device the bootstrap enables writes here, on the audit volume.
AUDIT_LOG_PATH = f"{AUDIT_DIR}/audit.log"
TLS_DIR = "/opt/vault/tls"
# Amazon RDS's CA bundle, fetched at first boot, for the database engine's verify-full connections.
RDS_CA_BUNDLE = f"{TLS_DIR}/rds-global-bundle.pem"
# Vault telemetry published to CloudWatch (statsd names; everything else is filtered out by Vault).
METRIC_PREFIXES = (
    "vault.audit",
    "vault.autopilot",
    "vault.core.active",
    "vault.core.handle_login_request",
    "vault.core.handle_request",
    "vault.core.unsealed",
    "vault.expire.num_leases",
    "vault.raft",
)


class TemplateError(ValueError):
    """A template names a value that was not given."""


def render(template: str, values: Mapping[str, str]) -> str:
    """The template file with every `{{ name }}` replaced; a missing value is an error, not a blank."""
    text = (TEMPLATES / template).read_text()
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise TemplateError(f"{template} needs {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


@dataclass(frozen=True)
class NodeSettings:
    """Everything a node's files are rendered from, as plain strings (deploy-time values resolved)."""

    cluster_name: str
    region: str
    vault_version: str
    server_name: str
    join_tag_key: str
    join_tag_value: str
    unseal_key_arn: str
    tls_secret_arn: str
    data_key_arn: str
    snapshot_bucket: str
    snapshot_prefix: str
    server_log_group: str
    audit_log_group: str
    metrics_namespace: str
    load_balancer_cidrs: str
    dev_mode: bool = False

    def values(self) -> dict[str, str]:
        values = {key: str(value) for key, value in asdict(self).items() if key != "dev_mode"}
        values.update(
            hashicorp_key_fingerprint=HASHICORP_KEY_FINGERPRINT,
            data_device="" if self.dev_mode else DATA_DEVICE,
            data_dir=DATA_DIR,
            audit_device=AUDIT_DEVICE,
            audit_dir=AUDIT_DIR,
            tls_dir=TLS_DIR,
            rds_ca_bundle=RDS_CA_BUNDLE,
            snapshots_enabled="false" if self.dev_mode else "true",
            metric_prefix_filter=", ".join(f'"+{prefix}"' for prefix in METRIC_PREFIXES),
        )
        return values


def vault_config(settings: NodeSettings) -> str:
    """vault.hcl with the per-node placeholders (instance id, private IP, zone) still to be filled at boot:
    the mode's own part (raft storage and joining, or dev mode's memory) and then what every node shares."""
    values = settings.values()
    own = render("vault-dev.hcl" if settings.dev_mode else "vault.hcl", values)
    return own + render("vault-common.hcl", values)


def boot_values(instance_id: str, private_ip: str) -> dict[str, str]:
    """What the install script substitutes into vault.hcl at boot (for tests of the rendered config)."""
    return {"__INSTANCE_ID__": instance_id, "__PRIVATE_IP__": private_ip}


def cloudwatch_agent_config(settings: NodeSettings) -> str:
    return render("cloudwatch-agent.json", settings.values())


@dataclass(frozen=True)
class NodeFile:
    """One file cloud-init writes."""

    path: str
    template: str
    permissions: str = "0644"


SCRIPT = "0750"
FILES = (
    NodeFile("/usr/local/sbin/vault-install", "vault-install.sh", SCRIPT),
    NodeFile("/usr/local/sbin/vault-fetch-tls", "vault-fetch-tls.sh", SCRIPT),
    NodeFile("/etc/systemd/system/vault.service", "vault.service"),
    NodeFile("/etc/vault.d/cloudwatch-agent.json", "cloudwatch-agent.json", "0640"),
    NodeFile("/etc/logrotate.d/vault-audit", "vault-audit.logrotate"),
    NodeFile("/etc/systemd/system/logrotate.timer.d/hourly.conf", "logrotate-hourly.conf"),
)
SNAPSHOT_FILES = (
    NodeFile("/usr/local/sbin/vault-snapshot", "vault-snapshot.sh", "0755"),
    NodeFile("/etc/systemd/system/vault-snapshot.service", "vault-snapshot.service"),
    NodeFile("/etc/systemd/system/vault-snapshot.timer", "vault-snapshot.timer"),
    NodeFile("/usr/local/sbin/vault-audit-heartbeat", "vault-audit-heartbeat.sh", "0755"),
    NodeFile("/etc/systemd/system/vault-audit-heartbeat.service", "vault-audit-heartbeat.service"),
    NodeFile("/etc/systemd/system/vault-audit-heartbeat.timer", "vault-audit-heartbeat.timer"),
)
VAULT_CONFIG_TEMPLATE = "/etc/vault.d/vault.hcl.template"


def node_files(settings: NodeSettings) -> dict[str, tuple[str, str]]:
    """Path → (content, permissions) of every file a node gets; dev mode takes no snapshots."""
    values = settings.values()
    files = {
        VAULT_CONFIG_TEMPLATE: (vault_config(settings), "0640"),
    }
    for item in FILES + (() if settings.dev_mode else SNAPSHOT_FILES):
        files[item.path] = (render(item.template, values), item.permissions)
    return files


def cloud_config(settings: NodeSettings) -> str:
    """The cloud-config document: write the files, then run the install script."""
    document = {
        "write_files": [
            {"path": path, "content": content, "permissions": permissions, "owner": "root:root"}
            for path, (content, permissions) in node_files(settings).items()
        ],
        "runcmd": [["/usr/local/sbin/vault-install"]],
    }
    return "#cloud-config\n" + json.dumps(document, indent=1) + "\n"


def user_data(settings: NodeSettings) -> str:
    """The launch template's user-data: the cloud-config gzipped, then base64-encoded."""
    packed = gzip.compress(cloud_config(settings).encode(), mtime=0)
    if len(packed) > USER_DATA_LIMIT:
        raise ValueError(f"user-data is {len(packed)} bytes; EC2 accepts at most {USER_DATA_LIMIT}")
    return base64.b64encode(packed).decode()


def decode_user_data(encoded: str) -> str:
    """The cloud-config text inside user-data made by `user_data` (for tests and debugging)."""
    return gzip.decompress(base64.b64decode(encoded)).decode()
