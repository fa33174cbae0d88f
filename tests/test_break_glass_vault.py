"""Break-glass against a real OpenBao server: the token roles and policies the bootstrap writes, the
broker's mint (wrapped, orphan, not renewable, capped TTL) and revocation by accessor, and the whole
broker flow with moto for the AWS side.

OpenBao has no AWS auth method, so the broker's login is a token with the `break-glass-broker` policy
that the root token issues per login (the same policy the AWS auth role grants).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions as hx
import pytest

from components.vault.policies import render_policies
from lambdas.break_glass_broker.tokens import TokenError, Tokens
from lambdas.rotation.vault import VaultClient, VaultError
from providers import vault_break_glass as vbg
from providers import vault_reconcile
from providers.vault_reconcile import token_roles_view
from tests.support.break_glass import MAX_TTL_S, BrokerStack, approver, requester

pytestmark = pytest.mark.openbao


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit") / "vault-audit.log"


@pytest.fixture(scope="module")
def vault(break_glass_vault: hvac.Client, audit_log: Path) -> Iterator[hvac.Client]:
    """The break-glass configuration plus a file audit device at `file/`, as on the cluster (removed
    again afterwards)."""
    break_glass_vault.sys.enable_audit_device("file", path="file", options={"file_path": str(audit_log)})
    yield break_glass_vault
    break_glass_vault.sys.disable_audit_device("file")


def unwrap(openbao_dev: Any, wrapping_token: str) -> dict[str, Any]:
    client = VaultClient(openbao_dev.addr, token=wrapping_token)
    auth: dict[str, Any] = client.call("POST", "sys/wrapping/unwrap")["auth"]
    return auth


def as_token(openbao_dev: Any, token: str) -> hvac.Client:
    return openbao_dev.client(token=token)


def test_the_token_roles_read_back_as_declared(vault: hvac.Client) -> None:
    wanted = vbg.token_roles({"broker_role_arn": "arn:aws:iam::1:role/b"}, MAX_TTL_S)
    assert token_roles_view(vault, wanted) == wanted  # no perpetual drift on refresh


def test_the_live_view_of_the_configuration_includes_the_declared_token_roles(vault: hvac.Client) -> None:
    roles = vbg.token_roles({"broker_role_arn": "arn:aws:iam::1:role/b"}, MAX_TTL_S)
    sections = ("policies", "audit", "mounts", "auth", "aws_roles", "approle_roles")
    wanted = {**{section: {} for section in sections}, "token_roles": roles}
    assert vault_reconcile.live_view(vault, wanted)["token_roles"] == roles  # so a refresh sees no drift


def test_a_break_glass_token_role_made_renewable_by_hand_is_seen_as_drift(vault: hvac.Client) -> None:
    # Break-glass tokens end with their TTL (not renewable); a role changed by hand must show in the view
    # the bootstrap compares, or `pulumi refresh` would never restore it.
    wanted = vbg.token_roles({"broker_role_arn": "arn:aws:iam::1:role/b"}, MAX_TTL_S)
    role = dict(wanted[vbg.TOKEN_ROLE])
    assert role["renewable"] is False
    vault.write_data(f"auth/token/roles/{vbg.TOKEN_ROLE}", data={**role, "renewable": True})
    try:
        assert token_roles_view(vault, wanted)[vbg.TOKEN_ROLE]["renewable"] is True
    finally:
        vault.write_data(f"auth/token/roles/{vbg.TOKEN_ROLE}", data=role)
    assert token_roles_view(vault, wanted) == wanted


def test_a_minted_token_is_wrapped_orphan_not_renewable_and_capped(
    broker_login: Callable[[], VaultClient], openbao_dev: Any, vault: hvac.Client
) -> None:
    wrapped = Tokens(broker_login).mint(vbg.TOKEN_ROLE, 5 * 3600, 60, {"request_id": "r1"}, "break-glass-r1")
    assert "wrapping" not in repr(wrapped) and wrapped.wrapping_token not in repr(wrapped)
    auth = unwrap(openbao_dev, wrapped.wrapping_token)
    assert auth["accessor"] == wrapped.accessor
    assert auth["policies"] == [vbg.TOKEN_POLICY] and auth["renewable"] is False
    assert auth["orphan"] is True and auth["metadata"]["request_id"] == "r1"
    assert 0 < auth["lease_duration"] <= MAX_TTL_S  # asked for 5h, capped by the role's explicit max TTL
    with pytest.raises(VaultError):
        unwrap(openbao_dev, wrapped.wrapping_token)  # crosses the wire once
    with pytest.raises(hx.InvalidRequest):
        as_token(openbao_dev, auth["client_token"]).auth.token.renew_self()
    looked = vault.auth.token.lookup_accessor(wrapped.accessor)["data"]
    assert looked["creation_ttl"] == MAX_TTL_S and looked["role"] == vbg.TOKEN_ROLE


def test_the_broker_may_only_mint_wrapped_and_nothing_else(
    broker_login: Callable[[], VaultClient],
) -> None:
    broker = broker_login()
    with pytest.raises(VaultError) as unwrapped:
        broker.call("POST", f"auth/token/create/{vbg.TOKEN_ROLE}", {"ttl": "10m"})
    assert unwrapped.value.status in {400, 403}
    for method, path in [
        ("POST", "auth/token/create"),
        ("POST", "auth/token/create-orphan"),
        ("GET", "secret/data/anything"),
        ("POST", "sys/policies/acl/break-glass"),
        ("POST", "auth/token/roles/break-glass"),
    ]:
        with pytest.raises(VaultError) as refused:
            broker.call(method, path, {"policy": "x"} if method == "POST" else None)
        assert refused.value.status == 403, path


def test_a_break_glass_token_creates_no_tokens_and_cannot_widen_its_role(
    broker_login: Callable[[], VaultClient], openbao_dev: Any
) -> None:
    wrapped = Tokens(broker_login).mint(vbg.TOKEN_ROLE, 600, 60, {}, "break-glass")
    emergency = as_token(openbao_dev, unwrap(openbao_dev, wrapped.wrapping_token)["client_token"])
    assert emergency.sys.list_mounted_secrets_engines()  # full administration works
    for attempt in (
        lambda: emergency.auth.token.create(policies=["break-glass"]),
        lambda: emergency.auth.token.create_orphan(policies=["break-glass"]),
        lambda: emergency.write_data(f"auth/token/create/{vbg.TOKEN_ROLE}", data={}),
        lambda: emergency.write_data(f"auth/token/roles/{vbg.TOKEN_ROLE}", data={"renewable": True}),
        lambda: emergency.sys.create_or_update_acl_policy(name="break-glass", policy='path "*" {}'),
    ):
        with pytest.raises(hx.Forbidden):
            attempt()


def test_revocation_by_accessor_ends_one_grant_and_spares_another(
    broker_login: Callable[[], VaultClient], openbao_dev: Any
) -> None:
    tokens = Tokens(broker_login)
    first, second = (tokens.mint(vbg.TOKEN_ROLE, 600, 60, {}, "break-glass") for _ in range(2))
    first_token = unwrap(openbao_dev, first.wrapping_token)["client_token"]
    second_token = unwrap(openbao_dev, second.wrapping_token)["client_token"]
    assert tokens.revoke(first.accessor) is True
    with pytest.raises(hx.Forbidden):
        as_token(openbao_dev, first_token).auth.token.lookup_self()
    assert as_token(openbao_dev, second_token).auth.token.lookup_self()["data"]["accessor"] == second.accessor
    tokens.revoke(first.accessor)  # already gone: not an error
    assert tokens.lookup(first.accessor) is None and tokens.lookup(second.accessor) is not None


def test_the_token_ends_with_its_ttl(broker_login: Callable[[], VaultClient], openbao_dev: Any) -> None:
    tokens = Tokens(broker_login)
    wrapped = tokens.mint(vbg.TOKEN_ROLE, 2, 60, {}, "break-glass")
    token = unwrap(openbao_dev, wrapped.wrapping_token)["client_token"]
    deadline = time.monotonic() + 10
    while tokens.lookup(wrapped.accessor) is not None:
        assert time.monotonic() < deadline, "the 2s token outlived its TTL by 8s"
        time.sleep(0.5)
    with pytest.raises(hx.Forbidden):
        as_token(openbao_dev, token).auth.token.lookup_self()


def test_a_drill_token_proves_itself_and_reads_nothing(
    broker_login: Callable[[], VaultClient], openbao_dev: Any
) -> None:
    wrapped = Tokens(broker_login).mint(vbg.DRILL_TOKEN_ROLE, 600, 60, {}, "break-glass-drill")
    drill = as_token(openbao_dev, unwrap(openbao_dev, wrapped.wrapping_token)["client_token"])
    assert drill.auth.token.lookup_self()["data"]["policies"] == [vbg.DRILL_POLICY]
    with pytest.raises(hx.Forbidden):
        drill.sys.list_mounted_secrets_engines()


def test_a_broker_whose_vault_refuses_mints_nothing(openbao_dev: Any) -> None:
    refused = Tokens(lambda: VaultClient(openbao_dev.addr, token="example-not-a-secret"))
    with pytest.raises(TokenError, match="refused to mint"):
        refused.mint(vbg.TOKEN_ROLE, 600, 60, {}, "x")


def test_the_whole_procedure_against_openbao_and_moto(
    aws: Any, broker_login: Callable[[], VaultClient], openbao_dev: Any
) -> None:
    stack = BrokerStack.create(tokens=Tokens(broker_login))
    first = stack.approved()
    other = stack.approved(who="frank")
    granted = stack.broker.activate(requester("alice"), first)
    overlapping = stack.broker.activate(requester("frank"), other)
    token = unwrap(openbao_dev, granted["wrapping_token"])["client_token"]
    other_token = unwrap(openbao_dev, overlapping["wrapping_token"])["client_token"]
    assert as_token(openbao_dev, token).auth.token.lookup_self()["data"]["accessor"] == granted["accessor"]
    assert stack.broker.revoke(approver("dave"), first, "done")["status"] == "revoked"
    with pytest.raises(hx.Forbidden):
        as_token(openbao_dev, token).auth.token.lookup_self()
    assert as_token(openbao_dev, other_token).auth.token.lookup_self()
    stack.clock.now = overlapping["ends_at"]
    assert stack.broker.scheduled_revoke(other)["revoked"] is True
    with pytest.raises(hx.Forbidden):
        as_token(openbao_dev, other_token).auth.token.lookup_self()


def test_the_provisioner_reads_but_never_writes_the_break_glass_settings(
    vault: hvac.Client, openbao_dev: Any
) -> None:
    provisioner_policy = render_policies([], region="us-east-1")["provisioner"]
    vault.sys.create_or_update_acl_policy(name="provisioner-under-test", policy=provisioner_policy)
    issued = vault.auth.token.create(policies=["provisioner-under-test"], no_default_policy=True)
    provisioner = as_token(openbao_dev, issued["auth"]["client_token"])
    assert token_roles_view(provisioner, [vbg.TOKEN_ROLE])[vbg.TOKEN_ROLE]["orphan"] is True
    for path, data in [
        (f"auth/token/roles/{vbg.TOKEN_ROLE}", {"allowed_policies": "admin"}),
        (f"auth/token/roles/{vbg.DRILL_TOKEN_ROLE}", {"allowed_policies": "break-glass"}),
        (f"sys/policies/acl/{vbg.BROKER_POLICY}", {"policy": 'path "*" { capabilities = ["sudo"] }'}),
        (f"sys/policies/acl/{vbg.DRILL_POLICY}", {"policy": 'path "*" { capabilities = ["sudo"] }'}),
    ]:
        with pytest.raises(hx.Forbidden):
            provisioner.write_data(path, data=data)


def test_the_recorded_accessor_finds_the_tokens_requests_in_the_audit_log(
    aws: Any, vault: hvac.Client, broker_login: Callable[[], VaultClient], openbao_dev: Any, audit_log: Path
) -> None:
    stack = BrokerStack.create(tokens=Tokens(broker_login))
    rid = stack.approved()
    granted = stack.broker.activate(requester("alice"), rid)
    token = unwrap(openbao_dev, granted["wrapping_token"])["client_token"]
    as_token(openbao_dev, token).sys.list_mounted_secrets_engines()
    activated = stack.logged(rid)[-1]
    assert activated["accessor_hmac"].startswith("hmac-sha256:")
    entries = [json.loads(line) for line in audit_log.read_text().splitlines()]
    used = [
        entry
        for entry in entries
        if entry["type"] == "response"
        and (entry.get("auth") or {}).get("accessor") == activated["accessor_hmac"]
    ]
    assert [entry["request"]["path"] for entry in used] == ["sys/mounts"]
    assert used[0]["auth"]["display_name"] == f"token-break-glass-{rid}"


def test_the_bootstrap_writes_the_token_roles_with_the_admin_token_not_the_provisioner(
    vault: hvac.Client, openbao_dev: Any
) -> None:
    provisioner_policy = render_policies([], region="us-east-1")["provisioner"]
    vault.sys.create_or_update_acl_policy(name="provisioner-under-test", policy=provisioner_policy)
    issued = vault.auth.token.create(policies=["provisioner-under-test"], no_default_policy=True)
    provisioner = as_token(openbao_dev, issued["auth"]["client_token"])
    vault.delete(f"auth/token/roles/{vbg.DRILL_TOKEN_ROLE}")
    roles = vbg.token_roles({"broker_role_arn": "arn:aws:iam::1:role/b"}, 1800)
    wanted = {"aws_client": {}, "aws_roles": {}, "approle_roles": {}, "token_roles": roles}
    live = {**wanted, "token_roles": token_roles_view(vault, roles)}
    try:
        with pytest.raises(hx.Forbidden):
            vault_reconcile._roles(provisioner, wanted, live, provisioner)
        changed = vault_reconcile._roles(provisioner, wanted, live, vault)
        assert changed == [f"wrote token role {vbg.TOKEN_ROLE}", f"wrote token role {vbg.DRILL_TOKEN_ROLE}"]
        assert token_roles_view(provisioner, roles) == roles
    finally:  # the session's other tests expect the fixture's roles
        for name, role in vbg.token_roles({"broker_role_arn": "arn:aws:iam::1:role/b"}, MAX_TTL_S).items():
            vault.write_data(f"auth/token/roles/{name}", data=role)
