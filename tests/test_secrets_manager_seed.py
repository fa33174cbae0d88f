"""SecretsManagerSeed against a moto server over real HTTP: seed once, never clobber, reseed on purpose."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from providers import common
from providers import secrets_manager_seed as seed_module
from providers.common import SeedError, fingerprint, request_token
from providers.secrets_manager_seed import SecretsManagerSeedProvider
from tests.support.provider_host import call_in_provider_host

pytestmark = pytest.mark.slow
VALUE = "example-not-a-secret-initial"


@pytest.fixture
def secret(aws):
    client = boto3.client("secretsmanager")
    return client, client.create_secret(Name="candlefish/test/jwt-secret")["ARN"]


def props(secret_arn, value=VALUE, reseed=""):
    return {"secret_id": secret_arn, "value": value, "region": "us-east-1", "reseed": reseed}


def outs_of(result):
    assert result.outs is not None
    return result.outs


def versions(client, arn):
    return client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})


def test_create_writes_the_value_and_keeps_only_its_fingerprint(secret):
    client, arn = secret
    result = SecretsManagerSeedProvider().create(props(arn))
    assert result.id == arn
    assert client.get_secret_value(SecretId=arn)["SecretString"] == VALUE
    outs = outs_of(result)
    assert outs["fingerprint"] == fingerprint(VALUE)
    assert VALUE not in json.dumps(outs)
    assert outs["version_id"] == request_token(arn, "")  # the deterministic request token


def test_a_repeated_create_adopts_the_value_without_a_new_version(secret):
    client, arn = secret
    first = outs_of(SecretsManagerSeedProvider().create(props(arn)))
    second = outs_of(SecretsManagerSeedProvider().create(props(arn)))
    assert second["version_id"] == first["version_id"]
    assert len(versions(client, arn)) == 1


def test_create_refuses_to_overwrite_a_different_existing_value(secret):
    client, arn = secret
    client.put_secret_value(SecretId=arn, SecretString="example-set-by-hand")
    with pytest.raises(SeedError, match=r"already holds a different value.*reseed"):
        SecretsManagerSeedProvider().create(props(arn))
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "example-set-by-hand"


def test_after_rotation_a_plain_up_changes_nothing_and_refresh_reports_drift(secret):
    client, arn = secret
    provider = SecretsManagerSeedProvider()
    outs = outs_of(provider.create(props(arn)))
    client.put_secret_value(SecretId=arn, SecretString="example-rotated-value")
    diff = provider.diff(arn, {**props(arn), **outs}, props(arn, value="example-new-config-value"))
    assert diff.changes is False
    read = outs_of(provider.read(arn, outs))  # refresh gets the state alone
    assert read["drift"] == "value changed outside this seed (rotated?)"
    assert "value" not in read
    # The version that is current now, as Secrets Manager names it (the rotation's, not the seed's).
    current = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert [read["current_version_id"]] == [v for v, stages in current.items() if "AWSCURRENT" in stages]
    assert read["current_version_id"] != outs["version_id"]
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "example-rotated-value"


def test_changing_the_reseed_trigger_is_the_one_way_to_overwrite(secret):
    client, arn = secret
    provider = SecretsManagerSeedProvider()
    outs = outs_of(provider.create(props(arn)))
    client.put_secret_value(SecretId=arn, SecretString="example-rotated-value")
    news = props(arn, value="example-reseeded", reseed="2026-11-28")
    assert provider.diff(arn, {**props(arn), **outs}, news).changes is True
    updated = outs_of(provider.update(arn, {**props(arn), **outs}, news))
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "example-reseeded"
    assert updated["fingerprint"] == fingerprint("example-reseeded")
    assert updated["version_id"] == request_token(arn, "2026-11-28")


def test_a_reseed_is_done_once_the_next_run_with_the_same_trigger_changes_nothing(secret):
    # The engine hands a dynamic provider's diff the outputs kept in state as the olds: the trigger must be
    # among them, or every later `pulumi up` would reseed again over what rotation wrote since.
    _, arn = secret
    provider = SecretsManagerSeedProvider()
    news = props(arn, reseed="2026-11-28")
    outs = outs_of(provider.create(news))
    assert provider.diff(arn, outs, news).changes is False


def test_moving_the_seed_to_another_secret_replaces_it(secret):
    _, arn = secret
    diff = SecretsManagerSeedProvider().diff(arn, props(arn), props(arn.replace("jwt", "other")))
    assert diff.changes is True
    assert diff.replaces == ["secret_id"]


def test_a_secret_scheduled_for_deletion_is_a_clear_error(secret):
    client, arn = secret
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    with pytest.raises(SeedError, match="scheduled for deletion; restore it with"):
        SecretsManagerSeedProvider().create(props(arn))


def test_refresh_reports_a_deleted_secret_without_recreating_it(secret):
    client, arn = secret
    provider = SecretsManagerSeedProvider()
    outs = outs_of(provider.create(props(arn)))
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    read = outs_of(provider.read(arn, outs))  # refresh gets the state alone
    assert read["drift"] == "secret deleted outside Pulumi"


def test_a_missing_secret_is_a_clear_error(aws):
    with pytest.raises(SeedError, match="does not exist"):
        SecretsManagerSeedProvider().create(
            props("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf")
        )


def test_an_unreachable_endpoint_is_a_clear_error_and_writes_nothing(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setattr(seed_module, "RETRIES", {"mode": "standard", "max_attempts": 1})
    with pytest.raises(SeedError, match=r"could not reach Secrets Manager.*nothing was written"):
        SecretsManagerSeedProvider().create(
            props("arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
        )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("ThrottlingException", "kept throttling"),
        ("AccessDeniedException", "secretsmanager:PutSecretValue"),
        ("ResourceExistsException", "change the entry's `reseed` trigger"),
    ],
)
def test_aws_error_codes_become_instructions(code, words):
    error = ClientError({"Error": {"Code": code, "Message": "x"}}, "PutSecretValue")
    assert words in str(seed_module._explain(error, "arn:example"))


def test_clients_retry_adaptively_with_timeouts(aws):
    client = seed_module._client("us-east-1")
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.config.connect_timeout == common.AWS_CONNECT_TIMEOUT_S
    assert client.meta.config.read_timeout == common.AWS_READ_TIMEOUT_S


def test_the_provider_survives_pulumis_serialisation_in_a_fresh_interpreter(secret):
    """Pulumi pickles the provider with dill; the provider host unpickles it in a new process."""
    client, arn = secret
    done = call_in_provider_host(SecretsManagerSeedProvider(), "create", props(arn))
    assert done["outs"]["fingerprint"] == fingerprint(VALUE)
    assert client.get_secret_value(SecretId=arn)["SecretString"] == VALUE


def test_the_seed_writes_in_the_region_it_names_not_the_deployers_default(aws):
    # The secret lives in eu-west-1 only; the environment's default region is us-east-1.
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = client.create_secret(Name="candlefish/test/replica-seed")["ARN"]
    outs_of(SecretsManagerSeedProvider().create({**props(arn), "region": "eu-west-1"}))
    assert client.get_secret_value(SecretId=arn)["SecretString"] == VALUE
