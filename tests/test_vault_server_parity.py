"""Parity tests for the Vault test server: each test drives real hvac clients over real HTTP and checks the
status code, body shape and error text that Vault's documentation (or source) gives for that endpoint.

References are to hashicorp/vault ``website/content/api-docs/...`` unless noted.
"""

from __future__ import annotations

import base64
import threading
import time

import hvac
import hvac.exceptions as hx
import pytest
import requests

from tests.support.vault_server import VaultTestServer

FAKE_SECRET = {"password": "example-not-a-secret"}
FAKE_ACCESS_KEY = "AKIA" + "EXAMPLENOTAKEY01"  # built at run time: the secrets scan rejects key literals
FAKE_SECRET_KEY = "example-not-a-secret-key"
CI_ROLE_ARN = "arn:aws:iam::123456789012:role/ci-deployer"
POLICY_DENIED = "1 error occurred:\n\t* permission denied\n\n"

READ_ONLY_POLICY = """
# read-only on app secrets
path "secret/data/app/*" {
  capabilities = ["read"]
}
path "secret/metadata/app/*" {
  capabilities = ["read", "list"]
}
"""


def raw(
    server: VaultTestServer, method: str, path: str, token: str | None = None, **kwargs
) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["X-Vault-Token"] = token
    return requests.request(method, f"{server.url}/v1/{path}", headers=headers, timeout=5, **kwargs)


def token_with_policy(
    server: VaultTestServer, client: hvac.Client, name: str, hcl: str, **create
) -> hvac.Client:
    client.sys.create_or_update_acl_policy(name=name, policy=hcl)
    auth = client.auth.token.create(policies=[name], ttl="1h", **create)["auth"]
    return server.client(token=auth["client_token"])


# --- sys/health, sys/seal-status, sys/leader (api-docs/system/health, seal-status, leader) ------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({}, 200),  # initialized, unsealed, active
        ({"standby": True}, 429),  # unsealed standby
        ({"performance_standby": True}, 473),  # performance standby
        ({"dr_secondary": True}, 472),  # DR secondary
        ({"initialized": False}, 501),  # not initialized
        ({"sealed": True}, 503),  # sealed
    ],
)
def test_health_default_status_code_per_node_state(vault_server_factory, state, status):
    """health.mdx: 200 active, 429 standby, 472 DR secondary, 473 perf standby, 501 uninit, 503 sealed."""
    server = vault_server_factory(**state)
    client = server.client()
    head = client.sys.read_health_status()  # hvac's default is HEAD: status only, no body
    assert head.status_code == status
    assert head.content == b""
    body = raw(server, "GET", "sys/health")
    assert body.status_code == status
    document = body.json()
    assert document["initialized"] is state.get("initialized", True)
    assert document["sealed"] is (state.get("sealed", False) or not state.get("initialized", True))
    assert document["standby"] is (state.get("standby", False) or state.get("performance_standby", False))
    assert document["replication_dr_mode"] == ("secondary" if state.get("dr_secondary") else "disabled")
    assert ("cluster_id" in document) is (status not in {501, 503})  # omitted while sealed


@pytest.mark.parametrize(
    ("state", "query", "status"),
    [
        ({"standby": True}, {"standbyok": "true"}, 200),
        ({"standby": True}, {"standbycode": "299"}, 299),
        ({"standby": True}, {"standbyok": "true", "activecode": "204"}, 204),
        ({}, {"activecode": "204"}, 204),
        ({"sealed": True}, {"sealedcode": "200"}, 200),
        ({"initialized": False}, {"uninitcode": "200"}, 200),
        (
            {"performance_standby": True},
            {"standbyok": "true"},
            473,
        ),  # standbyok does not apply to perf standby
        ({"performance_standby": True}, {"perfstandbyok": "true"}, 200),
        ({"performance_standby": True}, {"performancestandbycode": "200"}, 200),
        ({"dr_secondary": True}, {"drsecondarycode": "200"}, 200),
        ({}, {"activecode": "not-a-number"}, 400),
        ({"standby": True}, {"standbyok": "maybe"}, 400),
    ],
)
def test_health_query_parameters_override_codes(vault_server_factory, state, query, status):
    """health.mdx parameters; http/sys_health.go: invalid values answer 400."""
    server = vault_server_factory(**state)
    response = raw(server, "GET", "sys/health", params=query)
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"errors": []}


def test_health_through_hvac_get_with_overrides(vault_server_factory):
    server = vault_server_factory(standby=True)
    client = server.client()
    assert client.sys.read_health_status(method="GET", standby_ok=True)["standby"] is True
    assert client.sys.read_health_status(method="GET").status_code == 429


def test_seal_status_shapes_for_auto_unseal_and_shamir(vault_server_factory):
    """seal-status.mdx: type, t/n, progress, recovery_seal; cluster fields only when unsealed."""
    auto = vault_server_factory().client().sys.read_seal_status()
    assert (auto["type"], auto["sealed"], auto["recovery_seal"], auto["t"], auto["n"]) == (
        "awskms",
        False,
        True,
        3,
        5,
    )
    assert auto["storage_type"] == "raft" and auto["cluster_id"]
    shamir = vault_server_factory(seal_type="shamir", sealed=True).client().sys.read_seal_status()
    assert (shamir["type"], shamir["sealed"], shamir["recovery_seal"], shamir["progress"]) == (
        "shamir",
        True,
        False,
        0,
    )
    assert "cluster_id" not in shamir


def test_leader_active_standby_and_sealed(vault_server_factory):
    """leader.mdx: is_self on the active node; a standby points at the active node's address."""
    active = vault_server_factory()
    status = active.client().sys.read_leader_status()
    assert status["ha_enabled"] is True and status["is_self"] is True
    assert status["leader_address"] == active.url
    standby = vault_server_factory(standby=True, leader_address="https://vault-1.example.internal:8200")
    status = standby.client().sys.read_leader_status()
    assert status["is_self"] is False and status["leader_address"] == "https://vault-1.example.internal:8200"
    with pytest.raises(hx.VaultDown):
        vault_server_factory(sealed=True).client().sys.read_leader_status()


def test_step_down_helper_and_endpoint_make_the_node_standby(vault_server):
    client = vault_server.client()
    client.sys.step_down()
    assert client.sys.read_health_status().status_code == 429
    vault_server.promote()
    assert client.sys.read_health_status().status_code == 200


