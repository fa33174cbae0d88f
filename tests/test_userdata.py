"""A Vault node's user-data, rendered from components/vault/templates/ by plain functions (no Pulumi here)."""

import base64
import json
import re

import hcl2
import pytest
import yaml
from hcl2 import SerializationOptions

from components.vault import userdata
from components.vault.userdata import NodeSettings, TemplateError
from tests.support.shell_lint import shellcheck

SETTINGS = NodeSettings(
    cluster_name="candlefish-test",
    region="us-east-1",
    vault_version="1.15.0",
    server_name="vault.test.candlefish.internal",
    join_tag_key="VaultCluster",
    join_tag_value="candlefish-test",
    unseal_key_arn="arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    tls_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/test/vault/tls-AbCdEf",
    data_key_arn="arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000",
    snapshot_bucket="candlefish-test-snapshots-123456789012",
    snapshot_prefix="raft-snapshots/",
    server_log_group="/candlefish/test/vault/server",
    audit_log_group="/candlefish/test/vault/audit",
    metrics_namespace="Candlefish/Vault",
    load_balancer_cidrs="10.0.1.0/24,10.0.2.0/24",
)
DEV = NodeSettings(**{**SETTINGS.__dict__, "dev_mode": True})
PLAIN = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


def parse_hcl(text):
    return hcl2.loads(text, serialization_options=PLAIN)


def booted(text):
    """vault.hcl as the install script leaves it on a node."""
    for placeholder, value in userdata.boot_values("i-0abc123def4567890", "10.0.2.15").items():
        text = text.replace(placeholder, value)
    return text


@pytest.fixture(scope="module")
def config():
    return parse_hcl(booted(userdata.vault_config(SETTINGS)))


def block(parsed, kind, label):
    (found,) = [item[label] for item in parsed[kind] if label in item]
    return found


def test_vault_hcl_uses_raft_on_the_data_volume_with_the_instance_as_node_id(config):
    raft = block(config, "storage", "raft")
    assert raft["path"] == userdata.DATA_DIR
    assert raft["node_id"] == "i-0abc123def4567890"
    assert raft["performance_multiplier"] == 1
    # Redundancy zones are Vault Enterprise only; the Community build refuses the setting.
    assert "autopilot_redundancy_zone" not in raft


def test_raft_joins_peers_found_by_the_cluster_tag_over_verified_tls(config):
    (join,) = block(config, "storage", "raft")["retry_join"]
    assert join["auto_join"] == (
        "provider=aws region=us-east-1 tag_key=VaultCluster tag_value=candlefish-test addr_type=private_v4"
    )
    assert join["auto_join_scheme"] == "https"
    assert join["auto_join_port"] == 8200
    assert join["leader_tls_servername"] == "vault.test.candlefish.internal"
    assert join["leader_ca_cert_file"] == f"{userdata.TLS_DIR}/ca.pem"


def test_seal_is_awskms_with_the_unseal_key_and_no_credentials(config):
    seal = block(config, "seal", "awskms")
    assert seal == {"region": "us-east-1", "kms_key_id": SETTINGS.unseal_key_arn}


def test_listener_serves_tls_12_or_later_with_the_cluster_port_on_8201(config):
    listener = block(config, "listener", "tcp")
    assert listener["address"] == "0.0.0.0:8200"
    assert listener["cluster_address"] == "0.0.0.0:8201"
    assert listener["tls_cert_file"] == f"{userdata.TLS_DIR}/vault.pem"
    assert listener["tls_key_file"] == f"{userdata.TLS_DIR}/vault-key.pem"
    assert listener["tls_min_version"] == "tls12"
    assert "tls_disable" not in listener
    # Health checks and raft joins carry no X-Forwarded-For; they must not be refused for it.
    assert listener["x_forwarded_for_authorized_addrs"] == "10.0.1.0/24,10.0.2.0/24"
    assert listener["x_forwarded_for_reject_not_present"] is False


def test_addresses_come_from_the_nodes_private_ip(config):
    assert config["api_addr"] == "https://10.0.2.15:8200"
    assert config["cluster_addr"] == "https://10.0.2.15:8201"


def test_ui_on_mlock_off_and_logs_to_the_shipped_file(config):
    assert config["ui"] is True
    assert config["disable_mlock"] is True
    assert config["log_file"] == "/var/log/vault/vault.log"


def test_telemetry_feeds_the_agents_statsd_with_only_the_monitored_metrics(config):
    (telemetry,) = config["telemetry"]
    assert telemetry["dogstatsd_addr"] == "127.0.0.1:8125"
    assert telemetry["disable_hostname"] is True
    assert telemetry["prometheus_retention_time"] == "24h"
    assert telemetry["filter_default"] is False
    assert {"+vault.core.unsealed", "+vault.raft", "+vault.core.handle_request"} <= set(
        telemetry["prefix_filter"]
    )


def test_only_the_documented_placeholders_remain_for_boot():
    text = userdata.vault_config(SETTINGS)
    assert set(re.findall(r"__[A-Z_]+__", text)) == set(userdata.boot_values("i", "ip"))
    assert "{{" not in booted(text) and "__" not in booted(text)


