"""The VaultBootstrap component under the recording mocks: the break-glass secret, its resource policy,
and the bootstrap resource with its sensitive input and output kept secret."""

import json

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from components.deployment import AwsContext, Deployment
from components.vault.bootstrap import (
    AppRole,
    VaultBootstrap,
    VaultBootstrapArgs,
    break_glass_policy,
    deployer_role_arn,
    principal_patterns,
)
from providers.bootstrap_inputs import CiAppRole
from tests.support.fakes import ACCOUNT_ID
from tests.support.iam_lint import findings
from tests.support.mocks import run_under_mocks

SECRETS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/0b6c3c4e-0000-4000-8000-000000000001"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/candlefish-test-vault-node"
ADOPT_TOKEN = "example-not-a-secret-adopt-token"
DYNAMIC = "pulumi-python:dynamic/candlefish:BootstrappedVault"


def _args(**overrides):
    context = AwsContext(account_id=ACCOUNT_ID, partition="aws", region="us-east-1")
    deployment = Deployment(
        environment="test", production=overrides.pop("production", False), aws=context, vault_nodes=5
    )
    return VaultBootstrapArgs(
        deployment=deployment,
        vault_address=pulumi.Output.from_input("https://vault.example.internal"),
        ca_pem=pulumi.Output.from_input(
            "-----BEGIN CERTIFICATE-----\nZXhhbXBsZQ==\n-----END CERTIFICATE-----"
        ),
        secrets_key_arn=SECRETS_KEY,
        node_role_arn=NODE_ROLE,
        ci_approle=CiAppRole(token_policies=["platform-team"], bound_cidrs=["10.20.0.0/16"]),
        app_roles=[
            AppRole("payments", f"arn:aws:iam::{ACCOUNT_ID}:role/payments-api", ["candlefish/payments"])
        ],
        adopt_token=pulumi.Output.secret(ADOPT_TOKEN),
        **overrides,
    )


def build(**overrides):
    return run_under_mocks(lambda: VaultBootstrap("bootstrap", _args(**overrides)))


@pytest.fixture(scope="module")
def recording():
    return build()


def test_the_break_glass_secret_uses_the_secrets_key_and_a_30_day_recovery_window(recording):
    secret = recording.one("aws:secretsmanager/secret:Secret", "bootstrap-break-glass")
    assert secret.inputs["kmsKeyId"] == SECRETS_KEY
    assert secret.inputs["recoveryWindowInDays"] == 30
    assert secret.inputs["name"] == "candlefish/test/vault/break-glass"
    assert recording.component_of(secret).type == "candlefish:secrets:VaultBootstrap"


