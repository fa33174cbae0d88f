"""Faults the providers must name, each on its own: a Vault that lost its storage, secrets being deleted.

- A stack that bootstrapped Vault before and now finds it uninitialised must stop: initialising again would
  write new recovery shares over the break-glass secret's, and the old cluster's data could never be
  unsealed or recovered with them again.
- Secrets Manager refuses calls on a secret scheduled for deletion with InvalidRequestException. AWS's own
  wording varies ("marked for deletion", "currently marked deleted"); both must become the instruction to
  restore the secret, not a generic failure.
"""

import json
from datetime import UTC, datetime, timedelta

import boto3
import hvac
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from providers import break_glass, common
from providers import secrets_manager_seed as seed_module
from providers.common import BootstrapError
from providers.secrets_manager_seed import SecretsManagerSeedProvider
from providers.vault_bootstrap import VaultBootstrapProvider
from providers.vault_database import DatabaseEngineError, master_credentials
from tests.test_vault_bootstrap_real import fast_retries, props, target_factory  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
SECRET_ID = "candlefish/test/vault/break-glass"
DELETION_WORDINGS = [
    "You can't perform this operation on the secret because it was marked for deletion.",
    "You tried to perform the operation on a secret that's currently marked deleted.",
]


def invalid_request(message, operation="PutSecretValue"):
    return ClientError({"Error": {"Code": "InvalidRequestException", "Message": message}}, operation)


@pytest.fixture
def break_glass_secret(aws):
    key = boto3.client("kms").create_key(Description="secrets key")["KeyMetadata"]["Arn"]
    return boto3.client("secretsmanager").create_secret(Name=SECRET_ID, KmsKeyId=key)["ARN"]


def test_a_vault_that_lost_its_storage_is_never_initialised_again(target_factory, break_glass_secret):  # noqa: F811
    first = target_factory(1)
    given = props(first, break_glass_secret)
    created = VaultBootstrapProvider().create(given).outs
    assert created is not None
    state = {**given, **created}
    sm = boto3.client("secretsmanager")
    material = sm.get_secret_value(SecretId=break_glass_secret)["SecretString"]

    # The same stack, its Vault now answering uninitialised (storage wiped, or a new cluster at the address).
    empty = target_factory(1)
    with pytest.raises(BootstrapError, match=r"is not initialised, yet this stack bootstrapped it before"):
        VaultBootstrapProvider().update("cluster", state, {**given, "address": empty.url})
    assert hvac.Client(url=empty.url).sys.read_init_status()["initialized"] is False
    assert not [
        entry for entry in empty.proxy.request_log if entry.path == "sys/init" and entry.method != "GET"
    ]
    assert sm.get_secret_value(SecretId=break_glass_secret)["SecretString"] == material


@pytest.mark.parametrize("wording", DELETION_WORDINGS)
def test_break_glass_names_a_secret_scheduled_for_deletion_in_either_wording(wording):
    explained = str(break_glass.explain(invalid_request(wording), SECRET_ID, "store the recovery shares in"))
    assert f"the break-glass secret {SECRET_ID} is scheduled for deletion" in explained
    assert f"aws secretsmanager restore-secret --secret-id {SECRET_ID}" in explained


def test_break_glass_does_not_call_every_invalid_request_a_deletion():
    other = invalid_request("The secret is managed by another service.")
    explained = str(break_glass.explain(other, SECRET_ID, "write"))
    assert "scheduled for deletion" not in explained
    assert "InvalidRequestException" in explained


@pytest.mark.parametrize("wording", DELETION_WORDINGS)
def test_a_seed_names_a_secret_scheduled_for_deletion_in_either_wording(wording):
    explained = str(seed_module._explain(invalid_request(wording), "candlefish/test/jwt-secret"))
    assert explained.startswith(
        "secret candlefish/test/jwt-secret is scheduled for deletion; restore it with"
    )


def test_a_seed_does_not_call_every_invalid_request_a_deletion():
    explained = str(seed_module._explain(invalid_request("The secret is managed by another service."), "s"))
    assert explained == "seeding s failed: InvalidRequestException"


def test_refreshing_a_seed_whose_secret_is_being_deleted_reports_it_as_drift(aws):
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="candlefish/test/jwt-secret", SecretString="example-not-a-secret")["ARN"]
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    props_ = {"secret_id": arn, "region": "us-east-1", "reseed": "", "fingerprint": "unknown"}
    read = SecretsManagerSeedProvider().read(arn, props_)
    assert read.outs is not None
    assert read.outs["drift"] == "secret is scheduled for deletion"