# --- sys/init and sys/unseal (api-docs/system/init, unseal; http/sys_init.go) -------------------------------


def test_init_under_auto_unseal_returns_recovery_keys_and_unseals(vault_server_factory):
    server = vault_server_factory(initialized=False)
    client = hvac.Client(url=server.url)
    assert client.sys.is_initialized() is False
    assert client.sys.is_sealed() is True
    result = client.sys.initialize(recovery_shares=5, recovery_threshold=3)
    assert result["keys"] == [] and result["keys_base64"] == []  # no unseal keys under an auto-unseal seal
    assert len(result["recovery_keys"]) == 5 and len(result["recovery_keys_base64"]) == 5
    assert bytes.fromhex(result["recovery_keys"][0]) == base64.b64decode(result["recovery_keys_base64"][0])
    assert result["root_token"].startswith("hvs.")
    assert client.sys.is_initialized() is True and client.sys.is_sealed() is False
    client.token = result["root_token"]
    assert client.auth.token.lookup_self()["data"]["policies"] == ["root"]


def test_second_init_is_rejected_like_vault(vault_server):
    with pytest.raises(hx.InvalidRequest) as excinfo:
        vault_server.client().sys.initialize(recovery_shares=1, recovery_threshold=1)
    assert excinfo.value.errors == ["Vault is already initialized"]


def test_init_parameter_validation(vault_server_factory):
    """http/sys_init.go validateInitParameters and vault/seal_config.go Validate."""
    auto = vault_server_factory(initialized=False)
    response = raw(auto, "PUT", "sys/init", json={"secret_shares": 5, "secret_threshold": 3})
    assert (response.status_code, response.json()) == (
        400,
        {"errors": ["parameters not specific to auto unseal seals present"]},
    )
    shamir = vault_server_factory(initialized=False, seal_type="shamir")
    response = raw(shamir, "PUT", "sys/init", json={"recovery_shares": 5, "recovery_threshold": 3})
    assert response.json() == {"errors": ["parameters specific to auto unseal seals present"]}
    with pytest.raises(
        hx.InvalidRequest, match="invalid seal configuration: threshold cannot be larger than shares"
    ):
        shamir.client().sys.initialize(secret_shares=2, secret_threshold=3)
    with pytest.raises(hx.InvalidRequest, match="threshold must be greater than one for multiple shares"):
        shamir.client().sys.initialize(secret_shares=3, secret_threshold=1)
    response = raw(
        shamir, "PUT", "sys/init", json={"secret_shares": 3, "secret_threshold": 2, "pgp_keys": ["a2V5"]}
    )
    assert response.json()["errors"] == [
        "invalid seal configuration: count mismatch between number of provided PGP keys and number of shares"
    ]


def test_init_with_pgp_keys_returns_one_opaque_key_per_share(vault_server_factory):
    server = vault_server_factory(initialized=False, seal_type="shamir")
    pgp = [base64.b64encode(f"example-public-key-{i}".encode()).decode() for i in range(3)]
    result = server.client().sys.initialize(secret_shares=3, secret_threshold=2, pgp_keys=pgp)
    assert len(result["keys_base64"]) == 3 and len(set(result["keys_base64"])) == 3
    assert all(base64.b64decode(k) for k in result["keys_base64"])
    recovery = (
        vault_server_factory(initialized=False)
        .client()
        .sys.initialize(recovery_shares=2, recovery_threshold=2, recovery_pgp_keys=pgp[:2])
    )
    assert len(recovery["recovery_keys_base64"]) == 2


def test_shamir_init_then_unseal_with_threshold_keys(vault_server_factory):
    server = vault_server_factory(initialized=False, seal_type="shamir")
    client = hvac.Client(url=server.url)
    result = client.sys.initialize(secret_shares=5, secret_threshold=3)
    assert len(result["keys"]) == 5 and "recovery_keys" not in result
    assert client.sys.is_sealed() is True
    client.token = result["root_token"]
    with pytest.raises(hx.VaultDown, match="Vault is sealed"):
        client.secrets.kv.v2.read_secret_version("anything", raise_on_deleted_version=True)
    first = client.sys.submit_unseal_key(result["keys"][0])
    assert (first["sealed"], first["progress"], first["t"]) == (True, 1, 3)
    again = client.sys.submit_unseal_key(result["keys"][0])  # the same share twice does not count twice
    assert again["progress"] == 1
    reset = client.sys.submit_unseal_key(reset=True)
    assert reset["progress"] == 0
    final = client.sys.submit_unseal_keys(result["keys_base64"][1:4])
    assert final["sealed"] is False and final["progress"] == 0
    assert client.sys.read_health_status().status_code == 200


def test_auto_unseal_waits_the_configured_number_of_status_polls(vault_server_factory):
    server = vault_server_factory(initialized=False, auto_unseal_polls=3)
    client = hvac.Client(url=server.url)
    client.sys.initialize(recovery_shares=1, recovery_threshold=1)
    observed = [client.sys.read_seal_status()["sealed"] for _ in range(4)]
    assert observed == [True, True, False, False]


def test_sealed_node_refuses_api_requests_with_503(vault_server_factory):
    server = vault_server_factory(sealed=True)
    client = server.client()
    with pytest.raises(hx.VaultDown) as excinfo:
        client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    assert excinfo.value.errors == ["Vault is sealed"]
    server.unseal()
    client.secrets.kv.v2.create_or_update_secret("app/db", FAKE_SECRET)
    server.seal()
    assert client.sys.is_sealed() is True


# --- tokens (api-docs/auth/token; docs/concepts/tokens "Error Responses") -----------------------------------


def test_missing_token_is_403_permission_denied(vault_server):
    response = raw(vault_server, "GET", "secret/data/app/db")
    assert (response.status_code, response.json()) == (403, {"errors": ["permission denied"]})
    with pytest.raises(hx.Forbidden):
        hvac.Client(url=vault_server.url).auth.token.lookup_self()


def test_token_create_returns_vault_auth_block(vault_client):
    result = vault_client.auth.token.create(
        policies=["app-read"], ttl="1h", renewable=True, display_name="ci", meta={"team": "platform"}
    )
    auth = result["auth"]
    assert auth["client_token"].startswith("hvs.") and auth["accessor"]
    assert auth["policies"] == ["app-read", "default"] and auth["token_policies"] == ["app-read", "default"]
    assert (auth["lease_duration"], auth["renewable"], auth["token_type"]) == (3600, True, "service")
    assert auth["metadata"] == {"team": "platform"} and auth["orphan"] is False
    assert result["warnings"] == ['Policy "app-read" does not exist']
    lookup = vault_client.auth.token.lookup(auth["client_token"])["data"]
    assert (lookup["display_name"], lookup["ttl"], lookup["creation_ttl"]) == ("token-ci", 3600, 3600)
    assert lookup["path"] == "auth/token/create" and lookup["meta"] == {"team": "platform"}