def test_dev_mode_config_is_in_memory_single_node_and_says_so():
    text = userdata.vault_config(DEV)
    assert text.startswith("# DEV MODE")
    config = parse_hcl(booted(text))
    assert [next(iter(item)) for item in config["storage"]] == ["inmem"]
    assert "cluster_addr" not in config and "retry_join" not in text
    assert block(config, "seal", "awskms")["kms_key_id"] == SETTINGS.unseal_key_arn
    assert block(config, "listener", "tcp")["tls_min_version"] == "tls12"


def test_cloudwatch_agent_ships_both_logs_and_publishes_statsd_metrics():
    agent = json.loads(userdata.cloudwatch_agent_config(SETTINGS))
    collected = {
        item["log_group_name"]: item["file_path"]
        for item in agent["logs"]["logs_collected"]["files"]["collect_list"]
    }
    assert collected == {
        "/candlefish/test/vault/server": "/var/log/vault/vault*.log",
        "/candlefish/test/vault/audit": userdata.AUDIT_LOG_PATH,
    }
    assert all(
        item["log_stream_name"] == "{instance_id}"
        for item in agent["logs"]["logs_collected"]["files"]["collect_list"]
    )
    metrics = agent["metrics"]
    assert metrics["namespace"] == "Candlefish/Vault"
    statsd = metrics["metrics_collected"]["statsd"]
    assert statsd["service_address"] == "127.0.0.1:8125"
    assert statsd["metrics_aggregation_interval"] == 60
    assert metrics["append_dimensions"] == {"InstanceId": "${aws:InstanceId}"}


def unit(text: str) -> dict[str, list[str]]:
    """A systemd unit's directives (a key may repeat)."""
    directives: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            directives.setdefault(key, []).append(value)
    return directives


def test_vault_service_runs_unprivileged_and_sandboxed():
    service = unit(userdata.render("vault.service", SETTINGS.values()))
    expected = {
        "User": ["vault"],
        "Group": ["vault"],
        "ProtectSystem": ["full"],
        "ProtectHome": ["read-only"],
        "PrivateTmp": ["yes"],
        "PrivateDevices": ["yes"],
        "NoNewPrivileges": ["yes"],
        "CapabilityBoundingSet": ["CAP_SYSLOG CAP_IPC_LOCK"],
        "AmbientCapabilities": ["CAP_IPC_LOCK"],
        "LimitNOFILE": ["65536"],
        "LimitCORE": ["0"],
        "LimitMEMLOCK": ["infinity"],
        "ExecStart": ["/usr/bin/vault server -config=/etc/vault.d/vault.hcl"],
    }
    for key, value in expected.items():
        assert service[key] == value, key
    # The TLS bundle is fetched as root before each start and on reload, which then HUPs Vault.
    assert service["ExecStartPre"] == ["+/usr/local/sbin/vault-fetch-tls"]
    assert service["ExecReload"] == ["+/usr/local/sbin/vault-fetch-tls", "/bin/kill --signal HUP $MAINPID"]


def test_snapshots_run_hourly_as_vault_without_privileges():
    timer = unit(userdata.render("vault-snapshot.timer", SETTINGS.values()))
    assert timer["OnCalendar"] == ["hourly"]
    service = unit(userdata.render("vault-snapshot.service", SETTINGS.values()))
    assert service["User"] == ["vault"]
    assert service["CapabilityBoundingSet"] == [""]
    assert service["ProtectSystem"] == ["strict"]


def test_audit_log_rotation_signals_vault_to_reopen_it():
    text = userdata.render("vault-audit.logrotate", SETTINGS.values())
    assert text.splitlines()[2].startswith(userdata.AUDIT_LOG_PATH)
    assert "maxsize 1G" in text
    assert "systemctl kill --signal=HUP vault.service" in text


SCRIPTS = ("vault-install.sh", "vault-fetch-tls.sh", "vault-snapshot.sh")


@pytest.mark.parametrize("settings", [SETTINGS, DEV], ids=["cluster", "dev"])
def test_rendered_scripts_are_clean_under_shellcheck(tmp_path, settings):
    paths = []
    for script in SCRIPTS:
        paths.append(tmp_path / script)
        paths[-1].write_text(userdata.render(script, settings.values()))
    assert shellcheck(paths) == ""


def test_install_script_verifies_the_release_before_installing_it():
    script = userdata.render("vault-install.sh", SETTINGS.values())
    assert 'VAULT_VERSION="1.15.0"' in script
    assert f'HASHICORP_KEY_FINGERPRINT="{userdata.HASHICORP_KEY_FINGERPRINT}"' in script
    assert "https://releases.hashicorp.com/vault/${VAULT_VERSION}" in script
    fingerprint = script.index("--fingerprint")
    signature = script.index("gpg --batch --status-fd 1 --verify")
    # The signer's primary key must be the pinned one, not merely any key in the downloaded file.
    assert '[ "${signer}" = "${HASHICORP_KEY_FINGERPRINT}" ]' in script
    checksum = script.index("sha256sum --check --strict")
    unpack = script.index("unzip -o -q")
    assert fingerprint < signature < checksum < unpack
    for step in ("swapoff -a", "kernel.core_pattern", "useradd --system", "ebsnvme-id", "nvme id-ctrl"):
        assert step in script, step