def test_the_secret_policy_denies_reading_to_all_but_break_glass_and_the_deployer(recording):
    policy = recording.one("aws:secretsmanager/secretPolicy:SecretPolicy", "bootstrap-break-glass-policy")
    secret = recording.one("aws:secretsmanager/secret:Secret", "bootstrap-break-glass")
    assert policy.inputs["blockPublicPolicy"] is True
    assert policy.inputs["secretArn"] == secret.outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    read = statements["DenyReadExceptBreakGlassAndDeployer"]
    assert read["Effect"] == "Deny" and read["Principal"] == {"AWS": "*"}
    assert read["Action"] == "secretsmanager:GetSecretValue"
    role = f"arn:aws:iam::{ACCOUNT_ID}:role"
    assert read["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        f"{role}/*/candlefish-test-break-glass",
        f"{role}/*/deployer",
        f"{role}/candlefish-test-break-glass",
        f"{role}/deployer",
    ]
    write = statements["DenyWriteExceptDeployer"]
    assert write["Effect"] == "Deny" and write["Principal"] == {"AWS": "*"}
    assert set(write["Action"]) == {
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:UpdateSecret",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:DeleteSecret",
        "secretsmanager:RestoreSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
    }
    assert write["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [f"{role}/deployer", f"{role}/*/deployer"]
    assert findings(policy.inputs["policy"], resource_policy=True) == []


def test_the_bootstrap_keeps_its_token_input_and_output_secret(recording):
    vault = recording.one(DYNAMIC, "bootstrap-vault")
    assert vault.is_secret("adopt_token") and vault.inputs["adopt_token"] == ADOPT_TOKEN
    assert vault.additional_secret_outputs == ["provisioner_token"]
    public = {key: value for key, value in vault.inputs.items() if key not in {"adopt_token", "__provider"}}
    assert ADOPT_TOKEN not in json.dumps(public)


def test_the_components_provisioner_token_is_a_secret_output():
    built = []

    def program():
        built.append(VaultBootstrap("bootstrap", _args()))

    run_under_mocks(program)
    assert _sync_await(built[0].provisioner_token.is_secret()) is True


def test_the_bootstrap_is_wired_to_the_secret_after_its_policy(recording):
    vault = recording.one(DYNAMIC, "bootstrap-vault")
    secret = recording.one("aws:secretsmanager/secret:Secret", "bootstrap-break-glass")
    policy = recording.one("aws:secretsmanager/secretPolicy:SecretPolicy", "bootstrap-break-glass-policy")
    assert vault.inputs["break_glass_secret_id"] == secret.outputs["arn"]
    assert policy.urn in vault.dependencies
    assert recording.component_of(vault).name == "bootstrap"
    assert vault.inputs["node_role_arn"] == NODE_ROLE and vault.inputs["cluster_size"] == 5
    assert vault.inputs["app_roles"][0]["token_policies"] == ["app-payments-readonly"]
    assert "secret/data/candlefish/payments/*" in vault.inputs["policies"]["app-payments-readonly"]
    ci = vault.inputs["ci_approle"]
    assert ci["token_policies"] == ["platform-team"]
    assert (ci["secret_id_num_uses"], ci["secret_id_ttl"]) == (1, "1h")  # one login, within the hour
    assert recording.warnings == []


def test_explicit_principals_replace_the_defaults():
    recording = build(
        deployer_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/ci/pulumi-deployer",
        break_glass_principal_patterns=[f"arn:aws:iam::{ACCOUNT_ID}:role/security/break-glass-*"],
    )
    policy = json.loads(recording.one("aws:secretsmanager/secretPolicy:SecretPolicy").inputs["policy"])
    readers = policy["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert f"arn:aws:iam::{ACCOUNT_ID}:role/security/break-glass-*" in readers
    assert f"arn:aws:iam::{ACCOUNT_ID}:role/*/pulumi-deployer" in readers
    assert not any("candlefish-test-break-glass" in reader for reader in readers)


PGP_KEYS = [f"ZXhhbXBsZS1ub3QtYS1rZXkt{index}A==" for index in range(5)]  # base64, obviously fake


@pytest.mark.parametrize(
    ("production", "keys", "warned"),
    [(True, [], True), (True, PGP_KEYS, False), (False, [], False)],
    ids=["production-without-keys", "production-with-keys", "dev"],
)
def test_production_without_recovery_pgp_keys_warns_that_the_shares_are_stored_unencrypted(
    production, keys, warned
):
    recording = build(production=production, recovery_pgp_keys=keys)
    warnings = [w for w in recording.warnings if "vaultRecoveryPgpKeys" in w]
    assert bool(warnings) is warned
    if warned:
        (warning,) = warnings
        assert "unencrypted" in warning and "candlefish/test/vault/break-glass" in warning
        assert "pulumi config set --path 'vaultRecoveryPgpKeys[0]'" in warning


@pytest.mark.parametrize(
    ("caller", "role"),
    [
        (
            f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session-1",
            f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
        ),
        (f"arn:aws:iam::{ACCOUNT_ID}:role/deployer", f"arn:aws:iam::{ACCOUNT_ID}:role/deployer"),
        (f"arn:aws-us-gov:sts::{ACCOUNT_ID}:assumed-role/d/s", f"arn:aws-us-gov:iam::{ACCOUNT_ID}:role/d"),
    ],
)
def test_the_deployer_role_behind_a_session(caller, role):
    assert deployer_role_arn(caller) == role


def test_role_patterns_cover_iam_paths():
    assert principal_patterns(f"arn:aws:iam::{ACCOUNT_ID}:role/ci/deployer") == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
        f"arn:aws:iam::{ACCOUNT_ID}:role/*/deployer",
    ]
    user = f"arn:aws:iam::{ACCOUNT_ID}:user/alice"
    assert principal_patterns(user) == [user]


def test_the_policy_document_passes_parliament_as_data():
    doc = break_glass_policy([f"arn:aws:iam::{ACCOUNT_ID}:role/x"], [f"arn:aws:iam::{ACCOUNT_ID}:role/y"])
    assert findings(doc, resource_policy=True) == []