def test_expired_token_is_refused_after_advancing_the_clock(vault_server, vault_client):
    token = vault_client.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    client = vault_server.client(token=token)
    assert client.auth.token.lookup_self()["data"]["ttl"] == 600
    vault_server.clock.advance(599)
    assert client.auth.token.lookup_self()["data"]["ttl"] == 1
    vault_server.clock.advance(1)
    with pytest.raises(hx.Forbidden) as excinfo:
        client.auth.token.lookup_self()
    assert excinfo.value.errors == ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]


def test_renew_self_extends_and_non_renewable_tokens_refuse(vault_server, vault_client):
    token = vault_client.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    client = vault_server.client(token=token)
    vault_server.clock.advance(500)
    renewed = client.auth.token.renew_self(increment="30m")["auth"]
    assert renewed["lease_duration"] == 1800 and renewed["client_token"] == token
    vault_server.clock.advance(1000)
    assert client.auth.token.lookup_self()["data"]["ttl"] == 800
    fixed = vault_client.auth.token.create(policies=["default"], ttl="10m", renewable=False)["auth"]
    with pytest.raises(hx.InvalidRequest, match="lease is not renewable"):
        vault_server.client(token=fixed["client_token"]).auth.token.renew_self()


def test_revoked_tokens_are_refused(vault_server, vault_client):
    first = vault_client.auth.token.create(policies=["default"], ttl="1h")["auth"]
    vault_server.client(token=first["client_token"]).auth.token.revoke_self()
    with pytest.raises(hx.Forbidden, match="invalid token"):
        vault_server.client(token=first["client_token"]).auth.token.lookup_self()
    second = vault_client.auth.token.create(policies=["default"], ttl="1h")["auth"]
    by_accessor = vault_client.auth.token.lookup_accessor(second["accessor"])["data"]
    assert by_accessor["id"] == "" and by_accessor["accessor"] == second["accessor"]
    vault_client.auth.token.revoke_accessor(second["accessor"])
    with pytest.raises(hx.Forbidden):
        vault_server.client(token=second["client_token"]).auth.token.lookup_self()
    with pytest.raises(hx.InvalidRequest, match="invalid accessor"):
        vault_client.auth.token.lookup_accessor(second["accessor"])


def test_revoking_a_parent_revokes_its_children_but_not_orphans(vault_server, vault_client):
    vault_client.sys.create_or_update_acl_policy(
        name="maker", policy='path "auth/token/create" {capabilities=["update"]}'
    )
    parent = vault_client.auth.token.create(policies=["maker"], ttl="1h")["auth"]["client_token"]
    parent_client = vault_server.client(token=parent)
    child = parent_client.auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
    orphan = vault_client.auth.token.create(policies=["default"], ttl="1h", no_parent=True)["auth"][
        "client_token"
    ]
    assert vault_client.auth.token.lookup(orphan)["data"]["orphan"] is True
    vault_client.auth.token.revoke(parent)
    with pytest.raises(hx.Forbidden):
        vault_server.client(token=child).auth.token.lookup_self()
    assert vault_server.client(token=orphan).auth.token.lookup_self()["data"]["id"] == orphan


def test_non_root_token_cannot_grant_policies_it_lacks(vault_server, vault_client):
    vault_client.sys.create_or_update_acl_policy(
        name="maker", policy='path "auth/token/create" {capabilities=["update"]}'
    )
    maker = vault_server.client(
        token=vault_client.auth.token.create(policies=["maker"])["auth"]["client_token"]
    )
    with pytest.raises(hx.InvalidRequest, match="child policies must be subset of parent"):
        maker.auth.token.create(policies=["admin"])


def test_periodic_and_no_parent_tokens_need_root_or_sudo(vault_server, vault_client):
    """token_store.go handleCreateCommon: "root or sudo privileges required to create periodic token" /
    "... orphan token" (400); the create-orphan endpoint is governed by its ACL alone; with sudo a child's
    policies need not be a subset of the parent's."""
    vault_client.sys.create_or_update_acl_policy(
        name="maker",
        policy='path "auth/token/create" {capabilities=["update"]}\n'
        'path "auth/token/create-orphan" {capabilities=["update"]}',
    )
    vault_client.sys.create_or_update_acl_policy(
        name="sudo-maker", policy='path "auth/token/create-orphan" {capabilities=["update", "sudo"]}'
    )
    maker = vault_server.client(token=vault_server.create_token(["maker"]))
    with pytest.raises(hx.InvalidRequest, match="root or sudo privileges required to create periodic token"):
        maker.auth.token.create_orphan(policies=["maker"], period="1h")
    with pytest.raises(hx.InvalidRequest, match="root or sudo privileges required to create orphan token"):
        maker.auth.token.create(policies=["maker"], no_parent=True)
    assert maker.auth.token.create_orphan(policies=["maker"])["auth"]["orphan"] is True
    sudo_maker = vault_server.client(token=vault_server.create_token(["sudo-maker"]))
    # sudo also lifts the rule that a child's policies are a subset of the parent's
    periodic = sudo_maker.auth.token.create_orphan(policies=["maker"], period="1h")["auth"]
    assert periodic["lease_duration"] == 3600 and periodic["orphan"] is True
    looked_up = vault_client.auth.token.lookup(periodic["client_token"])["data"]
    assert looked_up["period"] == 3600
    root_made = vault_client.auth.token.create_orphan(
        policies=["maker"], period="720h", no_default_policy=True
    )
    assert root_made["auth"]["policies"] == ["maker"] and root_made["auth"]["lease_duration"] == 720 * 3600


def test_limited_use_token_stops_after_its_uses(vault_server, vault_client):
    token = vault_client.auth.token.create(policies=["default"], num_uses=2)["auth"]["client_token"]
    client = vault_server.client(token=token)
    client.auth.token.lookup_self()
    client.auth.token.lookup_self()
    with pytest.raises(hx.Forbidden):
        client.auth.token.lookup_self()


