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
        (
            ADDR | {"VAULT_TOKEN": "t", "CANDLEFISH_VAULT_POOL_SIZE": "0"},
            "CANDLEFISH_VAULT_POOL_SIZE='0' must be a whole number of at least 1",
        ),
        (
            ADDR | {"VAULT_TOKEN": "t", "CANDLEFISH_VAULT_POOL_SIZE": "many"},
            "CANDLEFISH_VAULT_POOL_SIZE='many' must be a whole number of at least 1",
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


def test_the_pool_size_setting_sizes_the_connection_pool():
    client = SecretsClient.from_env(ADDR | {"VAULT_TOKEN": "t", "CANDLEFISH_VAULT_POOL_SIZE": "48"})
    assert client._vault is not None
    adapter = client._vault._client.session.get_adapter("http://127.0.0.1:1")
    assert adapter._pool_maxsize == 48
    client.close()


def test_proxy_and_ca_bundle_settings_are_read_once_and_still_apply(monkeypatch):
    from candlefish_secrets.vault import VaultSession

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "vault.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/example-ca.pem")
    proxied = VaultSession("https://vault.example:8200", TokenAuth("t"), renew_in_background=False)
    bypassed = VaultSession("https://vault.internal:8200", TokenAuth("t"), renew_in_background=False)
    try:
        # Decided at construction, so requests does not walk the environment on every call.
        assert proxied._client.session.trust_env is False
        assert proxied._client.session.proxies.get("https") == "http://proxy.example:3128"
        assert bypassed._client.session.proxies == {}
        assert proxied._client.adapter._kwargs["verify"] == "/etc/example-ca.pem"
    finally:
        proxied.close()
        bypassed.close()


def test_a_pool_of_no_connections_is_refused():
    from candlefish_secrets.vault import VaultSession

    with pytest.raises(ConfigurationError, match="pool_size=0: need at least 1 connection"):
        VaultSession("http://127.0.0.1:1", TokenAuth("t"), pool_size=0)
