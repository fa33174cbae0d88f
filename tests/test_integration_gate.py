"""The gate in tests/conftest.py: integration tests run only with what they need, else they are skipped."""

import pytest

from tests.conftest import integration_skip_reason

VAULT = {"VAULT_ADDR": "https://vault.example.internal:8200", "VAULT_TOKEN": "example-not-a-secret"}


def test_vault_tests_run_with_an_address_and_a_token():
    assert integration_skip_reason("vault", VAULT) is None


@pytest.mark.parametrize("missing", ["VAULT_ADDR", "VAULT_TOKEN"])
def test_vault_tests_are_skipped_without_either(missing):
    environ = {key: value for key, value in VAULT.items() if key != missing}
    assert "VAULT_ADDR and VAULT_TOKEN" in (integration_skip_reason("vault", environ) or "")


@pytest.mark.parametrize("source", ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"])
def test_aws_tests_run_with_any_source_of_credentials(source):
    assert integration_skip_reason("aws", {source: "example-not-a-secret"}) is None


def test_aws_tests_are_skipped_without_credentials():
    assert "AWS credentials" in (integration_skip_reason("aws", {}) or "")


def test_aws_tests_never_run_against_a_local_endpoint():
    environ = {"AWS_ACCESS_KEY_ID": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    assert integration_skip_reason("aws", environ) is not None
