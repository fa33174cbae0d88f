"""The bootstrap's desired-configuration model, without Vault: durations, digests, drift sentences."""

from typing import Any

import pytest

from components.vault.policies import app_policy_name, render_policies
from providers import vault_reconcile
from providers.common import BootstrapError
from providers.vault_config import desired, differences, digest, duration_seconds, validate
from providers.vault_reconcile import protected_differences
from providers.vault_waits import Waits, spell

POLICIES = dict(render_policies([("payments", ["candlefish/payments"])], region="us-east-1"))
PROPS = {
    "node_role_arn": "arn:aws:iam::123456789012:role/vault-node",
    "rotation_role_arn": "",
    "app_roles": [
        {
            "name": "payments",
            "bound_arn": "arn:aws:iam::123456789012:role/p",
            "token_policies": ["app-payments-readonly"],
        }
    ],
    "ci_approle": {"token_policies": ["platform-team"]},
    "policies": POLICIES,
    "cluster_size": 5,
}


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("10m", 600),
        ("10m0s", 600),
        ("24h0m0s", 86400),
        ("1h30m", 5400),
        ("90", 90),
        (90, 90),
        ("", 0),
        ("500ms", 0),
    ],
)
def test_vault_and_go_durations(given, seconds):
    assert duration_seconds(given) == seconds


@pytest.mark.parametrize("given", ["ten minutes", "10x", True, "m"])
def test_bad_durations_are_refused(given):
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds(given)


def test_the_digest_ignores_order_and_text_padding():
    reordered = {**PROPS, "policies": dict(reversed(list(POLICIES.items())))}
    padded = {**PROPS, "policies": {name: f"\n{text}\n\n" for name, text in POLICIES.items()}}
    assert digest(desired(PROPS)) == digest(desired(reordered)) == digest(desired(padded))
    assert digest(desired({**PROPS, "autopilot": {"min_quorum": 5}})) != digest(desired(PROPS))


def test_defaults_follow_the_deployment_guide():
    wanted = desired(PROPS)
    assert wanted["autopilot"] == {
        "cleanup_dead_servers": True,
        "dead_server_last_contact_threshold": 600,
        "last_contact_threshold": 10,
        "server_stabilization_time": 10,
        "min_quorum": 3,
        "max_trailing_logs": 1000,
    }
    assert set(wanted["audit"]) == {"file/", "syslog/"}
    assert "rotation" not in wanted["aws_roles"]  # no rotation role ARN given
    assert wanted["aws_roles"]["payments"]["token_policies"] == [app_policy_name("payments")]
    ci = wanted["approle_roles"]["ci"]
    assert (ci["secret_id_num_uses"], ci["secret_id_ttl"]) == (1, 3600)  # one login, within the hour


def test_differences_name_what_differs_without_values():
    wanted = desired(PROPS)
    live = {**wanted, "policies": {**wanted["policies"], "admin": "changed", "rotation": None}}
    assert differences(wanted, live) == ["policy admin differs", "policy rotation is missing"]


def test_validation_reports_every_problem():
    bad = {
        **PROPS,
        "recovery_shares": 5,
        "recovery_threshold": 1,
        "app_roles": [
            {"name": "snapshot", "bound_arn": "arn:aws:iam::1:role/x", "token_policies": []},
            {
                "name": "billing",
                "bound_arn": "arn:aws:iam::1:role/b",
                "token_policies": ["app-billing-readonly"],
            },
            {
                "name": "billing",
                "bound_arn": "arn:aws:iam::1:role/c",
                "token_policies": ["app-billing-readonly"],
            },
        ],
        "policies": {},
        "ci_approle": {"token_policies": [], "secret_id_num_uses": 0, "secret_id_ttl": "0"},
    }
    with pytest.raises(BootstrapError) as invalid:
        validate(bad)
    message = str(invalid.value)
    for expected in (
        "recovery_threshold must be greater than one",
        "the 'provisioner' policy is required",
        "app role 'snapshot': the name is reserved",
        "AWS auth role billing: token policy 'app-billing-readonly' is not among the policies written",
        "ci_approle.token_policies: name the policies CI tokens get",
        "app role 'billing' is listed more than once",
        "ci_approle.secret_id_num_uses must be at least 1",
        "ci_approle.secret_id_ttl must be between 1s and 24h (0 never expires)",
    ):
        assert expected in message


def test_roles_may_only_carry_policies_the_provisioner_can_bind_again():
    """The first run writes roles as root; later runs rewrite them as the provisioner, whose policy binds
    only BINDABLE_POLICIES: a role with another policy would fail every later run, so it fails now."""
    bad = {**PROPS, "ci_approle": {"token_policies": ["admin"]}}
    with pytest.raises(
        BootstrapError, match=r"AppRole role ci: token policy 'admin' is not one the provisioner"
    ):
        validate(bad)
    validate({**PROPS, "ci_approle": {"token_policies": ["platform-team", "app-db-readonly"]}})


def test_waits_read_only_known_fields_and_durations_read_well():
    assert Waits.from_props({"peers_s": "1.5", "unknown": 3}).peers_s == 1.5
    assert (spell(600), spell(90), spell(0.3)) == ("10 min", "90 s", "0.3 s")


BREAK_GLASS = {"broker_role_arn": "arn:aws:iam::123456789012:role/candlefish-test-break-glass-broker"}


