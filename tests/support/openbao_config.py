"""A test cluster node's configuration: the project's own vault.hcl + vault-common.hcl, changed only where a
process on a laptop is not an EC2 instance.

What changes, and why (each change must match exactly once, so a template edit that moves a stanza fails
here loudly instead of being silently left out):

- `retry_join { auto_join = "provider=aws ..." }` becomes one `retry_join { leader_api_addr = ... }` per
  other node: there are no EC2 tags to discover peers by.
- `seal "awskms"` becomes `seal "static"` (a 32-byte key file): no KMS here, and the static seal answers
  `sys/init` with recovery shares as awskms does.
- the listener's `0.0.0.0:8200/8201` and the addresses' `__PRIVATE_IP__:8200/8201` become
  `127.0.0.1:<free port>`: loopback only, several nodes on one host.
- `log_file` moves from /var/log/vault into the node's directory.
- added to the raft stanza: `autopilot_reconcile_interval = "1s"` and `autopilot_update_interval = "1s"`
  (OpenBao's defaults are 10 s and 2 s): a joined node is promoted to voter within a second of its
  stabilization time rather than up to ten, which is most of the wait for a fresh 3-node cluster. The
  stabilization time itself (10 s, or 1 s where `OpenBaoCluster.initialize` shortens it) is unchanged.
- added: `unsafe_allow_api_audit_creation = true` (OpenBao refuses audit devices over the API without it,
  and the bootstrap enables them over the API) and `disable_standby_reads = true` (standbys forward every
  request to the leader, as HashiCorp Vault's open-source edition does).

Everything else (raft path and node id, performance multiplier, TLS files and minimum
version, the CA for joining, X-Forwarded-For settings, telemetry filters) is the template as rendered.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from components.vault import userdata

if TYPE_CHECKING:
    from tests.support.openbao import OpenBaoCluster, OpenBaoNode

SEAL_KEY_ID = "candlefish-test-1"
AUTOPILOT_INTERVALS = '  autopilot_reconcile_interval = "1s"\n  autopilot_update_interval    = "1s"\n'


class TemplateDrift(AssertionError):
    """The project's vault.hcl no longer has a stanza the test rendering replaces."""


def _replace_once(text: str, what: str, pattern: str, replacement: str) -> str:
    result, count = re.subn(pattern, lambda _: replacement, text)
    if count != 1:
        raise TemplateDrift(
            f"the rendered vault.hcl has {count} of `{what}`, the test cluster replaces exactly one: update "
            "tests/support/openbao_config.py with the template"
        )
    return result


def _swap(text: str, literal: str, replacement: str) -> str:
    return _replace_once(text, literal, re.escape(literal), replacement)


def _block(opening: str) -> str:
    """A regex for an HCL block starting with `opening` whose body holds no nested block."""
    return re.escape(opening) + r"\s*\{[^{}]*\}"


def node_settings(cluster_name: str) -> userdata.NodeSettings:
    """Deploy-time values for the template (only the ones vault.hcl reads matter to OpenBao)."""
    return userdata.NodeSettings(
        cluster_name=cluster_name,
        region="us-east-1",
        vault_version="2.7.2",
        server_name="localhost",
        join_tag_key="VaultCluster",
        join_tag_value=cluster_name,
        unseal_key_arn="arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000",
        tls_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:example-not-a-secret",
        data_key_arn="arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000001",
        snapshot_bucket="example-snapshots",
        snapshot_prefix="raft-snapshots/",
        server_log_group="/candlefish/test/vault/server",
        audit_log_group="/candlefish/test/vault/audit",
        metrics_namespace="Candlefish/Vault",
        load_balancer_cidrs="127.0.0.1/32",
    )


def node_config(cluster: OpenBaoCluster, node: OpenBaoNode) -> str:
    """The rendered configuration for `node` of `cluster`."""
    values = node_settings(cluster.name).values()
    values.update(data_dir=str(node.directory / "raft"), tls_dir=str(cluster.certificates.ca_cert.parent))
    text = userdata.render("vault.hcl", values) + userdata.render("vault-common.hcl", values)
    for placeholder, value in userdata.boot_values(node.node_id, "127.0.0.1").items():
        text = text.replace(placeholder, value)

    peers = [other for other in cluster.nodes if other is not node]
    joins = "\n\n".join(
        "  retry_join {\n"
        f'    leader_api_addr       = "{peer.addr}"\n'
        f'    leader_tls_servername = "{values["server_name"]}"\n'
        f'    leader_ca_cert_file   = "{cluster.certificates.ca_cert}"\n'
        "  }"
        for peer in peers
    )
    text = _replace_once(text, "retry_join { ... }", r"  " + _block("retry_join"), joins)
    static_seal = (
        'seal "static" {\n'
        f'  current_key_id = "{SEAL_KEY_ID}"\n'
        f'  current_key    = "file://{cluster.seal_key_path}"\n'
        "}"
    )
    text = _replace_once(text, 'seal "awskms" { ... }', _block('seal "awskms"'), static_seal)
    multiplier = "  performance_multiplier    = 1\n"
    text = _swap(text, multiplier, multiplier + AUTOPILOT_INTERVALS)
    text = _swap(text, '"0.0.0.0:8200"', f'"127.0.0.1:{node.api_port}"')
    text = _swap(text, '"0.0.0.0:8201"', f'"127.0.0.1:{node.cluster_port}"')
    text = _swap(text, '"https://127.0.0.1:8200"', f'"https://127.0.0.1:{node.api_port}"')
    text = _swap(text, '"https://127.0.0.1:8201"', f'"https://127.0.0.1:{node.cluster_port}"')
    text = _swap(text, '"/var/log/vault/vault.log"', f'"{node.directory / "vault.log"}"')
    return (
        text
        + "\n# --- test cluster only (tests/support/openbao_config.py) ---\n"
        + "unsafe_allow_api_audit_creation = true\n"
        + "disable_standby_reads           = true\n"
    )