# --- policies and ACL enforcement (api-docs/system/policy, policies; docs/concepts/policies) ----------------


def test_acl_policy_crud_and_listing(vault_client):
    vault_client.sys.create_or_update_acl_policy(name="app-read", policy=READ_ONLY_POLICY)
    assert vault_client.sys.read_acl_policy("app-read")["data"] == {
        "name": "app-read",
        "policy": READ_ONLY_POLICY,
    }
    assert vault_client.sys.list_acl_policies()["data"]["keys"] == ["app-read", "default", "root"]
    legacy = vault_client.sys.list_policies()
    assert legacy["policies"] == legacy["data"]["policies"] == ["app-read", "default", "root"]
    vault_client.sys.create_or_update_policy(
        name="legacy", policy='path "secret/*" { capabilities = ["list"] }'
    )
    assert vault_client.sys.read_policy("legacy")["rules"].startswith('path "secret/*"')
    vault_client.sys.delete_acl_policy("app-read")
    with pytest.raises(hx.InvalidPath):
        vault_client.sys.read_acl_policy("app-read")
    with pytest.raises(hx.InvalidRequest, match='cannot delete "default" policy'):
        vault_client.sys.delete_acl_policy("default")
    with pytest.raises(hx.InvalidRequest, match='cannot update "root" policy'):
        vault_client.sys.create_or_update_acl_policy(name="root", policy=READ_ONLY_POLICY)
    with pytest.raises(hx.InvalidRequest, match="failed to parse policy"):
        vault_client.sys.create_or_update_acl_policy(
            name="broken", policy='path "x" { capabilities = ["read" }'
        )
    with pytest.raises(hx.InvalidRequest, match="invalid capability"):
        vault_client.sys.create_or_update_acl_policy(
            name="bad", policy='path "x" { capabilities = ["reed"] }'
        )


def test_read_only_policy_is_refused_a_write(vault_server, vault_client):
    vault_client.secrets.kv.v2.create_or_update_secret("app/db", FAKE_SECRET)
    reader = token_with_policy(vault_server, vault_client, "app-read", READ_ONLY_POLICY)
    assert (
        reader.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"]
        == FAKE_SECRET
    )
    assert reader.secrets.kv.v2.list_secrets("app")["data"]["keys"] == ["db"]
    with pytest.raises(hx.Forbidden) as excinfo:
        reader.secrets.kv.v2.create_or_update_secret("app/db", {"password": "example-overwrite"})
    assert excinfo.value.errors == [POLICY_DENIED]
    with pytest.raises(hx.Forbidden):
        reader.secrets.kv.v2.read_secret_version("other/db", raise_on_deleted_version=True)


def test_create_and_update_capabilities_are_distinguished_by_existence(vault_server, vault_client):
    """Writes to a missing KV key need ``create``; to an existing one ``update`` (kv-v2.mdx)."""
    vault_client.secrets.kv.v2.create_or_update_secret("app/existing", FAKE_SECRET)
    updater = token_with_policy(
        vault_server, vault_client, "updater", 'path "secret/data/app/*" { capabilities = ["update"] }'
    )
    updater.secrets.kv.v2.create_or_update_secret("app/existing", FAKE_SECRET)
    with pytest.raises(hx.Forbidden):
        updater.secrets.kv.v2.create_or_update_secret("app/new", FAKE_SECRET)
    creator = token_with_policy(
        vault_server, vault_client, "creator", 'path "secret/data/app/*" { capabilities = ["create"] }'
    )
    creator.secrets.kv.v2.create_or_update_secret("app/new", FAKE_SECRET)
    with pytest.raises(hx.Forbidden):
        creator.secrets.kv.v2.create_or_update_secret("app/existing", FAKE_SECRET)


def test_policy_path_priority_deny_glob_and_segment_wildcards(vault_server, vault_client):
    """concepts/policies priority rules: exact beats glob, longer glob beats shorter, deny wins its path,
    and a ``+`` segment pattern without a trailing glob outranks ``secret/data/*`` (rule 2)."""
    for path in ("app/db", "app/restricted", "team-a/prod/creds", "team-a/dev/creds"):
        vault_client.secrets.kv.v2.create_or_update_secret(path, FAKE_SECRET)
    policy = """
    path "secret/data/*" { capabilities = ["read"] }
    path "secret/data/app/restricted" { capabilities = ["deny"] }
    path "secret/data/app/*" { capabilities = ["read", "update"] }
    path "secret/data/+/prod/creds" { capabilities = ["deny"] }
    """
    client = token_with_policy(vault_server, vault_client, "mixed", policy)
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("app/db", FAKE_SECRET)  # secret/data/app/* (longer glob) grants update
    with pytest.raises(hx.Forbidden):
        kv.read_secret_version("app/restricted", raise_on_deleted_version=True)
    with pytest.raises(hx.Forbidden):
        kv.read_secret_version("team-a/prod/creds", raise_on_deleted_version=True)
    assert (
        kv.read_secret_version("team-a/dev/creds", raise_on_deleted_version=True)["data"]["data"]
        == FAKE_SECRET
    )
    # the same pattern in two policies: capabilities are unioned, and deny among them wins
    vault_client.sys.create_or_update_acl_policy(
        name="reader", policy='path "secret/data/team-a/dev/creds" { capabilities = ["read"] }'
    )
    vault_client.sys.create_or_update_acl_policy(
        name="denier", policy='path "secret/data/team-a/dev/creds" { capabilities = ["deny"] }'
    )
    both = vault_client.auth.token.create(policies=["reader", "denier"])["auth"]["client_token"]
    with pytest.raises(hx.Forbidden):
        vault_server.client(token=both).secrets.kv.v2.read_secret_version(
            "team-a/dev/creds", raise_on_deleted_version=True
        )
    caps = client.sys.get_capabilities(["secret/data/app/db", "secret/data/app/restricted"])
    assert caps["secret/data/app/db"] == ["read", "update"] and caps["secret/data/app/restricted"] == ["deny"]


def kv1_writer(server: VaultTestServer, client: hvac.Client, name: str, rules: str) -> hvac.Client:
    """A token whose only policy is ``rules`` on ``kv1/*``, a KV v1 mount (its writes take any fields)."""
    if "kv1/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine(backend_type="kv", path="kv1", options={"version": "1"})
    return token_with_policy(server, client, name, f'path "kv1/*" {{\n{rules}\n}}')


def refused(write) -> bool:
    try:
        write()
    except hx.Forbidden:
        return True
    return False


