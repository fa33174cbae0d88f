"""The rotation function's guards and value formats, one condition each (moto; no Vault is reached)."""

import base64
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdas.rotation import values
from lambdas.rotation.handler import Entry, RotationError, lambda_handler
from lambdas.rotation.vault import VaultClient, _errors, signed_login_payload
from tests.support import rotation_driver

TOKEN = "6d0c4f5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
CATALOG_TAGS = [
    {"Key": "Source", "Value": "generate"},
    {"Key": "VaultPath", "Value": "candlefish/jwt/secret"},
]


@pytest.fixture
def staged(aws, monkeypatch):
    """A catalog secret whose rotation started (TOKEN staged AWSPENDING, rotation on) and stopped at once."""
    rotation_driver.install(monkeypatch, stop_before="createSecret")
    client = boto3.client("secretsmanager", config=Config(retries={"total_max_attempts": 1}))
    arn = client.create_secret(
        Name="candlefish/test/jwt", SecretString="example-not-a-secret", Tags=CATALOG_TAGS
    )["ARN"]
    with pytest.raises(ClientError):
        client.rotate_secret(
            SecretId=arn, ClientRequestToken=TOKEN, RotationLambdaARN=rotation_driver.rotation_function_arn()
        )
    return client, arn


def step(arn, token=TOKEN, name="createSecret"):
    lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": name}, None)


def test_a_secret_without_rotation_enabled_is_refused(aws):
    arn = boto3.client("secretsmanager").create_secret(Name="candlefish/test/plain", SecretString="x")["ARN"]
    with pytest.raises(RotationError, match="secret candlefish/test/plain does not have rotation enabled"):
        step(arn)


def test_a_version_that_is_not_staged_is_refused(staged):
    _, arn = staged
    with pytest.raises(RotationError, match="version 0000 of candlefish/test/jwt is not staged for rotation"):
        step(arn, token="0000")


def test_the_current_version_is_left_alone(staged, capsys):
    client, arn = staged
    current = next(
        v for v, s in client.describe_secret(SecretId=arn)["VersionIdsToStages"].items() if "AWSCURRENT" in s
    )
    capsys.readouterr()
    step(arn, token=current)
    logged = json.loads(capsys.readouterr().out)
    assert logged == {
        "event": "rotation_step_skipped",
        "secret": "candlefish/test/jwt",
        "step": "createSecret",
        "reason": "version already current",
    }


def test_a_version_staged_but_not_pending_is_refused(staged):
    client, arn = staged
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=TOKEN)
    client.update_secret_version_stage(SecretId=arn, VersionStage="STAGED-BY-HAND", MoveToVersionId=TOKEN)
    with pytest.raises(RotationError, match=f"version {TOKEN} of candlefish/test/jwt is not AWSPENDING"):
        step(arn)


@pytest.mark.parametrize("missing", ["Source", "VaultPath"])
def test_each_catalog_tag_is_required_on_its_own(missing):
    tags = [tag for tag in CATALOG_TAGS if tag["Key"] != missing]
    with pytest.raises(RotationError, match=f"secret s lacks the catalog tags {missing}; cannot rotate it"):
        Entry.from_tags("s", tags)


def test_an_entry_without_a_value_format_gets_64_characters():
    entry = Entry.from_tags("s", CATALOG_TAGS)
    assert (entry.source, entry.vault_path, entry.value_format, entry.owner) == (
        "generate",
        "candlefish/jwt/secret",
        "chars-64",
        "",
    )


# --- value formats: at least 32 characters or 16 random bytes, at most 4 digits of size -------------------


@pytest.mark.parametrize("size", [32, 64, 9999])
def test_character_values_have_the_size_asked_from_the_url_safe_alphabet(size):
    value = values.new_value(f"chars-{size}")
    assert len(value) == size and set(value) <= set(values.ALPHABET)


@pytest.mark.parametrize("size", [16, 32])
def test_base64_values_decode_to_the_bytes_asked(size):
    assert len(base64.b64decode(values.new_value(f"base64-{size}"), validate=True)) == size


@pytest.mark.parametrize(
    ("value_format", "words"),
    [
        ("chars-31", "fewer than 32 characters is too weak"),
        ("base64-15", "fewer than 16 random bytes is too weak"),
        ("chars-10000", "unknown value format"),
        ("CHARS-64", "unknown value format"),
        ("chars-64 ", "unknown value format"),
    ],
)
def test_weak_or_malformed_formats_are_refused_with_the_reason(value_format, words):
    with pytest.raises(values.FormatError, match=words):
        values.new_value(value_format)


def test_two_values_are_never_the_same():
    assert values.new_value("chars-32") != values.new_value("chars-32")


# --- the Vault client's pieces that need no server ------------------------------------------------------


def test_vault_errors_are_joined_and_anything_else_is_cut_to_200_characters():
    assert _errors(json.dumps({"errors": ["permission denied", "1 error occurred"]})) == (
        "permission denied; 1 error occurred"
    )
    assert _errors("<html>" + "x" * 300) == ("<html>" + "x" * 300)[:200]
    assert _errors(json.dumps({"errors": []})) == '{"errors": []}'


def test_tls_is_used_for_https_only_and_never_below_1_2():
    assert VaultClient("http://127.0.0.1:8200")._context() is None
    context = VaultClient("https://vault.example.internal:8200")._context()
    assert context is not None and context.minimum_version.name == "TLSv1_2"


def test_the_login_names_the_server_id_only_when_one_is_set(aws):
    credentials = boto3.session.Session().get_credentials().get_frozen_credentials()
    plain = signed_login_payload("rotation", "us-east-1", credentials)
    pinned = signed_login_payload("rotation", "us-east-1", credentials, "vault.example.internal")
    headers = json.loads(base64.b64decode(pinned["iam_request_headers"]))
    assert headers["X-Vault-AWS-IAM-Server-ID"] == ["vault.example.internal"]
    assert "X-Vault-AWS-IAM-Server-ID" not in json.loads(base64.b64decode(plain["iam_request_headers"]))
    assert base64.b64decode(plain["iam_request_url"]) == b"https://sts.us-east-1.amazonaws.com/"
    assert base64.b64decode(plain["iam_request_body"]) == b"Action=GetCallerIdentity&Version=2011-06-15"
    assert (plain["role"], plain["iam_http_request_method"]) == ("rotation", "POST")
