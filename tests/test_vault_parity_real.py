"""Parity: real OpenBao's answers pinned down, and what is still imitated compared with the real thing.

The hand-written Vault test server is gone; what remains imitated is the fault proxy's sealed node and
the AWS auth stand-in (tests/support/README.md). The proxy's sealed answers are compared here with a
really sealed OpenBao; the stand-in has no real counterpart (OpenBao has no AWS auth), so its access
decisions are the real server's own (see tests/support/aws_auth_standin.py). The checks on OpenBao alone
are the behaviours the test server once diverged on (its divergence table rows), kept so that a change
of the real server's answers shows here.
"""

from __future__ import annotations

import base64
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hvac
import pytest
import requests

from tests.support.openbao import OpenBaoCluster, OpenBaoDevServer
from tests.support.vault_proxy import FaultProxy

FAKE_PGP_KEY = base64.b64encode(b"example-not-a-pgp-key" * 8).decode()


@dataclass
class Server:
    """One server under comparison: its address, a root client, and a factory for an uninitialised one."""

    kind: str
    url: str
    client: hvac.Client
    verify: str | bool
    uninitialised: Callable[[], tuple[str, str | bool]]

    def call(self, method: str, path: str, token: str | None = "root", **kwargs: Any) -> requests.Response:
        headers = {"X-Vault-Token": self.client.token} if token == "root" else {}
        return requests.request(
            method, f"{self.url}/v1/{path}", headers=headers, verify=self.verify, timeout=10, **kwargs
        )


@pytest.fixture
def server(request, openbao_dev: OpenBaoDevServer, openbao_cluster: OpenBaoCluster) -> Server:
    openbao_cluster_factory = request.getfixturevalue("openbao_cluster_factory")

    def fresh_openbao() -> tuple[str, str | bool]:
        node = openbao_cluster_factory(1, initialize=False)
        return node.addrs[0], node.ca_cert_path

    request.node.raft = (
        openbao_cluster.leader().addr,
        openbao_cluster.root_token,
        openbao_cluster.ca_cert_path,
    )
    return Server("openbao", openbao_dev.addr, openbao_dev.client(), True, fresh_openbao)


def check(server: Server, name: str, condition: bool, detail: Any = "") -> None:
    assert condition, f"{server.kind}: {name}: {detail}"


def test_health_of_an_uninitialised_node(server: Server):
    url, verify = server.uninitialised()
    answer = requests.get(f"{url}/v1/sys/health", verify=verify, timeout=10)
    assert answer.status_code == 501
    body = answer.json()
    assert body["initialized"] is False
    assert body["sealed"] is True


def test_health_query_codes(server: Server):
    assert server.call("GET", "sys/health", params={"activecode": "299"}).status_code == 299
    assert server.call("HEAD", "sys/health").status_code == 200


def test_a_fake_pgp_key_is_refused_at_init(server: Server):
    url, verify = server.uninitialised()
    body: dict[str, Any] = {
        "recovery_shares": 1,
        "recovery_threshold": 1,
        "recovery_pgp_keys": [FAKE_PGP_KEY],
    }
    body.update({"secret_shares": 1, "secret_threshold": 1, "pgp_keys": [FAKE_PGP_KEY]})
    answer = requests.put(f"{url}/v1/sys/init", json=body, verify=verify, timeout=10)
    assert answer.status_code == 400, answer.text
    status = requests.get(f"{url}/v1/sys/seal-status", verify=verify, timeout=10).json()
    assert status["initialized"] is False


def test_kv_v2_subkeys(server: Server, unique_path: str):
    kv = server.client.secrets.kv.v2
    kv.create_or_update_secret(path=unique_path, secret={"user": "u", "nested": {"password": "example"}})
    answer = server.call("GET", f"secret/subkeys/{unique_path}")
    subkeys = answer.json().get("data", {}).get("subkeys") if answer.status_code == 200 else None
    check(server, "kv_v2_subkeys", subkeys == {"user": None, "nested": {"password": None}}, answer.text)


def test_kv_v2_check_and_set_zero_refuses_an_existing_secret(server: Server, unique_path: str):
    kv = server.client.secrets.kv.v2
    kv.create_or_update_secret(path=unique_path, secret={"v": "1"})
    answer = server.call(
        "POST", f"secret/data/{unique_path}", json={"options": {"cas": 0}, "data": {"v": "2"}}
    )
    assert answer.status_code == 400
    assert "check-and-set" in answer.text


def test_kv_v2_deleted_latest_version_is_a_404_with_its_metadata(server: Server, unique_path: str):
    kv = server.client.secrets.kv.v2
    kv.create_or_update_secret(path=unique_path, secret={"v": "1"})
    kv.delete_latest_version_of_secret(path=unique_path)
    answer = server.call("GET", f"secret/data/{unique_path}")
    assert answer.status_code == 404
    metadata = answer.json()["data"]["metadata"]
    assert metadata["version"] == 1
    assert metadata["deletion_time"]