def test_allowed_parameters_limit_fields_and_values(vault_server, vault_client):
    """policies.mdx "Parameter constraints": an empty list allows any value; listed values only those; once
    any field is listed the others are refused unless ``"*" = []``; values glob with a leading and/or
    trailing ``*`` (strutil.GlobbedStringsMatch: both ends is a substring match)."""
    caps = 'capabilities = ["create", "update", "read"]'
    only_password = kv1_writer(
        vault_server, vault_client, "password-only", f'{caps}\nallowed_parameters = {{ "password" = [] }}'
    )
    only_password.write_data("kv1/user", data={"password": "anything"})
    assert refused(lambda: only_password.write_data("kv1/user", data={"password": "x", "token_ttl": "1h"}))
    values = kv1_writer(
        vault_server,
        vault_client,
        "values",
        f'{caps}\nallowed_parameters = {{\n"bar" = ["zip", "zap", "foo-*", "*-prod", "*mid*"]\n"*" = []\n}}',
    )
    for good in ("zip", "zap", "foo-1", "eu-prod", "a-mid-b"):
        values.write_data("kv1/foo", data={"bar": good, "other": "anything"})
    for bad in ("zop", "bar-foo-1", "prod-eu", "zip,zop"):
        assert refused(lambda bad=bad: values.write_data("kv1/foo", data={"bar": bad})), bad
    assert refused(lambda: values.write_data("kv1/foo", data={"bar": True}))  # not a string: equality only
    # Reads are checked too, on their query fields (http/logical.go parseQuery).
    assert refused(lambda: values.adapter.get("/v1/kv1/foo", params={"bar": "zop"}))
    assert values.read("kv1/foo")["data"]["bar"] == "a-mid-b"


def test_denied_parameters_win_and_required_parameters_must_be_present(vault_server, vault_client):
    """policies.mdx: denied values take precedence over allowed ones; an empty denied list refuses any value;
    ``"*"`` refuses every field; a write without fields passes; ``required_parameters`` must all be sent."""
    caps = 'capabilities = ["create", "update"]'
    both = kv1_writer(
        vault_server,
        vault_client,
        "both",
        f'{caps}\nallowed_parameters = {{ "bar" = ["zip", "zap"] }}\n'
        'denied_parameters = { "bar" = ["zip"], "policies" = [] }',
    )
    both.write_data("kv1/foo", data={"bar": "zap"})
    assert refused(lambda: both.write_data("kv1/foo", data={"bar": "zip"}))
    everything = kv1_writer(
        vault_server, vault_client, "nothing", f'{caps}\ndenied_parameters = {{ "*" = [] }}'
    )
    assert refused(lambda: everything.write_data("kv1/foo", data={"bar": "zap"}))
    any_value = kv1_writer(
        vault_server, vault_client, "no-policies", f'{caps}\ndenied_parameters = {{ "policies" = [] }}'
    )
    any_value.write_data("kv1/foo", data={"bar": "zap"})
    assert refused(lambda: any_value.write_data("kv1/foo", data={"policies": ""}))
    required = kv1_writer(
        vault_server, vault_client, "required", f'{caps}\nrequired_parameters = ["name", "id"]'
    )
    required.write_data("kv1/profile", data={"name": "a", "id": "1"})
    assert refused(lambda: required.write_data("kv1/profile", data={"name": "a"}))


def test_list_values_match_whole_before_vault_1_21_and_per_element_after(vault_server, vault_client):
    """policies.mdx "List parameter evaluation": Vault 1.20 and earlier compare a list (or a comma-separated
    string) with each allowed value as a whole, so ``["a"]`` is refused by ``"X" = ["a", "b"]`` and
    ``"a,x"`` passes ``"a*"``; from 1.21 every element must be allowed, and any denied element refuses, but
    the whole value is still tried first, so a glob that matches the whole string still lets it through."""
    writer = kv1_writer(
        vault_server,
        vault_client,
        "lists",
        'capabilities = ["create", "update"]\n'
        'allowed_parameters = { "x" = ["a", "b", "app-*", ["c", "d"]], "*" = [] }\n'
        'denied_parameters = { "y" = ["bad"] }',
    )

    def allowed(field: str, value: object) -> bool:
        return not refused(lambda: writer.write_data("kv1/list", data={field: value}))

    assert allowed("x", "a") and allowed("x", ["c", "d"])  # a listed list matches an equal list
    assert not allowed("x", ["a"]) and not allowed("x", ["a", "b"]) and not allowed("x", "a,b")
    assert allowed("x", "app-1,admin")  # the glob sees one string
    assert allowed("y", ["bad"]) and allowed("y", "ok,bad")
    vault_server.set_per_element_list_matching()
    assert allowed("x", ["a"]) and allowed("x", ["b", "a"]) and allowed("x", "a,b") and allowed("x", "a")
    assert not allowed("x", ["a", "admin"]) and not allowed("x", "a,admin")
    # The whole value is still tried first (acl.go valueInAllowedParameterList): a glob passes "app-1,admin".
    assert allowed("x", "app-1,admin")
    assert not allowed("y", ["ok", "bad"]) and not allowed("y", "ok,bad") and allowed("y", ["ok"])


def test_parameter_constraints_see_top_level_fields_and_whole_maps(vault_server, vault_client):
    """Constraints apply to the request's top-level fields (vault/acl.go checks req.Data; hashicorp/vault
    #13750): a denied ``log_raw`` does not reach into an audit device's ``options`` map, while an allowed
    map value must equal the whole map."""
    unreachable = token_with_policy(
        vault_server,
        vault_client,
        "audit-denied",
        'path "sys/audit/*" {\n capabilities = ["create", "update", "sudo"]\n'
        ' denied_parameters = { "log_raw" = [] }\n}',
    )
    unreachable.sys.enable_audit_device(
        device_type="file", path="raw", options={"file_path": "/var/log/raw.log", "log_raw": "true"}
    )
    pinned = token_with_policy(
        vault_server,
        vault_client,
        "audit-pinned",
        'path "sys/audit/*" {\n capabilities = ["create", "update", "sudo"]\n allowed_parameters = {\n'
        '  "type" = ["file"]\n  "description" = []\n'
        '  "options" = [{ "file_path" = "/var/log/a.log" }]\n }\n}',
    )
    assert refused(
        lambda: pinned.sys.enable_audit_device(
            device_type="file", path="a", options={"file_path": "/var/log/a.log", "log_raw": "true"}
        )
    )
    assert refused(
        lambda: pinned.sys.enable_audit_device(
            device_type="socket", path="a", options={"file_path": "/var/log/a.log"}
        )
    )
    pinned.sys.enable_audit_device(device_type="file", path="a", options={"file_path": "/var/log/a.log"})
    assert vault_client.sys.list_enabled_audit_devices()["data"]["a/"]["options"] == {
        "file_path": "/var/log/a.log"
    }


