"""Every configured deployer may use the deployment's own secrets; a stranger may not.

The TLS bundle's and the break-glass secret's resource policies deny by `aws:PrincipalArn`; they must admit
the role running this update and every role in `deployerPrincipals` (a later `pulumi up` from CI with another
role), and deny any other principal.
"""

import json
from fnmatch import fnmatchcase

import pytest

from tests.support.fakes import ACCOUNT_ID
from tests.support.mocks import run_program

pytestmark = pytest.mark.slow
RUNNING = f"arn:aws:iam::{ACCOUNT_ID}:role/deployer"  # the mocks' session issuer
CI = f"arn:aws:iam::{ACCOUNT_ID}:role/candlefish-ci-deploy"
SSO = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_0a1b2c3d"
STRANGER = f"arn:aws:iam::{ACCOUNT_ID}:role/someone-else"
PRINCIPALS = ["candlefish-ci-deploy", "aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_*"]


def denied(policy: dict, action: str, principal_arn: str) -> bool:
    """Whether an explicit Deny of `policy` applies to `principal_arn` doing `action` (by PrincipalArn)."""
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] != "Deny" or action not in actions:
            continue
        for operator, keys in statement["Condition"].items():
            patterns = keys["aws:PrincipalArn"]
            patterns = patterns if isinstance(patterns, list) else [patterns]
            if operator == "ArnNotLike" and not any(fnmatchcase(principal_arn, p) for p in patterns):
                return True
            if operator == "ArnNotEquals" and principal_arn not in patterns:
                return True
    return False


@pytest.fixture(scope="module")
def recording():
    return run_program("production", overrides={"candlefish-secrets:deployerPrincipals": PRINCIPALS})


def policy_of(recording, name):
    return json.loads(recording.one("aws:secretsmanager/secretPolicy:SecretPolicy", name).inputs["policy"])


@pytest.mark.parametrize("deployer", [RUNNING, CI, SSO], ids=["running", "ci", "sso"])
def test_every_deployer_may_read_and_change_the_tls_bundle(recording, deployer):
    policy = policy_of(recording, "vault-tls-secret-policy")
    assert not denied(policy, "secretsmanager:GetSecretValue", deployer)
    assert not denied(policy, "secretsmanager:PutSecretValue", deployer)


@pytest.mark.parametrize("deployer", [RUNNING, CI, SSO], ids=["running", "ci", "sso"])
def test_every_deployer_may_write_the_break_glass_secret(recording, deployer):
    policy = policy_of(recording, "bootstrap-break-glass-policy")
    assert not denied(policy, "secretsmanager:PutSecretValue", deployer)


def test_a_stranger_is_denied_both_secrets(recording):
    tls = policy_of(recording, "vault-tls-secret-policy")
    assert denied(tls, "secretsmanager:GetSecretValue", STRANGER)
    assert denied(tls, "secretsmanager:PutSecretValue", STRANGER)
    break_glass = policy_of(recording, "bootstrap-break-glass-policy")
    assert denied(break_glass, "secretsmanager:GetSecretValue", STRANGER)
    assert denied(break_glass, "secretsmanager:PutSecretValue", STRANGER)


def test_without_configured_principals_a_second_deployer_is_a_stranger():
    policy = policy_of(run_program("production"), "vault-tls-secret-policy")
    assert denied(policy, "secretsmanager:GetSecretValue", CI)
    assert not denied(policy, "secretsmanager:GetSecretValue", RUNNING)