def test_a_denied_request_is_403_permission_denied(server: Server, unique_path: str):
    server.client.sys.create_or_update_acl_policy(
        name=f"p-{unique_path}", policy=f'path "secret/data/{unique_path}" {{ capabilities = ["read"] }}'
    )
    token = server.client.auth.token.create(policies=[f"p-{unique_path}"], ttl="5m")["auth"]["client_token"]
    answer = requests.post(
        f"{server.url}/v1/secret/data/{unique_path}",
        headers={"X-Vault-Token": token},
        json={"data": {"v": "1"}},
        verify=server.verify,
        timeout=10,
    )
    assert answer.status_code == 403
    assert "permission denied" in answer.text


def test_token_leases_can_be_listed(server: Server):
    server.client.auth.token.create(policies=["default"], ttl="5m")
    answer = server.call("LIST", "sys/leases/lookup/auth/token/create/")
    keys = answer.json().get("data", {}).get("keys") if answer.status_code == 200 else None
    check(server, "token_leases_can_be_listed", bool(keys), answer.text)


def raft_archive_members(blob: bytes) -> set[str]:
    """The files in a Raft snapshot (a gzipped tar of meta.json, state.bin, SHA256SUMS); empty if not one."""
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
            return set(archive.getnames())
    except (tarfile.TarError, OSError, EOFError):
        return set()


def test_snapshot_is_a_raft_archive(server: Server, request):
    url, token, verify = request.node.raft
    answer = requests.get(
        f"{url}/v1/sys/storage/raft/snapshot", headers={"X-Vault-Token": token}, verify=verify, timeout=30
    )
    assert answer.status_code == 200
    members = raft_archive_members(answer.content)
    check(server, "snapshot_is_a_raft_archive", {"meta.json", "state.bin", "SHA256SUMS"} <= members, members)


def test_approle_secret_id_logs_in_once(server: Server, unique_path: str):
    if "approle/" not in server.client.sys.list_auth_methods()["data"]:
        server.client.sys.enable_auth_method("approle")
    server.client.write(f"auth/approle/role/{unique_path}", token_policies="default", secret_id_num_uses=1)
    role_id = server.client.read(f"auth/approle/role/{unique_path}/role-id")["data"]["role_id"]
    secret_id = server.client.write(f"auth/approle/role/{unique_path}/secret-id")["data"]["secret_id"]
    body = {"role_id": role_id, "secret_id": secret_id}
    assert server.call("POST", "auth/approle/login", token=None, json=body).status_code == 200
    again = server.call("POST", "auth/approle/login", token=None, json=body)
    assert again.status_code == 400
    assert "invalid role or secret ID" in again.text


def test_audit_hash_of_an_input(server: Server, unique_path: str, tmp_path):
    server.client.sys.enable_audit_device(
        device_type="file", path=unique_path, options={"file_path": str(tmp_path / "audit.log")}
    )
    try:
        first = server.call("POST", f"sys/audit-hash/{unique_path}", json={"input": "example-not-a-secret"})
        again = server.call("POST", f"sys/audit-hash/{unique_path}", json={"input": "example-not-a-secret"})
        hashed = first.json().get("hash", "") if first.status_code == 200 else ""
        check(server, "audit_hash_of_an_input", hashed.startswith("hmac-sha256:"), first.text)
        if hashed:
            assert again.json()["hash"] == hashed
    finally:
        server.client.sys.disable_audit_device(unique_path)


def test_a_standby_answers_health_with_429(openbao_cluster: OpenBaoCluster):
    standby = next(node for node in openbao_cluster.nodes if node is not openbao_cluster.leader())
    answer = requests.get(f"{standby.addr}/v1/sys/health", verify=openbao_cluster.ca_cert_path, timeout=10)
    assert answer.status_code == 429
    assert answer.json()["standby"] is True
    assert answer.json()["sealed"] is False


SEALED_REQUESTS = [
    ("GET", "sys/health"),
    ("GET", "sys/health?sealedcode=200&standbyok=true&uninitcode=200"),
    ("HEAD", "sys/health"),
    ("GET", "sys/seal-status"),
    ("GET", "secret/data/anything"),
]


@pytest.mark.openbao
def test_the_proxys_sealed_answers_are_a_sealed_servers(openbao_dev: OpenBaoDevServer):
    """A real dev server sealed with sys/seal against the fault proxy's `sealed` mode in front of an
    unsealed one: the same status codes and the same documents (but the clock)."""
    sealed = OpenBaoDevServer().start()
    proxy = FaultProxy(openbao_dev.addr).start()
    try:
        headers = {"X-Vault-Token": sealed.root_token}
        requests.put(f"{sealed.addr}/v1/sys/seal", headers=headers, timeout=10).raise_for_status()
        proxy.sealed = True
        for method, target in SEALED_REQUESTS:
            real = requests.request(method, f"{sealed.addr}/v1/{target}", headers=headers, timeout=10)
            imitated = requests.request(method, f"{proxy.url}/v1/{target}", headers=headers, timeout=10)
            assert imitated.status_code == real.status_code, (target, real.text)
            if method == "GET":
                real_body, imitated_body = real.json(), imitated.json()
                real_body.pop("server_time_utc", None)
                imitated_body.pop("server_time_utc", None)
                assert imitated_body == real_body, target
    finally:
        proxy.stop()
        sealed.stop()