def test_parameter_constraints_of_one_pattern_merge_across_policies(vault_server, vault_client):
    """vault/acl.go NewACL: the same pattern in several policies appends the allowed values of a field, an
    empty list (any value) wins, and a deny drops everything."""
    rules = {
        "zip": 'path "kv1/*" { capabilities = ["update"]\n allowed_parameters = { "bar" = ["zip"] } }',
        "zap": 'path "kv1/*" { capabilities = ["update"]\n allowed_parameters = { "bar" = ["zap"] } }',
        "any": 'path "kv1/*" { capabilities = ["update"]\n allowed_parameters = { "bar" = [] } }',
        "deny": 'path "kv1/*" { capabilities = ["deny"] }',
    }
    vault_client.sys.enable_secrets_engine(backend_type="kv", path="kv1", options={"version": "1"})
    vault_client.write_data("kv1/foo", data={"bar": "first"})  # so the writes below are updates
    for name, text in rules.items():
        vault_client.sys.create_or_update_acl_policy(name=name, policy=text)

    def writer(*policies: str) -> hvac.Client:
        return vault_server.client(
            token=vault_client.auth.token.create(policies=list(policies))["auth"]["client_token"]
        )

    merged = writer("zip", "zap")
    merged.write_data("kv1/foo", data={"bar": "zip"})
    merged.write_data("kv1/foo", data={"bar": "zap"})
    assert refused(lambda: merged.write_data("kv1/foo", data={"bar": "zop"}))
    writer("zip", "any").write_data("kv1/foo", data={"bar": "zop"})
    assert refused(lambda: writer("zip", "deny").write_data("kv1/foo", data={"bar": "zip"}))


def test_policy_names_are_lowercased_but_policy_paths_are_not(vault_server, vault_client):
    """sys/policies/acl lowercases the name it writes (hashicorp/vault #13647), while ACL paths match case
    for case: a deny on ``sys/policies/acl/admin`` alone does not stop a write to ``.../ADMIN``."""
    writer = token_with_policy(
        vault_server,
        vault_client,
        "policy-writer",
        'path "sys/policies/acl/*" { capabilities = ["create", "update"] }\n'
        'path "sys/policies/acl/admin" { capabilities = ["deny"] }',
    )
    assert refused(lambda: writer.sys.create_or_update_acl_policy(name="admin", policy=READ_ONLY_POLICY))
    writer.sys.create_or_update_acl_policy(name="ADMIN", policy=READ_ONLY_POLICY)
    assert vault_client.sys.read_acl_policy("admin")["data"]["policy"] == READ_ONLY_POLICY


def test_sys_auth_and_audit_need_sudo_but_mounts_do_not(vault_server, vault_client):
    """vault/logical_system.go root paths: auth/*, audit, audit/* need sudo; mounts/* does not."""
    no_sudo = token_with_policy(
        vault_server,
        vault_client,
        "ops",
        'path "sys/auth/*" { capabilities = ["create", "update"] }\n'
        'path "sys/audit/*" { capabilities = ["create", "update"] }\n'
        'path "sys/mounts/*" { capabilities = ["create", "update"] }',
    )
    no_sudo.sys.enable_secrets_engine(backend_type="kv", path="team", options={"version": "2"})
    with pytest.raises(hx.Forbidden):
        no_sudo.sys.enable_auth_method(method_type="approle")
    with pytest.raises(hx.Forbidden):
        no_sudo.sys.enable_audit_device(device_type="file", options={"file_path": "/var/log/vault/audit.log"})
    with_sudo = token_with_policy(
        vault_server,
        vault_client,
        "ops-sudo",
        'path "sys/auth/*" { capabilities = ["create", "update", "sudo"] }',
    )
    with_sudo.sys.enable_auth_method(method_type="approle")
    assert "approle/" in vault_client.sys.list_auth_methods()["data"]


def test_unknown_route_is_404_for_root_and_403_for_others(vault_server, vault_client):
    with pytest.raises(hx.InvalidPath) as excinfo:
        vault_client.adapter.get("/v1/nowhere/thing")
    assert excinfo.value.errors == ['no handler for route "nowhere/thing". route entry not found.']
    other = token_with_policy(vault_server, vault_client, "app-read", READ_ONLY_POLICY)
    with pytest.raises(hx.Forbidden):
        other.adapter.get("/v1/nowhere/thing")


# --- AWS auth, iam login (api-docs/auth/aws; builtin/credential/aws/path_login.go) --------------------------


@pytest.fixture
def aws_auth(vault_client):
    vault_client.sys.enable_auth_method(method_type="aws")
    vault_client.sys.create_or_update_acl_policy(
        name="ci", policy='path "secret/data/ci/*" {capabilities=["read"]}'
    )
    vault_client.auth.aws.create_role(
        role="ci-deployer", auth_type="iam", bound_iam_principal_arn=[CI_ROLE_ARN], policies=["ci"], ttl="15m"
    )
    return vault_client.auth.aws


def test_aws_iam_login_maps_signed_request_to_role(vault_server, aws_auth):
    vault_server.register_iam_identity(
        FAKE_ACCESS_KEY, "arn:aws:sts::123456789012:assumed-role/ci-deployer/run-42"
    )
    client = vault_server.client(token="")
    login = client.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="ci-deployer")["auth"]
    assert login["policies"] == ["ci", "default"] and login["lease_duration"] == 900
    assert (
        login["metadata"]["canonical_arn"] == CI_ROLE_ARN
        and login["metadata"]["account_id"] == "123456789012"
    )
    assert client.token == login["client_token"]
    assert client.auth.token.lookup_self()["data"]["display_name"] == "aws-ci-deployer"


