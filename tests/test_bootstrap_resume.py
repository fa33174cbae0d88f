"""Storing write-only shares and the bootstrap-resume secret, against moto (no Vault needed).

The deployer's client refuses what AWS would under the write-only policies
(tests/support/write_only_deployer.py).
"""

from __future__ import annotations

import json

import boto3
import pytest

from providers import bootstrap_resume, break_glass
from providers.common import BootstrapError
from tests.support.secrets_labels import keep_custom_labels
from tests.support.write_only_deployer import WriteOnlyDeployer

ADDRESS = "https://vault.example.internal:8200"
ROOT_TOKEN = "example-not-a-secret-root-token"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(break_glass, "STORE_BACKOFF_S", 0)


@pytest.fixture
def secrets(aws):
    sm = boto3.client("secretsmanager")
    shares = sm.create_secret(Name="candlefish/test/vault/break-glass")["ARN"]
    resume = sm.create_secret(Name="candlefish/test/vault/bootstrap-resume")["ARN"]
    return shares, resume


def material() -> break_glass.Material:
    return break_glass.Material(
        vault_address=ADDRESS,
        recovery_shares=[f"example-share-{index}" for index in range(5)],
        recovery_threshold=3,
        pgp_encrypted=False,
        root_token=ROOT_TOKEN,
    )


def test_a_lost_answer_to_the_shares_put_is_checked_not_repeated(secrets):
    shares, _ = secrets
    deployer = WriteOnlyDeployer(shares_secret=shares, fail_after={"PutSecretValue": 0})
    sm = deployer.factory()("us-east-1")
    marker = break_glass.preflight(sm, shares, ADDRESS, write_only=True)
    deployer.fail_after["PutSecretValue"] = 1  # the shares land in moto, the answer does not come back
    version = break_glass.store(sm, shares, material(), marker, write_only=True)
    # Repeating the put would have been refused (Secrets Manager decrypts to compare); it was not repeated.
    assert deployer.operations_on(shares).count("PutSecretValue") == 2
    assert "GetSecretValue" not in deployer.operations_on(shares)
    described = boto3.client("secretsmanager").describe_secret(SecretId=shares)["VersionIdsToStages"]
    assert "AWSCURRENT" in described[version]
    assert not any(break_glass.PENDING_STAGE in stages for stages in described.values())


def test_the_readable_mode_still_reads_the_shares_back(secrets):
    shares, _ = secrets
    deployer = WriteOnlyDeployer(shares_secret="")  # refuses nothing on this secret
    sm = deployer.factory()("us-east-1")
    marker = break_glass.preflight(sm, shares, ADDRESS)
    break_glass.store(sm, shares, material(), marker)
    assert "GetSecretValue" in deployer.operations_on(shares)


def test_write_only_store_refused_names_what_the_deployer_needs_without_read_rights(secrets):
    shares, _ = secrets
    deployer = WriteOnlyDeployer(shares_secret=shares, refuse_puts_to=shares)
    with pytest.raises(BootstrapError) as refused:
        break_glass.store(deployer.factory()("us-east-1"), shares, material(), "none", write_only=True)
    assert "kms:GenerateDataKey on its key (the shares are write-only: never GetSecretValue" in str(
        refused.value
    )
    assert ROOT_TOKEN not in str(refused.value)


def test_a_readable_store_refused_names_the_read_and_write_rights_it_needs(secrets):
    shares, _ = secrets
    deployer = WriteOnlyDeployer(shares_secret="", refuse_puts_to=shares)
    with pytest.raises(BootstrapError) as refused:
        break_glass.store(deployer.factory()("us-east-1"), shares, material(), "none", write_only=False)
    assert str(refused.value) == (
        f"not allowed to store the recovery shares in the break-glass secret {shares}: the deployer role "
        "needs secretsmanager:PutSecretValue, GetSecretValue, DescribeSecret and UpdateSecretVersionStage on "
        "it, kms:GenerateDataKey and kms:Decrypt on its key, and must match the secret's resource policy"
    )


def test_the_resume_secret_keeps_the_token_until_cleared(secrets):
    _, resume = secrets
    sm = boto3.client("secretsmanager")

    def status() -> str:  # what an operator reading the secret sees
        return str(json.loads(sm.get_secret_value(SecretId=resume)["SecretString"])["status"])

    bootstrap_resume.preflight(sm, resume, ADDRESS)
    assert bootstrap_resume.load(sm, resume) is None  # the preflight's document holds no token
    assert status() == "initialising"
    assert bootstrap_resume.save(sm, resume, ADDRESS, ROOT_TOKEN) == ""
    assert bootstrap_resume.load(sm, resume) == ROOT_TOKEN
    assert status() == "bootstrapping"
    bootstrap_resume.clear(sm, resume, ADDRESS)
    assert bootstrap_resume.load(sm, resume) is None
    assert status() == "root token revoked"
    # The version that held the token is left without a label (put alone would make it AWSPREVIOUS).
    stages = sm.describe_secret(SecretId=resume)["VersionIdsToStages"]
    assert [labels for labels in stages.values() if labels] == [["AWSCURRENT"]]


