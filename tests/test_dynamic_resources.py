"""The seeds' dynamic resources hand their provider exactly what it needs, secrets as Pulumi secrets
(recorded under the mocks, one small program, no whole stack)."""

import pulumi
import pytest

from providers.secrets_manager_seed import SecretsManagerSeed
from providers.vault_kv_seed import VaultKvSeed
from tests.support.mocks import run_program

SM_SEED = "pulumi-python:dynamic/candlefish:SecretsManagerSeed"
KV_SEED = "pulumi-python:dynamic/candlefish:VaultKvSeed"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/dev/jwt-AbCdEf"


def seeds_program() -> None:
    SecretsManagerSeed(
        "jwt-sm-seed", secret_id=SECRET_ARN, value="example-not-a-secret", region="eu-west-1", reseed="2"
    )
    VaultKvSeed(
        "jwt-kv-seed",
        address="https://vault.example.internal:8200",
        ca_pem="example-ca",
        token="example-not-a-token",
        path="candlefish/jwt/secret",
        value="example-not-a-secret",
        custom_metadata={"owner": "security-team"},
        mount="kv",
        reseed="3",
        destroy_on_delete=True,
        opts=pulumi.ResourceOptions(protect=True),
    )
    VaultKvSeed(
        "defaults-kv-seed",
        address="https://vault.example.internal:8200",
        ca_pem="",
        token="example-not-a-token",
        path="candlefish/api/key",
        value="example-not-a-secret",
        custom_metadata={},
    )
    pulumi.export("done", True)


@pytest.fixture(scope="module")
def recording():
    return run_program("dev", program=seeds_program)


def test_the_secrets_manager_seed_passes_its_target_and_keeps_the_value_secret(recording):
    seed = recording.one(SM_SEED, "jwt-sm-seed")
    inputs = {key: value for key, value in seed.inputs.items() if key != "__provider"}
    assert inputs == {
        "secret_id": SECRET_ARN,
        "value": "example-not-a-secret",
        "region": "eu-west-1",
        "reseed": "2",
    }
    assert seed.is_secret("value")
    assert not seed.is_secret("secret_id")


def test_the_vault_kv_seed_passes_its_path_and_keeps_token_and_value_secret(recording):
    seed = recording.one(KV_SEED, "jwt-kv-seed")
    inputs = {key: value for key, value in seed.inputs.items() if key != "__provider"}
    assert inputs == {
        "address": "https://vault.example.internal:8200",
        "ca_pem": "example-ca",
        "token": "example-not-a-token",
        "mount": "kv",
        "path": "candlefish/jwt/secret",
        "value": "example-not-a-secret",
        "custom_metadata": {"owner": "security-team"},
        "reseed": "3",
        "destroy_on_delete": True,
    }
    assert seed.is_secret("token") and seed.is_secret("value")
    assert not seed.is_secret("path")


def test_a_kv_seed_writes_to_the_secret_mount_and_keeps_the_value_when_removed_by_default(recording):
    inputs = recording.one(KV_SEED, "defaults-kv-seed").inputs
    assert (inputs["mount"], inputs["reseed"], inputs["destroy_on_delete"]) == ("secret", "", False)


def test_a_kv_seed_keeps_the_callers_options_and_its_token_secret_in_state(recording):
    given, defaults = recording.one(KV_SEED, "jwt-kv-seed"), recording.one(KV_SEED, "defaults-kv-seed")
    assert (given.protect, defaults.protect) == (True, False)
    assert given.additional_secret_outputs == defaults.additional_secret_outputs == ["token"]