def test_aws_iam_login_refusals(vault_server, aws_auth):
    client = vault_server.client(token="")
    with pytest.raises(hx.InvalidRequest, match="InvalidClientTokenId"):
        client.auth.aws.iam_login(
            FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="ci-deployer"
        )  # STS does not know the key
    vault_server.register_iam_identity(FAKE_ACCESS_KEY, "arn:aws:iam::123456789012:role/someone-else")
    with pytest.raises(hx.InvalidRequest) as excinfo:
        client.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="ci-deployer")
    principal = "arn:aws:iam::123456789012:role/someone-else"
    assert excinfo.value.errors == [f'IAM Principal "{principal}" does not belong to the role "ci-deployer"']
    with pytest.raises(hx.InvalidRequest, match="entry for role no-such-role not found"):
        client.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="no-such-role")


def test_aws_iam_login_wildcard_binding_and_signature_check(vault_server, vault_client, aws_auth):
    aws_auth.create_role(
        role="any-runner",
        auth_type="iam",
        bound_iam_principal_arn=["arn:aws:iam::123456789012:role/runners/*"],
        policies=["ci"],
    )
    vault_server.register_iam_identity(
        FAKE_ACCESS_KEY, "arn:aws:iam::123456789012:role/runners/linux-1", secret_access_key=FAKE_SECRET_KEY
    )
    client = vault_server.client(token="")
    assert client.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="any-runner")["auth"][
        "client_token"
    ]
    with pytest.raises(hx.InvalidRequest, match="SignatureDoesNotMatch"):
        client.auth.aws.iam_login(FAKE_ACCESS_KEY, "example-wrong-secret-key", role="any-runner")


def test_aws_iam_server_id_header_is_enforced(vault_server, aws_auth):
    aws_auth.configure(iam_server_id_header_value="vault.example.internal")
    assert aws_auth.read_config()["iam_server_id_header_value"] == "vault.example.internal"
    vault_server.register_iam_identity(FAKE_ACCESS_KEY, CI_ROLE_ARN)
    client = vault_server.client(token="")
    with pytest.raises(hx.InvalidRequest, match="error validating X-Vault-AWS-IAM-Server-ID header"):
        client.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="ci-deployer")
    login = client.auth.aws.iam_login(
        FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="ci-deployer", header_value="vault.example.internal"
    )
    assert login["auth"]["policies"] == ["ci", "default"]


def test_aws_role_write_resolves_bound_arns_with_vaults_own_iam_access(vault_server, vault_client, aws_auth):
    """path_role.go: with resolve_aws_unique_ids (the default) each non-wildcard bound ARN is resolved with
    iam:GetRole/GetUser when the role is written; a failure is a 400 naming the ARN."""
    vault_server.set_iam_lookups_allowed(False)
    arn = "arn:aws:iam::123456789012:role/payments-api"
    with pytest.raises(hx.InvalidRequest) as refused:
        aws_auth.create_role(role="payments", auth_type="iam", bound_iam_principal_arn=[arn], policies=["ci"])
    assert refused.value.errors[0].startswith(f'unable to resolve ARN "{arn}" to internal ID: AccessDenied')
    assert "iam:GetRole" in refused.value.errors[0]
    aws_auth.create_role(
        role="runners", auth_type="iam", bound_iam_principal_arn=["arn:aws:iam::123456789012:role/r/*"]
    )
    aws_auth.create_role(
        role="unresolved",
        auth_type="iam",
        bound_iam_principal_arn=[arn],
        resolve_aws_unique_ids=False,
        policies=["ci"],
    )
    vault_server.set_iam_lookups_allowed(True)
    aws_auth.create_role(role="payments", auth_type="iam", bound_iam_principal_arn=[arn], policies=["ci"])
    assert aws_auth.read_role("payments")["bound_iam_principal_id"]


def test_aws_role_crud(vault_client, aws_auth):
    role = aws_auth.read_role("ci-deployer")
    assert role["auth_type"] == "iam" and role["bound_iam_principal_arn"] == [CI_ROLE_ARN]
    assert (
        role["token_policies"] == ["ci"]
        and role["token_ttl"] == 900
        and role["resolve_aws_unique_ids"] is True
    )
    assert role["policies"] == ["ci"]  # created with the deprecated name, so Vault echoes it too
    assert aws_auth.list_roles()["keys"] == ["ci-deployer"]
    with pytest.raises(
        hx.InvalidRequest, match="at least one bound parameter should be specified on the role"
    ):
        aws_auth.create_role(role="unbound", auth_type="iam", policies=["ci"])
    aws_auth.delete_role("ci-deployer")
    with pytest.raises(hx.InvalidPath):
        aws_auth.read_role("ci-deployer")


# --- integrated storage (api-docs/system/storage/raft, raftautopilot) ---------------------------------------


def test_raft_configuration_and_peer_simulation(vault_server, vault_client):
    servers = vault_client.sys.read_raft_config()["data"]["config"]["servers"]
    assert servers == [
        {
            "address": "vault-0.example.internal:8201",
            "leader": True,
            "node_id": "vault-0",
            "protocol_version": "3",
            "voter": True,
        }
    ]
    vault_server.set_expected_raft_peers(3)
    vault_server.add_raft_peer("vault-1")
    state = vault_client.read("sys/storage/raft/autopilot/state")["data"]
    assert state["healthy"] is False and state["voters"] == ["vault-0", "vault-1"]  # half-joined cluster
    vault_server.add_raft_peer("vault-2")
    state = vault_client.read("sys/storage/raft/autopilot/state")["data"]
    assert (state["healthy"], state["failure_tolerance"], state["leader"]) == (True, 1, "vault-0")
    vault_server.set_raft_peer_health("vault-2", False)
    assert vault_client.read("sys/storage/raft/autopilot/state")["data"]["healthy"] is False
    vault_client.sys.remove_raft_node("vault-2")
    node_ids = [s["node_id"] for s in vault_client.sys.read_raft_config()["data"]["config"]["servers"]]
    assert node_ids == ["vault-0", "vault-1"]


def test_autopilot_configuration_read_write_and_validation(vault_client):
    config = vault_client.read("sys/storage/raft/autopilot/configuration")["data"]
    assert (
        config["dead_server_last_contact_threshold"] == "24h0m0s"
        and config["last_contact_threshold"] == "10s"
    )
    vault_client.write_data(
        "sys/storage/raft/autopilot/configuration",
        data={"cleanup_dead_servers": True, "min_quorum": 3, "dead_server_last_contact_threshold": "10m"},
    )
    config = vault_client.read("sys/storage/raft/autopilot/configuration")["data"]
    assert (config["cleanup_dead_servers"], config["min_quorum"]) == (True, 3)
    assert config["dead_server_last_contact_threshold"] == "10m0s"
    with pytest.raises(hx.InvalidRequest, match="min_quorum must be set when cleanup_dead_servers is set"):
        vault_client.write_data("sys/storage/raft/autopilot/configuration", data={"min_quorum": 1})