def test_a_value_of_another_format_is_not_taken_for_a_token(secrets):
    _, resume = secrets
    sm = boto3.client("secretsmanager")
    sm.put_secret_value(SecretId=resume, SecretString=json.dumps({"root_token": ROOT_TOKEN}))
    assert bootstrap_resume.load(sm, resume) is None
    sm.put_secret_value(SecretId=resume, SecretString="not json")
    assert bootstrap_resume.load(sm, resume) is None


def test_a_resume_secret_scheduled_for_deletion_stops_the_preflight(secrets):
    _, resume = secrets
    sm = boto3.client("secretsmanager")
    sm.delete_secret(SecretId=resume, RecoveryWindowInDays=7)
    with pytest.raises(
        BootstrapError, match=r"bootstrap-resume secret .* is scheduled for deletion.*restore-secret"
    ):
        bootstrap_resume.preflight(sm, resume, ADDRESS)


def test_a_resume_copy_refused_is_reported_not_raised(secrets):
    _, resume = secrets
    deployer = WriteOnlyDeployer(shares_secret="", refuse_puts_to=resume)
    problem = bootstrap_resume.save(deployer.factory()("us-east-1"), resume, ADDRESS, ROOT_TOKEN)
    assert problem.startswith("not allowed to keep the root token in the bootstrap-resume secret")
    assert ROOT_TOKEN not in problem


def test_a_break_glass_secret_scheduled_for_deletion_is_refused_before_init_saying_when_and_how_to_restore(
    secrets,
):
    shares, _ = secrets
    sm = boto3.client("secretsmanager")
    sm.delete_secret(SecretId=shares, RecoveryWindowInDays=7)
    with pytest.raises(BootstrapError) as refused:
        break_glass.preflight(sm, shares, ADDRESS)
    assert str(refused.value) == (
        f"the break-glass secret {shares} is scheduled for deletion (checking it before initialising Vault); "
        f"restore it with `aws secretsmanager restore-secret --secret-id {shares}` and re-run `pulumi up`"
    )


def test_asking_whether_an_init_is_pending_on_a_missing_secret_names_that_secret(aws):
    missing = "candlefish/test/vault/no-such-break-glass"
    with pytest.raises(BootstrapError) as refused:
        break_glass.init_pending(boto3.client("secretsmanager"), missing)
    assert str(refused.value).startswith(f"the break-glass secret {missing} does not exist (describe)")


def test_clearing_the_init_marker_never_fails_the_run_even_when_the_secret_is_gone(secrets):
    # The marker only makes a later message more cautious: losing it must not turn Vault's refusal of the
    # init (the error the operator needs to see) into a Secrets Manager error.
    shares, _ = secrets
    sm = boto3.client("secretsmanager")
    marker = break_glass.preflight(sm, shares, ADDRESS)
    sm.delete_secret(SecretId=shares, ForceDeleteWithoutRecovery=True)
    break_glass.clear_after_failed_init(sm, shares, marker)  # the secret is gone: nothing to clear, no error


def test_a_resume_secret_that_does_not_exist_holds_no_token(aws):
    # A stack from before the resume secret existed: nothing to resume, not an error.
    assert (
        bootstrap_resume.load(boto3.client("secretsmanager"), "candlefish/test/vault/no-such-secret") is None
    )


def test_a_resume_secret_the_deployer_may_not_write_stops_the_preflight_naming_that_step(secrets):
    _, resume = secrets
    deployer = WriteOnlyDeployer(shares_secret="", refuse_puts_to=resume)
    with pytest.raises(BootstrapError) as refused:
        bootstrap_resume.preflight(deployer.factory()("us-east-1"), resume, ADDRESS)
    message = str(refused.value)
    assert message.startswith(
        f"not allowed to write (checking it before initialising Vault) the bootstrap-resume secret {resume}: "
        "the deployer role needs "
    )
    assert message.endswith(", and must match the secret's resource policy")


def test_storing_the_shares_clears_the_init_marker_that_aws_would_keep(secrets):
    # AWS keeps a custom label when a new value is put (moto drops it: tests/support/secrets_labels.py),
    # so the store itself must take CANDLEFISH_INIT_PENDING off the marker version.
    shares, _ = secrets
    sm = keep_custom_labels(boto3.client("secretsmanager"))
    marker = break_glass.preflight(sm, shares, ADDRESS)
    assert break_glass.init_pending(sm, shares)
    break_glass.store(sm, shares, material(), marker)
    assert not break_glass.init_pending(sm, shares)
