"""The Secrets Manager canary `tools.validate` writes and reads back: one secret, encrypted with the secrets
key, whose policy lets only the deployers and the configured validators write and read it, and only the
deployers manage it; a stranger is denied everything."""

import json

import pytest

from components.catalog.canary import CHECK_ACTIONS, MANAGE_ACTIONS
from tests.support.fakes import ACCOUNT_ID
from tests.support.iam_lint import findings
from tests.support.mocks import run_program
from tests.test_deployer_principals import CI, RUNNING, STRANGER, denied

pytestmark = pytest.mark.slow
SECRET = "aws:secretsmanager/secret:Secret"
POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
VALIDATOR = f"arn:aws:iam::{ACCOUNT_ID}:role/candlefish-nightly-validate"


@pytest.fixture(scope="module")
def recording():
    return run_program(
        "production",
        overrides={
            "candlefish-secrets:deployerPrincipals": ["candlefish-ci-deploy"],
            "candlefish-secrets:validatorPrincipals": ["candlefish-nightly-validate"],
        },
    )


def canary_policy(recording) -> dict:
    policy: dict = json.loads(recording.one(POLICY, "canary-policy").inputs["policy"])
    return policy


def test_the_canary_is_named_encrypted_with_the_secrets_key_tagged_and_exported(recording):
    secret = recording.one(SECRET, "canary-secret")
    assert secret.inputs["name"] == "candlefish/production/canary/validate"
    secrets_key = recording.one("aws:kms/key:Key", "keys-secrets")
    assert secret.inputs["kmsKeyId"] == secrets_key.outputs["arn"]
    assert secret.inputs["tags"]["Purpose"] == "validate-canary"
    assert secret.inputs["recoveryWindowInDays"] == 30
    assert recording.outputs["canarySecretArn"] == secret.outputs["arn"]
    # Not a catalog secret: nothing rotates it and the catalog's rules do not apply.
    assert "SecretType" not in secret.inputs["tags"]
    policy = recording.one(POLICY, "canary-policy")
    assert policy.inputs["secretArn"] == secret.outputs["arn"] and policy.inputs["blockPublicPolicy"] is True


@pytest.mark.parametrize("caller", [RUNNING, CI, VALIDATOR], ids=["running-deployer", "ci", "validator"])
@pytest.mark.parametrize("action", CHECK_ACTIONS)
def test_deployers_and_validators_may_write_and_read_the_canary(recording, caller, action):
    assert not denied(canary_policy(recording), action, caller)


@pytest.mark.parametrize("action", CHECK_ACTIONS + MANAGE_ACTIONS)
def test_a_stranger_is_denied_every_use_of_the_canary(recording, action):
    assert denied(canary_policy(recording), action, STRANGER)


@pytest.mark.parametrize(
    "action",
    ["secretsmanager:PutResourcePolicy", "secretsmanager:DeleteSecret", "secretsmanager:TagResource"],
)
def test_a_validator_may_not_manage_the_canary_but_a_deployer_may(recording, action):
    policy = canary_policy(recording)
    assert denied(policy, action, VALIDATOR)
    assert not denied(policy, action, CI)


def test_without_configured_validators_a_validator_role_is_a_stranger(production):
    policy = json.loads(production.one(POLICY, "canary-policy").inputs["policy"])
    assert denied(policy, "secretsmanager:GetSecretValue", VALIDATOR)
    assert not denied(policy, "secretsmanager:GetSecretValue", RUNNING)


def test_the_canary_policy_lints_clean(recording):
    assert findings(canary_policy(recording), resource_policy=True) == []