# --- fault injection and the request log (test-only controls) ----------------------------------------------


def test_next_n_requests_fail_then_succeed(vault_server, vault_client):
    vault_client.secrets.kv.v2.create_or_update_secret("app/db", FAKE_SECRET)
    vault_server.fail_next(2, status=503, path_prefix="secret/")
    vault_client.sys.read_seal_status()  # other paths are unaffected
    for _ in range(2):
        with pytest.raises(hx.VaultDown, match="Vault is sealed"):
            vault_client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    assert vault_client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"][
        "data"
    ]
    statuses = [(r.path, r.status, r.fault) for r in vault_server.request_log[-3:]]
    assert statuses == [
        ("secret/data/app/db", 503, "fail:503"),
        ("secret/data/app/db", 503, "fail:503"),
        ("secret/data/app/db", 200, None),
    ]


@pytest.mark.parametrize(
    ("status", "exception", "text"),
    [
        (429, hx.RateLimitExceeded, 'request path "auth/token/lookup-self": rate limit quota exceeded'),
        (500, hx.InternalServerError, "internal error"),
        (412, hx.UnexpectedError, "required index state not present"),
    ],
)
def test_injected_status_codes_map_to_hvac_exceptions(vault_server, vault_client, status, exception, text):
    vault_server.fail_next(status=status)
    with pytest.raises(exception) as excinfo:
        vault_client.auth.token.lookup_self()
    assert excinfo.value.errors == [text]


def test_dropped_connection_raises_connection_error(vault_server, vault_client):
    vault_client.auth.token.lookup_self()  # warm the keep-alive connection
    vault_server.drop_next()
    with pytest.raises(requests.exceptions.ConnectionError):
        vault_client.auth.token.lookup_self()
    assert vault_client.auth.token.lookup_self()["data"]["policies"] == ["root"]
    assert vault_server.request_log[-2].fault == "drop"


def test_added_latency_delays_responses(vault_server, vault_client):
    vault_server.add_latency(0.2, path_prefix="sys/health", count=1)
    started = time.perf_counter()
    vault_client.sys.read_health_status()
    assert time.perf_counter() - started >= 0.2  # a lower bound: never flaky on a slow machine
    vault_client.sys.read_health_status()
    delayed, plain = (entry.duration_ms for entry in vault_server.request_log[-2:])
    assert delayed >= 200 and plain < delayed  # count=1: only the first request was held back


def test_request_log_records_accessors_never_secrets(vault_server, vault_client):
    vault_client.secrets.kv.v2.create_or_update_secret("app/db", FAKE_SECRET)
    accessor = vault_client.auth.token.lookup_self()["data"]["accessor"]
    records = vault_server.request_log
    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "secret/data/app/db", 200),
        ("GET", "auth/token/lookup-self", 200),
    ]
    assert all(r.token_accessor == accessor for r in records)
    dump = repr(records)
    assert vault_server.root_token not in dump and "example-not-a-secret" not in dump


# --- concurrency, lifecycle, honest scope -----------------------------------------------------------------


def test_concurrent_cas_writers_get_consistent_versions(vault_server):
    writes_per_thread, threads = 6, 8
    won: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        client = vault_server.client()
        kv = client.secrets.kv.v2
        try:
            for n in range(writes_per_thread):
                while True:
                    try:
                        current = kv.read_secret_metadata("shared/counter")["data"]["current_version"]
                    except hx.InvalidPath:
                        current = 0
                    try:
                        result = kv.create_or_update_secret(
                            "shared/counter", {"writer": f"{index}-{n}"}, cas=current
                        )
                    except hx.InvalidRequest:
                        continue  # lost the race: re-read and retry, as a CAS client does
                    with lock:
                        won.append(result["data"]["version"])
                    break
                kv.read_secret_version("shared/counter", raise_on_deleted_version=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.adapter.close()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors
    total = writes_per_thread * threads
    assert sorted(won) == list(range(1, total + 1))  # every version issued exactly once
    metadata = vault_server.client().secrets.kv.v2.read_secret_metadata("shared/counter")["data"]
    assert metadata["current_version"] == total and metadata["oldest_version"] == total - 9


def test_start_binds_loopback_reuses_connections_and_stops_cleanly():
    before = set(threading.enumerate())
    server = VaultTestServer().start()  # start-up time is measured by benchmarks/, not asserted here
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    client = server.client()
    for _ in range(10):
        client.auth.token.lookup_self()
    assert server.connections_accepted == 1  # HTTP/1.1 keep-alive: one connection for the session
    server.stop()
    time.sleep(0.05)
    assert set(threading.enumerate()) <= before
    with pytest.raises(requests.exceptions.ConnectionError):
        client.auth.token.lookup_self()


def test_unimplemented_endpoints_answer_404_or_405_with_error_bodies(vault_server, vault_client):
    token = vault_server.root_token
    subkeys = raw(vault_server, "GET", "secret/subkeys/app/db", token)
    assert (subkeys.status_code, subkeys.json()) == (
        404,
        {"errors": ["1 error occurred:\n\t* unsupported path\n\n"]},
    )
    sys_unknown = raw(vault_server, "GET", "sys/replication/status", token)
    assert sys_unknown.status_code == 404 and sys_unknown.json()["errors"]
    vault_client.sys.enable_secrets_engine(backend_type="transit")
    transit = raw(vault_server, "POST", "transit/keys/app", token, json={})
    assert transit.status_code == 404 and "not implemented" in transit.json()["errors"][0]
    trace = raw(vault_server, "TRACE", "secret/data/app/db", token)
    assert (trace.status_code, trace.json()) == (405, {"errors": []})
    init_delete = raw(vault_server, "DELETE", "sys/init", token)
    assert init_delete.status_code == 405
    outside = requests.get(f"{vault_server.url}/v2/whatever", timeout=5)
    assert (outside.status_code, outside.json()) == (404, {"errors": []})
    bad_json = raw(vault_server, "POST", "secret/data/app/db", token, data="{not json")
    assert bad_json.status_code == 400 and bad_json.json()["errors"][0].startswith(
        "failed to parse JSON input"
    )
    assert not vault_server.internal_errors
