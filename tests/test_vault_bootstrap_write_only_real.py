# ruff: noqa: F811  (pytest fixtures imported from tests/test_vault_bootstrap_real.py are parameters here)
"""Write-only recovery shares: the bootstrap against real OpenBao and moto, never reading the shares.

The deployer's Secrets Manager client refuses what AWS would refuse it under the write-only policies
(tests/support/write_only_deployer.py: GetSecretValue on the break-glass secret, a repeated put there).
A break-glass reader's view is a plain moto client. The bootstrap must initialise, resume after a failure
half-way and finish, with the root token kept only in the bootstrap-resume secret and emptied at the end.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import hvac.exceptions as hx
import pytest

from providers import bootstrap_resume, break_glass
from providers.common import BootstrapError
from providers.vault_bootstrap import VaultBootstrapProvider
from tests.support.write_only_deployer import WriteOnlyDeployer
from tests.test_vault_bootstrap_real import (  # noqa: F401  (fixtures)
    fast_retries,
    props,
    target,
    target_factory,
)

pytestmark = [pytest.mark.openbao, pytest.mark.slow]


@pytest.fixture
def secrets(aws):
    kms = boto3.client("kms")
    sm = boto3.client("secretsmanager")
    shares_key = kms.create_key(Description="recovery shares key")["KeyMetadata"]["Arn"]
    secrets_key = kms.create_key(Description="secrets key")["KeyMetadata"]["Arn"]
    shares = sm.create_secret(Name="candlefish/test/vault/break-glass", KmsKeyId=shares_key)["ARN"]
    resume = sm.create_secret(Name="candlefish/test/vault/bootstrap-resume", KmsKeyId=secrets_key)["ARN"]
    return shares, resume


@pytest.fixture
def deployer(secrets, monkeypatch):
    client = WriteOnlyDeployer(shares_secret=secrets[0])
    monkeypatch.setattr(break_glass, "client", client.factory())
    return client


def as_reader(secret: str) -> dict[str, Any]:
    """What a break-glass reader sees (no refusals: moto enforces no policy)."""
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    document: dict[str, Any] = json.loads(value)
    return document


def labels(secret: str) -> dict[str, list[str]]:
    described = boto3.client("secretsmanager").describe_secret(SecretId=secret)
    return {version: list(stages) for version, stages in described["VersionIdsToStages"].items()}


def test_the_first_run_stores_the_shares_without_reading_them_and_empties_the_resume_secret(
    target, secrets, deployer
):
    shares, resume = secrets
    outs = VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume)).outs
    assert outs is not None and outs["resume_secret_id"] == resume
    assert "GetSecretValue" not in deployer.operations_on(shares)
    assert deployer.operations_on(shares).count("PutSecretValue") == 2  # the init marker, then the shares
    material = as_reader(shares)
    assert len(material["recovery_shares"]) == 5 and material["recovery_shares_pgp_encrypted"] is False
    with pytest.raises(hx.Forbidden):  # the root token was revoked
        target.client(material["root_token"]).auth.token.lookup_self()
    # Nothing current in the resume secret holds a token, and the version that held it lost its label.
    assert bootstrap_resume.load(boto3.client("secretsmanager"), resume) is None
    assert as_reader(resume)["status"] == "root token revoked"
    assert sorted(stage for stages in labels(resume).values() for stage in stages) == ["AWSCURRENT"]


def test_a_failure_half_way_is_resumed_from_the_resume_secret_without_a_second_init(
    target, secrets, deployer
):
    shares, resume = secrets
    target.proxy.fail_next(30, status=500, path_prefix="auth/approle/role/")
    with pytest.raises(BootstrapError):
        VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume))
    kept = bootstrap_resume.load(boto3.client("secretsmanager"), resume)
    assert kept is not None and kept == as_reader(shares)["root_token"]
    first_shares = as_reader(shares)["recovery_shares"]
    target.proxy.clear()
    deployer.calls.clear()

    outs = VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume)).outs
    assert outs is not None and outs["bootstrap"] == "resumed"
    assert deployer.operations_on(shares) == []  # the resume never touched the shares
    assert not [r for r in target.proxy.request_log if r.path == "sys/init" and r.method == "PUT"]
    assert as_reader(shares)["recovery_shares"] == first_shares
    assert target.client(outs["provisioner_token"]).read("auth/approle/role/ci")["data"]
    with pytest.raises(hx.Forbidden):
        target.client(kept).auth.token.lookup_self()
    assert bootstrap_resume.load(boto3.client("secretsmanager"), resume) is None


def test_without_the_resume_secret_nothing_is_initialised_or_marked(target, secrets, deployer):
    shares, _ = secrets
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/test/vault/nowhere-AbCdEf"
    with pytest.raises(BootstrapError, match=r"the bootstrap-resume secret .*nowhere.* does not exist"):
        VaultBootstrapProvider().create(props(target, shares, resume_secret_id=missing))
    assert target.cluster.node_health(0)["initialized"] is False
    assert deployer.operations_on(shares) == []  # checked first, so no init-pending marker was written


def test_a_resume_copy_that_could_not_be_kept_is_named_when_a_later_step_fails(target, secrets, deployer):
    shares, resume = secrets
    original = deployer._check

    def refuse_after_preflight(params, model, **kwargs):
        if model.name == "PutSecretValue" and "bootstrapping" in str(params.get("SecretString", "")):
            deployer.refuse_puts_to = resume
        original(params, model, **kwargs)

    deployer._check = refuse_after_preflight
    target.proxy.fail_next(30, status=500, path_prefix="auth/approle/role/")
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume))
    message = str(failed.value)
    assert "The next run cannot resume: the root token could not be kept" in message
    assert "not allowed to keep the root token in the bootstrap-resume secret" in message
    assert "vaultAdoptToken" in message
    assert as_reader(shares)["root_token"] not in message


def test_a_failed_root_revocation_leaves_the_token_in_the_resume_secret_for_the_next_run(
    target, secrets, deployer
):
    shares, resume = secrets
    target.proxy.fail_next(1, status=503, path_prefix="auth/token/revoke-self")
    with pytest.raises(BootstrapError, match="resumes with the root token the bootstrap stored"):
        VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume))
    kept = bootstrap_resume.load(boto3.client("secretsmanager"), resume)
    assert kept is not None  # not emptied: the token still works
    assert target.client(kept).auth.token.lookup_self()["data"]["policies"] == ["root"]
    outs = VaultBootstrapProvider().create(props(target, shares, resume_secret_id=resume)).outs
    assert outs is not None
    assert outs["bootstrap"] == "resumed" and outs["root_token_revoked"] is True
    assert "GetSecretValue" not in deployer.operations_on(shares)
    assert bootstrap_resume.load(boto3.client("secretsmanager"), resume) is None