def test_install_script_reads_node_facts_through_imdsv2_only():
    script = userdata.render("vault-install.sh", SETTINGS.values())
    assert "X-aws-ec2-metadata-token-ttl-seconds" in script
    assert script.count("169.254.169.254") == 2  # the token request and the token-carrying read


def test_dev_nodes_mount_no_data_volume_and_take_no_snapshots():
    values = DEV.values()
    assert values["data_device"] == ""
    assert values["snapshots_enabled"] == "false"
    assert not any(path.endswith(("vault-snapshot", ".timer")) for path in userdata.node_files(DEV))


def test_snapshot_script_runs_on_the_leader_only_with_the_snapshot_role():
    script = userdata.render("vault-snapshot.sh", SETTINGS.values())
    leader_check = script.index("/v1/sys/leader")
    login = script.index("vault login -method=aws -no-store -token-only role=snapshot")
    assert leader_check < login
    assert "vault operator raft snapshot save" in script
    assert "--sse aws:kms --sse-kms-key-id" in script
    assert 'PREFIX="raft-snapshots/"' in script
    assert "vault token revoke -self" in script


def test_cloud_config_writes_every_file_then_runs_the_installer():
    document = yaml.safe_load(userdata.cloud_config(SETTINGS))
    files = {item["path"]: item for item in document["write_files"]}
    assert set(files) == {
        "/etc/vault.d/vault.hcl.template",
        "/usr/local/sbin/vault-install",
        "/usr/local/sbin/vault-fetch-tls",
        "/usr/local/sbin/vault-snapshot",
        "/etc/systemd/system/vault.service",
        "/etc/systemd/system/vault-snapshot.service",
        "/etc/systemd/system/vault-snapshot.timer",
        "/usr/local/sbin/vault-audit-heartbeat",
        "/etc/systemd/system/vault-audit-heartbeat.service",
        "/etc/systemd/system/vault-audit-heartbeat.timer",
        "/etc/systemd/system/logrotate.timer.d/hourly.conf",
        "/etc/vault.d/cloudwatch-agent.json",
        "/etc/logrotate.d/vault-audit",
    }
    assert files["/usr/local/sbin/vault-install"]["permissions"] == "0750"
    assert document["runcmd"] == [["/usr/local/sbin/vault-install"]]
    assert userdata.cloud_config(SETTINGS).startswith("#cloud-config\n")


def test_user_data_is_gzipped_under_the_ec2_limit_and_round_trips():
    encoded = userdata.user_data(SETTINGS)
    assert len(userdata.decode_user_data(encoded)) > userdata.USER_DATA_LIMIT  # compression matters
    assert len(base64.b64decode(encoded)) < userdata.USER_DATA_LIMIT
    assert userdata.decode_user_data(encoded) == userdata.cloud_config(SETTINGS)


def test_a_missing_template_value_is_an_error_not_a_blank():
    with pytest.raises(TemplateError, match=r"vault\.hcl needs"):
        userdata.render("vault.hcl", {"region": "us-east-1"})


def test_every_template_is_used():
    used = {f.template for f in userdata.FILES + userdata.SNAPSHOT_FILES}
    used |= {"vault.hcl", "vault-dev.hcl", "vault-common.hcl"}
    assert {path.name for path in userdata.TEMPLATES.iterdir() if path.is_file()} == used


def test_the_leader_makes_an_audited_request_well_inside_the_audit_gap_window():
    """The audit-log-gap alarm pages after 15 minutes without audit events; a quiet platform must not."""
    files = userdata.node_files(SETTINGS)
    timer = files["/etc/systemd/system/vault-audit-heartbeat.timer"][0]
    assert "OnUnitActiveSec=5min" in timer
    script = files["/usr/local/sbin/vault-audit-heartbeat"][0]
    assert "vault login -method=aws" in script and ".is_self == true" in script
    assert "header_value=" in script and "AWS_STS_REGIONAL_ENDPOINTS=regional" in script
    assert "vault-audit-heartbeat.timer" in files["/usr/local/sbin/vault-install"][0]


def test_nodes_fetch_the_rds_ca_bundle_the_database_engine_verifies_with():
    install = userdata.node_files(SETTINGS)["/usr/local/sbin/vault-install"][0]
    assert "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" in install
    assert f'RDS_CA_BUNDLE="{userdata.RDS_CA_BUNDLE}"' in install
    assert "install_rds_ca_bundle\n  start_services" in install


def test_timers_never_start_a_stopped_vault_and_vault_keeps_retrying_at_boot():
    files = userdata.node_files(SETTINGS)
    for unit in ("vault-snapshot.service", "vault-audit-heartbeat.service"):
        text = files[f"/etc/systemd/system/{unit}"][0]
        assert "Requisite=vault.service" in text and "Wants=vault.service" not in text, unit
    assert "StartLimitIntervalSec=0" in files["/etc/systemd/system/vault.service"][0]
