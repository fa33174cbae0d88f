"""Configuration mistakes are errors naming the setting and what is allowed, never a traceback."""

import pytest
from candlefish_secrets import AppRoleAuth, AwsIamAuth, ConfigurationError, SecretsClient, TokenAuth
from candlefish_secrets.auth import auth_from_env

ADDR = {"VAULT_ADDR": "http://127.0.0.1:1"}


@pytest.mark.parametrize(
    ("environ", "auth_type"),
    [
        ({"VAULT_TOKEN": "t"}, TokenAuth),
        ({"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}, AppRoleAuth),
        ({"VAULT_ROLE_ID": "r", "VAULT_WRAPPED_SECRET_ID": "w"}, AppRoleAuth),
        ({"CANDLEFISH_VAULT_AWS_ROLE": "payments"}, AwsIamAuth),
        ({"VAULT_TOKEN": "t", "CANDLEFISH_VAULT_AUTH": "aws", "CANDLEFISH_VAULT_AWS_ROLE": "r"}, AwsIamAuth),
    ],
)
def test_the_environment_picks_the_auth_method(environ, auth_type):
    assert type(auth_from_env(environ)) is auth_type


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (ADDR, "no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID with VAULT_SECRET_ID or"),
        (
            ADDR | {"CANDLEFISH_VAULT_AUTH": "ldap"},
            "CANDLEFISH_VAULT_AUTH='ldap' is not an auth method; allowed",
        ),
        (ADDR | {"CANDLEFISH_VAULT_AUTH": "token"}, "VAULT_TOKEN is empty"),
        (ADDR | {"VAULT_ROLE_ID": "r"}, "exactly one of a secret id (VAULT_SECRET_ID) or a response-wrapped"),
        (
            ADDR | {"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s", "VAULT_WRAPPED_SECRET_ID": "w"},
            "exactly one of a secret id",
        ),
        (
            ADDR | {"CANDLEFISH_VAULT_AUTH": "aws"},
            "AWS IAM auth needs a Vault role name (CANDLEFISH_VAULT_AWS_ROLE)",
        ),
        (
            {"VAULT_ADDR": "vault.internal:8200", "VAULT_TOKEN": "t"},
            "VAULT_ADDR='vault.internal:8200' is not",
        ),
        (
            ADDR | {"VAULT_TOKEN": "t", "CANDLEFISH_VAULT_TIMEOUT": "soon"},
            "CANDLEFISH_VAULT_TIMEOUT='soon' is not a",
        ),
        ({"CANDLEFISH_CACHE_TTL": "0"}, "CANDLEFISH_CACHE_TTL='0' must be greater than 0"),
        (
            {"CANDLEFISH_CACHE_TTL": "600", "CANDLEFISH_CACHE_MAX_STALENESS": "60"},
            "CANDLEFISH_CACHE_MAX_STALENESS=60 is below CANDLEFISH_CACHE_TTL=600",
        ),
        (
            {"CANDLEFISH_FALLBACK_ENV": "production", "CANDLEFISH_FALLBACK_NAMES": "x"},
            "CANDLEFISH_FALLBACK_NAMES item",
        ),
    ],
)
def test_a_bad_setting_names_itself(environ, message):
    with pytest.raises(ConfigurationError) as caught:
        SecretsClient.from_env(environ)
    assert message in str(caught.value)


def test_credentials_never_show_in_reprs():
    for auth in (TokenAuth("example-not-a-secret"), AppRoleAuth("role-id", "example-not-a-secret")):
        assert "example-not-a-secret" not in repr(auth)
        assert "role-id" not in repr(auth)