# --- each failure's instruction, word for word ------------------------------------------------------------


def aws_error(code):
    return ClientError({"Error": {"Code": code, "Message": "example"}}, "PutSecretValue")


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (
            "ResourceNotFoundException",
            "secret s does not exist; run `pulumi up` again once it has been created",
        ),
        (
            "AccessDeniedException",
            "not allowed to write secret s: the deployer role needs secretsmanager:PutSecretValue on it and "
            "kms:GenerateDataKey on the secrets key",
        ),
        ("ThrottlingException", "Secrets Manager kept throttling writes to s; re-run `pulumi up`"),
        ("TooManyRequestsException", "Secrets Manager kept throttling writes to s; re-run `pulumi up`"),
        (
            "ResourceExistsException",
            "secret s already holds a different value under this seed's request token; change the entry's "
            "`reseed` trigger to overwrite it deliberately",
        ),
        ("InternalServiceError", "seeding s failed: InternalServiceError"),
    ],
)
def test_each_seed_failure_says_what_to_do(code, said):
    assert str(seed_module._explain(aws_error(code), "s")) == said


def test_break_glass_material_that_cannot_be_read_says_why(aws):
    class Refusing:
        def get_secret_value(self, **_):
            raise aws_error("AccessDeniedException")

    with pytest.raises(
        BootstrapError, match=r"^not allowed to read the break-glass secret s: the deployer role"
    ):
        break_glass.load(Refusing(), "s")


def test_a_refused_provisioner_token_points_at_its_policy_and_a_refused_root_token_at_generate_root():
    import hvac.exceptions as vault_errors

    from providers.vault_bootstrap import explain

    denied = vault_errors.Forbidden("permission denied")
    provisioner = str(explain(denied, "https://vault:8200", "writing policies", caller="provisioner"))
    bootstrap = str(explain(denied, "https://vault:8200", "writing policies"))
    assert provisioner.startswith("Vault refused the provisioner token (403 permission denied) while writing")
    assert "the provisioner policy may have been changed by hand" in provisioner
    assert bootstrap.startswith("Vault refused the bootstrap token (403 permission denied) while writing")
    assert "`vault operator generate-root` with the recovery shares" in bootstrap


MATERIAL = break_glass.Material(
    vault_address="https://vault.candlefish.example:8200",
    recovery_shares=["example-not-a-secret"] * 5,
    recovery_threshold=3,
    pgp_encrypted=False,
    root_token="example-not-a-secret",
)


def test_the_break_glass_record_says_when_vault_was_initialised_in_utc():
    # Operators read the record from anywhere: a time without its offset would be ambiguous by hours.
    material = MATERIAL
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = datetime.fromisoformat(json.loads(material.to_json())["initialized_at"])
    assert stamp.utcoffset() == timedelta(0)
    assert before <= stamp <= datetime.now(UTC)


MASTER_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-example"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            ClientError({"Error": {"Code": "AccessDeniedException", "Message": "example"}}, "GetSecretValue"),
            f"the deployer may not read the RDS master secret {MASTER_ARN}; it needs "
            "secretsmanager:GetSecretValue on it and kms:Decrypt on the secrets key via Secrets Manager",
        ),
        (
            EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com/"),
            f"could not reach Secrets Manager to read {MASTER_ARN}; re-run",
        ),
        (
            ClientError({"Error": {"Code": "DecryptionFailure", "Message": "example"}}, "GetSecretValue"),
            f"reading the RDS master secret {MASTER_ARN} failed: DecryptionFailure",
        ),
    ],
    ids=["access denied", "unreachable", "another aws error"],
)
def test_each_failure_to_read_the_rds_master_secret_says_what_to_do(monkeypatch, error, said):
    # moto enforces no IAM and answers whenever it runs: these answers come from a client that fails.
    class Failing:
        def get_secret_value(self, **_):
            raise error

    monkeypatch.setattr(common, "aws_client", lambda *_, **__: Failing())
    with pytest.raises(DatabaseEngineError) as failed:
        master_credentials({"region": "us-east-1", "master_secret_arn": MASTER_ARN})
    assert str(failed.value) == said


def test_a_vault_error_without_an_instruction_is_named_with_its_kind_and_vaults_words():
    import hvac.exceptions as vault_errors

    from providers.vault_bootstrap import explain

    failed = vault_errors.InternalServerError("internal error", method="PUT", url="https://vault:8200/v1/x")
    assert str(explain(failed, "https://vault:8200", "writing policies")) == (
        "writing policies failed: InternalServerError: internal error, on PUT https://vault:8200/v1/x"
    )
