"""Every ACL policy the bootstrap writes, exercised with a real token of that policy on the real OpenBao
cluster: allowed requests succeed, denied ones get 403 "permission denied", and the provisioner cannot
raise its own rights (no token, policy or role beyond what it may bind).

OpenBao has no AWS auth method, so `auth/aws/*` paths are checked with `sys/capabilities-self`, which the
real server answers from the same ACL code that enforces requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from components.vault.policies import render_app_policy, render_policies
from tests.support.openbao import OpenBaoCluster

pytestmark = pytest.mark.openbao

RUN = uuid.uuid4().hex[:8]  # every path this module writes is under it, on the shared session cluster
APP = f"candlefish/policy-{RUN}"


def stable_id(text: str) -> str:
    """A test id without this run's random part: pytest-xdist's workers must collect the same ids."""
    return text.replace(RUN, "RUN")


OK, DENIED, NOT_DENIED = "ok", "denied", "not denied"


@dataclass(frozen=True)
class Case:
    policy: str
    method: str
    path: str
    expect: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return stable_id(f"{self.policy}:{self.method}:{self.path}:{self.expect}")


@pytest.fixture(scope="module")
def vault(openbao_cluster: OpenBaoCluster) -> OpenBaoCluster:
    root = openbao_cluster.client(openbao_cluster.leader())
    mounts = root.sys.list_mounted_secrets_engines()["data"]
    if "secret/" not in mounts:
        root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    if "approle/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("approle")
    policies = dict(render_policies([], region="us-east-1"))
    policies[f"app-{RUN}-readonly"] = render_app_policy(f"p{RUN}", [APP])
    for name, text in policies.items():
        root.sys.create_or_update_acl_policy(name=name, policy=text)
    root.secrets.kv.v2.create_or_update_secret(path=f"{APP}/db", secret={"password": "example-not-a-secret"})
    root.secrets.kv.v2.create_or_update_secret(
        path=f"other-{RUN}/db", secret={"password": "example-not-a-secret"}
    )
    root.write(f"auth/approle/role/ci-{RUN}", token_policies="platform-team")
    return openbao_cluster


def token_for(vault: OpenBaoCluster, policy: str, *, default_policy: bool = True) -> str:
    answer = vault.client(vault.leader()).auth.token.create(
        policies=[policy], ttl="10m", no_default_policy=not default_policy
    )
    return str(answer["auth"]["client_token"])


def call(vault: OpenBaoCluster, token: str, method: str, path: str, body: dict[str, Any] | None = None):
    verb, query = ("GET", {"list": "true"}) if method == "LIST" else (method, None)
    return requests.request(
        verb,
        f"{vault.leader().addr}/v1/{path}",
        headers={"X-Vault-Token": token},
        json=body,
        params=query,
        verify=vault.ca_cert_path,
        timeout=10,
    )


CASES = [
    # admin: structure and policies everywhere, root-equivalent through auth/*; raw storage denied. (Its
    # denies on sys/generate-root/* and sys/rekey-recovery-key/* protect nothing on a real server: those
    # endpoints take no token at all, the recovery shares are what authorise them.)
    Case("admin", "GET", "sys/mounts", OK),
    Case("admin", "POST", f"sys/mounts/adm-{RUN}", OK, {"type": "kv", "options": {"version": "2"}}),
    Case(
        "admin", "PUT", f"sys/policies/acl/adm-{RUN}", OK, {"policy": 'path "x" { capabilities = ["read"] }'}
    ),
    Case("admin", "LIST", "sys/policies/acl", OK),
    Case("admin", "GET", "sys/storage/raft/configuration", OK),
    Case("admin", "GET", f"secret/data/{APP}/db", OK),
    Case("admin", "GET", "sys/raw/core/keyring", DENIED),
    Case("admin", "POST", "auth/token/create", OK, {"policies": ["break-glass"], "ttl": "1m"}),
    # platform-team: structure, never values, never writes beyond KV metadata.
    Case("platform-team", "GET", "sys/mounts", OK),
    Case("platform-team", "GET", "sys/auth", OK),
    Case("platform-team", "LIST", "sys/policies/acl", OK),
    Case("platform-team", "GET", "sys/policies/acl/admin", OK),
    Case("platform-team", "GET", "sys/storage/raft/configuration", OK),
    Case("platform-team", "GET", "sys/storage/raft/autopilot/state", OK),
    Case("platform-team", "GET", f"secret/metadata/{APP}/db", OK),
    Case("platform-team", "GET", f"auth/approle/role/ci-{RUN}", OK),
    Case("platform-team", "GET", f"secret/data/{APP}/db", DENIED),
    Case("platform-team", "PUT", f"sys/policies/acl/pt-{RUN}", DENIED, {"policy": 'path "x" {}'}),
    Case("platform-team", "POST", f"sys/mounts/pt-{RUN}", DENIED, {"type": "kv"}),
    Case("platform-team", "PUT", f"auth/approle/role/ci-{RUN}", DENIED, {"token_policies": "admin"}),
    Case("platform-team", "GET", "sys/audit", DENIED),
    Case("platform-team", "GET", "sys/storage/raft/snapshot", DENIED),
    # security-team: audit and token accessors, no values, no writes.
    Case("security-team", "GET", "sys/audit", OK),
    Case("security-team", "LIST", "auth/token/accessors", OK),
    Case("security-team", "GET", "sys/policies/acl/break-glass", OK),
    Case("security-team", "LIST", "secret/metadata/", OK),
    Case("security-team", "GET", f"secret/data/{APP}/db", DENIED),
    Case(
        "security-team", "PUT", "sys/audit/file", DENIED, {"type": "file", "options": {"file_path": "/tmp/x"}}
    ),
    Case("security-team", "PUT", f"sys/policies/acl/sec-{RUN}", DENIED, {"policy": 'path "x" {}'}),
    Case("security-team", "POST", "auth/token/create", DENIED, {"policies": ["admin"]}),
    # rotation: its own KV subtree, read and write, nothing else.
    Case("rotation", "PUT", f"secret/data/{APP}/rotated", OK, {"data": {"value": "example-not-a-secret"}}),
    Case("rotation", "GET", f"secret/data/{APP}/db", OK),
    Case("rotation", "GET", f"secret/metadata/{APP}/db", OK),
    Case("rotation", "GET", f"secret/data/other-{RUN}/db", DENIED),
    Case("rotation", "DELETE", f"secret/metadata/{APP}/db", DENIED),
    Case("rotation", "PUT", f"secret/destroy/{APP}/db", DENIED, {"versions": [1]}),
    Case("rotation", "GET", "sys/mounts", DENIED),
    # break-glass: everything but raw storage.
    Case("break-glass", "GET", f"secret/data/other-{RUN}/db", OK),
    Case(
        "break-glass",
        "PUT",
        f"sys/policies/acl/bg-{RUN}",
        OK,
        {"policy": 'path "x" { capabilities = ["read"] }'},
    ),
    Case("break-glass", "GET", "sys/raw/core/keyring", DENIED),
    # the application policy: read its own paths only.
    Case(f"app-{RUN}-readonly", "GET", f"secret/data/{APP}/db", OK),
    Case(f"app-{RUN}-readonly", "LIST", f"secret/metadata/{APP}/", OK),
    Case(f"app-{RUN}-readonly", "PUT", f"secret/data/{APP}/db", DENIED, {"data": {"password": "x"}}),
    Case(f"app-{RUN}-readonly", "GET", f"secret/data/other-{RUN}/db", DENIED),
    Case(f"app-{RUN}-readonly", "GET", "sys/mounts", DENIED),
    # the database credential policies reach only their own role's credentials.
    Case("app-db-readonly", "GET", "database/creds/app-readonly", NOT_DENIED),  # no engine here: 404
    Case("app-db-readwrite", "GET", "database/creds/app-readwrite", NOT_DENIED),
    Case("app-db-readonly", "GET", "database/creds/app-readwrite", DENIED),
    Case("app-db-readwrite", "GET", "database/creds/app-readonly", DENIED),
    Case("app-db-readonly", "GET", f"secret/data/{APP}/db", DENIED),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_real_token_of_the_policy_is_allowed_or_denied(vault: OpenBaoCluster, case: Case):
    answer = call(vault, token_for(vault, case.policy), case.method, case.path, case.body)
    if case.expect == DENIED:
        assert answer.status_code == 403, answer.text
        assert "permission denied" in answer.text
    elif case.expect == OK:
        assert 200 <= answer.status_code < 300, answer.text
    else:
        assert answer.status_code != 403, answer.text


def test_snapshot_token_reads_a_snapshot_revokes_itself_and_nothing_else(vault: OpenBaoCluster):
    token = token_for(vault, "snapshot", default_policy=False)
    snapshot = call(vault, token, "GET", "sys/storage/raft/snapshot")
    assert snapshot.status_code == 200
    assert snapshot.content[:2] == b"\x1f\x8b"  # a gzip archive, the real format
    assert call(vault, token, "GET", "auth/token/lookup-self").status_code == 403
    assert call(vault, token, "GET", f"secret/data/{APP}/db").status_code == 403
    assert call(vault, token, "PUT", "auth/token/revoke-self", {}).status_code == 204
    assert call(vault, token, "GET", "sys/storage/raft/snapshot").status_code == 403  # revoked


PROVISIONER_ESCALATIONS = [
    ("POST", "auth/token/create", {"policies": ["admin"]}),
    ("POST", "auth/token/create-orphan", {"policies": ["provisioner"]}),
    ("POST", "auth/token/create/any-role", {}),
    ("PUT", "sys/policies/acl/admin", {"policy": 'path "*" { capabilities = ["sudo"] }'}),
    ("PUT", "sys/policies/acl/provisioner", {"policy": 'path "*" { capabilities = ["sudo"] }'}),
    ("PUT", "sys/policies/acl/break-glass", {"policy": 'path "*" { capabilities = ["sudo"] }'}),
    ("PUT", f"auth/approle/role/esc-{RUN}", {"token_policies": "admin"}),
    ("PUT", f"auth/approle/role/esc-{RUN}", {"token_policies": "platform-team,admin"}),
    ("PUT", f"auth/approle/role/esc-{RUN}", {"policies": "break-glass"}),
    ("PUT", f"auth/approle/role/esc-{RUN}", {"token_policies": "platform-team", "bind_secret_id": False}),
    ("PUT", f"auth/approle/role/esc-{RUN}", {"token_policies": "platform-team", "role_id": "chosen"}),
    ("PUT", "sys/audit/file", {"type": "file", "options": {"file_path": "/tmp/elsewhere.log"}}),
    ("PUT", "sys/audit/syslog", {"type": "syslog", "options": {"facility": "LOCAL0", "tag": "vault"}}),
    ("DELETE", "sys/audit/file", None),
    ("DELETE", "sys/mounts/secret", None),
    ("POST", "sys/mounts/secret/tune", {"audit_non_hmac_request_keys": ["password"]}),
    ("GET", "sys/storage/raft/snapshot", None),
    ("POST", "sys/storage/raft/remove-peer", {"server_id": "node-2"}),
    ("GET", "sys/raw/core/keyring", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), PROVISIONER_ESCALATIONS, ids=lambda v: stable_id(str(v))[:60]
)
def test_the_provisioner_cannot_raise_its_rights(vault: OpenBaoCluster, method, path, body):
    answer = call(vault, token_for(vault, "provisioner"), method, path, body)
    assert answer.status_code == 403, answer.text
    assert "permission denied" in answer.text


PROVISIONER_ALLOWED = [
    ("PUT", f"secret/data/{APP}/seed", {"data": {"value": "example-not-a-secret"}}),
    ("GET", f"secret/metadata/{APP}/db", None),
    ("PUT", f"sys/policies/acl/app-{RUN}-x", {"policy": 'path "secret/data/x" { capabilities = ["read"] }'}),
    ("GET", "sys/policies/acl/admin", None),
    ("PUT", f"auth/approle/role/ci-{RUN}-p", {"token_policies": "platform-team", "bind_secret_id": True}),
    ("PUT", f"auth/approle/role/ci-{RUN}-a", {"token_policies": f"app-{RUN}-x"}),
    ("POST", f"sys/mounts/prov-{RUN}", {"type": "kv", "options": {"version": "2"}}),
    ("GET", "sys/storage/raft/autopilot/configuration", None),
    ("GET", "auth/token/lookup-self", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), PROVISIONER_ALLOWED, ids=lambda v: stable_id(str(v))[:60]
)
def test_the_provisioner_does_its_job(vault: OpenBaoCluster, method, path, body):
    answer = call(vault, token_for(vault, "provisioner"), method, path, body)
    assert 200 <= answer.status_code < 300, answer.text


AWS_AUTH_CAPABILITIES = [
    ("provisioner", "auth/aws/config/client", {"create", "read", "update"}),
    ("provisioner", "auth/aws/role/rotation", {"create", "read", "update", "delete"}),
    ("platform-team", "auth/aws/role/rotation", {"read", "list"}),
    ("security-team", "auth/aws/role/rotation", {"read"}),
    ("rotation", "auth/aws/role/rotation", {"deny"}),
    ("snapshot", "auth/aws/login", {"deny"}),
]


@pytest.mark.parametrize(("policy", "path", "expected"), AWS_AUTH_CAPABILITIES)
def test_aws_auth_paths_by_capabilities_since_openbao_has_no_aws_auth(
    vault: OpenBaoCluster, policy, path, expected
):
    token = token_for(vault, policy)  # the default policy grants sys/capabilities-self, not auth/aws
    answer = call(vault, token, "POST", "sys/capabilities-self", {"paths": [path]})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["capabilities"]) == expected