def test_break_glass_adds_its_token_roles_and_the_brokers_login():
    wanted = desired({**PROPS, "break_glass": {**BREAK_GLASS, "max_ttl": "2h"}})
    assert set(wanted["token_roles"]) == {"break-glass", "break-glass-drill"}
    role = wanted["token_roles"]["break-glass"]
    assert role["allowed_policies"] == ["break-glass"] and role["token_explicit_max_ttl"] == 7200
    assert role["orphan"] is True and role["renewable"] is False and role["token_period"] == 0
    broker = wanted["aws_roles"]["break-glass-broker"]
    assert broker["token_policies"] == ["break-glass-broker"] and broker["token_max_ttl"] == 900
    assert broker["bound_iam_principal_arn"] == [BREAK_GLASS["broker_role_arn"]]
    validate({**PROPS, "break_glass": BREAK_GLASS})  # the broker policy may be bound to its own role
    assert (
        desired({**PROPS, "break_glass": BREAK_GLASS})["token_roles"]["break-glass"]["token_explicit_max_ttl"]
        == 3600
    )
    assert desired(PROPS)["token_roles"] == {} and "break-glass-broker" not in desired(PROPS)["aws_roles"]


@pytest.mark.parametrize(
    ("break_glass", "message"),
    [
        ({**BREAK_GLASS, "max_ttl": "5h"}, r"break_glass.max_ttl must be between 5m and 4h"),
        ({**BREAK_GLASS, "max_ttl": "1m"}, r"break_glass.max_ttl must be between 5m and 4h"),
        ({"broker_role_arn": ""}, r"break_glass.broker_role_arn: the broker Lambda role's ARN is required"),
    ],
)
def test_bad_break_glass_settings_are_refused(break_glass, message):
    with pytest.raises(BootstrapError, match=message):
        validate({**PROPS, "break_glass": break_glass})


def test_an_app_role_may_not_carry_the_broker_policy():
    apps = [
        {
            "name": "payments",
            "bound_arn": "arn:aws:iam::123456789012:role/p",
            "token_policies": ["break-glass-broker"],
        }
    ]
    with pytest.raises(
        BootstrapError, match=r"AWS auth role payments: token policy 'break-glass-broker' is not one"
    ):
        validate({**PROPS, "app_roles": apps, "break_glass": BREAK_GLASS})


def test_protected_differences_name_the_break_glass_settings():
    wanted = desired({**PROPS, "break_glass": BREAK_GLASS})
    live = {
        **wanted,
        "token_roles": {"break-glass": None, "break-glass-drill": wanted["token_roles"]["break-glass-drill"]},
    }
    live["aws_roles"] = {**wanted["aws_roles"], "break-glass-broker": None}
    assert protected_differences(wanted, live) == [
        ("token role break-glass", "auth/token/roles/break-glass"),
        ("AWS auth role break-glass-broker", "auth/aws/role/break-glass-broker"),
    ]
    assert differences(wanted, live) == [
        "AWS auth role break-glass-broker is missing",
        "token role break-glass is missing",
    ]


def test_a_ci_role_without_lifetimes_gets_the_documented_ones():
    # CiAppRoleSettings: one login per secret ID within the hour; the CI token lives 20 minutes and may be
    # renewed up to an hour. A role given no lifetimes (state from before they were inputs) gets these.
    ci = desired({**PROPS, "ci_approle": {"token_policies": ["platform-team"]}})["approle_roles"]["ci"]
    assert (ci["token_ttl"], ci["token_max_ttl"]) == (20 * 60, 60 * 60)
    assert (ci["secret_id_ttl"], ci["secret_id_num_uses"]) == (60 * 60, 1)


@pytest.mark.parametrize(
    ("server_id", "header"),
    [
        # Set: Vault refuses a signed login not made for this server (a login signed for another
        # Vault cannot be replayed here). Unset: Vault requires no header, so clients need not send one.
        ("vault.candlefish.example", "vault.candlefish.example"),
        ("", ""),
        (None, ""),
    ],
)
def test_the_aws_auth_server_id_header_is_the_one_configured(server_id, header):
    wanted = desired({**PROPS, "iam_server_id": server_id})
    assert wanted["aws_client"]["iam_server_id_header_value"] == header


NO_CHANGE_NEEDED = None  # these conflicts are refused before any call to Vault is made


def conflict(kind, path, want, have):
    """The refusal `vault_reconcile` gives for a live `have` where the config wants `want`."""
    empty: dict[str, dict[str, Any]] = {"audit": {}, "mounts": {}, "auth": {}}
    wanted, live = {**empty, kind: {path: want}}, {**empty, kind: {path: have}}
    step = vault_reconcile._audit if kind == "audit" else vault_reconcile._mounts
    with pytest.raises(BootstrapError) as caught:
        step(NO_CHANGE_NEEDED, wanted, live)
    return str(caught.value)


def test_an_audit_device_with_other_settings_is_refused_with_how_to_replace_it():
    # The bootstrap never disables an audit device (Vault stops answering when none can log).
    message = conflict(
        "audit",
        "file/",
        {"type": "file", "options": {"file_path": "/var/log/vault/audit.log"}},
        {"type": "file", "options": {"file_path": "/tmp/audit.log"}},
    )
    assert message.startswith(
        "audit device file/ exists with other settings than wanted (file ['file_path'])"
    )
    assert "`vault audit disable file/`" in message


def test_a_mount_of_another_engine_is_refused_with_how_to_move_it():
    # Unmounting would delete the engine's data: the operator moves it instead.
    message = conflict("mounts", "secret/", {"type": "kv", "version": "2"}, {"type": "database"})
    assert message.startswith("secret/ is a database mount, not kv;")
    assert "`vault secrets move secret/ <other>/`" in message


def test_an_auth_method_of_another_type_is_refused_with_how_to_disable_it():
    message = conflict("auth", "aws/", {"type": "aws"}, {"type": "userpass"})
    assert message.startswith("auth/aws/ is a userpass auth method, not aws;")
    assert "`vault auth disable aws/`" in message
