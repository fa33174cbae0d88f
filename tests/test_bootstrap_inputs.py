"""The bootstrap's inputs are defined once (providers/bootstrap_inputs.py) and keep the state format.

The property names below are the ones `BootstrappedVault` wrote before `BootstrapInputs` existed: stacks
deployed then hold exactly these in their state, so the new definition must write the same names and read
what they hold back.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers.bootstrap_inputs import (
    ECHOED_INPUTS,
    PROVISIONER_PERIOD,
    AwsLoginRole,
    BootstrapInputs,
    BrokerBinding,
    CiAppRole,
)
from providers.common import BootstrapError
from providers.vault_bootstrap import OUTPUTS
from providers.vault_config import AUDIT_FILE_PATH, AUTOPILOT_DEFAULTS

SIGNATURE_KEY, SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"

# The input properties of the earlier, hand-written property dict, and the names it echoed.
STATE_INPUTS = {
    "address", "ca_pem", "region", "break_glass_secret_id", "cluster_size", "recovery_shares",
    "recovery_threshold", "recovery_pgp_keys", "adopt_token", "node_role_arn", "rotation_role_arn",
    "app_roles", "ci_approle", "policies", "audit_file_path", "autopilot", "iam_server_id",
    "provisioner_period", "waits", "break_glass",
}  # fmt: skip
STATE_OUTPUTS = {
    "provisioner_token", "provisioner_accessor", "provisioner_renew_after", "config_digest", "drift",
    "changes", "managed_policies", "managed_aws_roles", "bootstrap", "break_glass_version_id",
    "root_token_revoked", "adopt_token_fingerprint", "on_delete",
}  # fmt: skip
CI = {
    "token_policies": ["platform-team"],
    "secret_id_ttl": "1h",
    "secret_id_num_uses": 1,
    "token_ttl": "20m",
    "token_max_ttl": "1h",
    "bound_cidrs": ["10.20.0.0/16"],
}
ACCOUNT = "arn:aws:iam::123456789012"
BREAK_GLASS_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/production/vault/bg-Ab1"
BROKER_ROLE = f"{ACCOUNT}:role/candlefish-production-break-glass-broker"
PAYMENTS: dict[str, Any] = {
    "name": "payments",
    "bound_arn": f"{ACCOUNT}:role/payments",
    "token_policies": ["app-payments"],
}
# What a stack's state held for the resource's inputs in the release before (values resolved).
CURRENT_STATE = {
    "address": "https://vault.example.internal:8200",
    "ca_pem": "-----BEGIN CERTIFICATE-----\nexample-not-a-secret\n-----END CERTIFICATE-----",
    "region": "us-east-1",
    "break_glass_secret_id": BREAK_GLASS_SECRET,
    "cluster_size": 5,
    "recovery_shares": 5,
    "recovery_threshold": 3,
    "recovery_pgp_keys": [],
    "adopt_token": None,
    "node_role_arn": f"{ACCOUNT}:role/candlefish-production-vault-node",
    "rotation_role_arn": "",
    "app_roles": [PAYMENTS],
    "ci_approle": CI,
    "policies": {"provisioner": 'path "sys/policies/acl/*" { capabilities = ["read"] }'},
    "audit_file_path": AUDIT_FILE_PATH,
    "autopilot": dict(AUTOPILOT_DEFAULTS),
    "iam_server_id": "vault.production.candlefish.internal",
    "provisioner_period": "720h",
    "waits": {"ready_s": 600.0},
    "break_glass": {"broker_role_arn": BROKER_ROLE, "max_ttl": "1h"},
    **dict.fromkeys(STATE_OUTPUTS, None),
}
# An older state still: written before the server id, the provisioner period, waits, break-glass access and
# autopilot settings were inputs, and with autopilot held as null.
OLDEST_STATE = {
    key: value
    for key, value in CURRENT_STATE.items()
    if key not in {"iam_server_id", "provisioner_period", "waits", "break_glass"}
} | {"autopilot": None}


# Inputs added since `BootstrapInputs` existed, each with a default an older state takes.
LATER_INPUTS = {"resume_secret_id"}


def test_the_properties_written_are_the_ones_in_existing_state_and_the_later_inputs() -> None:
    inputs = BootstrapInputs.from_properties(CURRENT_STATE)
    assert set(inputs.to_properties()) == STATE_INPUTS | LATER_INPUTS
    assert set(OUTPUTS) == STATE_OUTPUTS
    assert set(ECHOED_INPUTS) == (STATE_INPUTS | LATER_INPUTS) - {"adopt_token"}


def test_a_state_from_before_write_only_shares_resumes_by_reading_the_break_glass_secret() -> None:
    # "" is the provider's "no resume secret": deployers may read the shares (vault_bootstrap._initialise).
    assert BootstrapInputs.from_properties(CURRENT_STATE).resume_secret_id == ""


def test_the_current_state_reads_back_as_it_was_written() -> None:
    inputs = BootstrapInputs.from_properties(CURRENT_STATE)
    assert inputs.ci_approle == CiAppRole(
        token_policies=["platform-team"], bound_cidrs=["10.20.0.0/16"], secret_id_num_uses=1
    )
    assert inputs.app_roles == (AwsLoginRole(**PAYMENTS),)
    assert inputs.break_glass == BrokerBinding(BROKER_ROLE, "1h")
    written = inputs.to_properties()
    assert {key: written[key] for key in STATE_INPUTS} == {key: CURRENT_STATE[key] for key in STATE_INPUTS}


def test_an_older_state_without_the_later_inputs_takes_their_defaults() -> None:
    inputs = BootstrapInputs.from_properties(OLDEST_STATE)
    assert (inputs.iam_server_id, inputs.provisioner_period, inputs.waits, inputs.break_glass) == (
        "",
        PROVISIONER_PERIOD,
        {},
        None,
    )
    assert inputs.autopilot == AUTOPILOT_DEFAULTS
    assert inputs.cluster_size == 5 and inputs.address == CURRENT_STATE["address"]


def test_a_missing_required_property_is_named() -> None:
    broken = {key: value for key, value in CURRENT_STATE.items() if key != "node_role_arn"}
    with pytest.raises(BootstrapError, match="the bootstrap: the properties lack node_role_arn"):
        BootstrapInputs.from_properties(broken)


def test_a_nested_property_of_the_wrong_shape_is_named() -> None:
    with pytest.raises(BootstrapError, match="app_roles: expected an object, got str"):
        BootstrapInputs.from_properties({**CURRENT_STATE, "app_roles": ["payments"]})
    with pytest.raises(BootstrapError, match="ci_approle: the properties lack token_policies"):
        BootstrapInputs.from_properties({**CURRENT_STATE, "ci_approle": {"token_ttl": "20m"}})


def test_the_adopt_token_is_read_from_a_secret_marker_and_never_echoed() -> None:
    # How the engine hands a secret input to a dynamic provider (pulumi.runtime.rpc's secret signature).
    wrapped = {SIGNATURE_KEY: SECRET_SIGNATURE, "value": "example-not-a-secret"}
    inputs = BootstrapInputs.from_properties({**CURRENT_STATE, "adopt_token": wrapped})
    assert inputs.adopt_token == "example-not-a-secret"
    assert "adopt_token" not in ECHOED_INPUTS
