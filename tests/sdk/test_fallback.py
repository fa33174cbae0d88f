"""The opt-in Secrets Manager fallback: a real OpenBao sealed, then stopped mid-run; moto holds the copies."""

import logging

import boto3
import pytest
from candlefish_secrets import Fallback, SecretsClient, TokenAuth, VaultUnavailable
from candlefish_secrets.aws import SecretsManagerReader, parse_names
from candlefish_secrets.cache import SecretCache
from candlefish_secrets.errors import ConfigurationError
from candlefish_secrets.vault import VaultSession

from tests.support.openbao import OpenBaoDevServer

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
JWT = "example-not-a-secret-jwt"
MONGO = "example-not-a-secret-mongodb-uri"


@pytest.fixture
def own_vault():
    """A dev server of this test's own, since the test seals and stops it."""
    server = OpenBaoDevServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def catalog(aws, own_vault):
    """One catalog entry with the default KV path and one with its own path, in both stores."""
    vault = own_vault.client()
    for path, value in (("candlefish/jwt-secret", JWT), ("candlefish/mongodb/connection", MONGO)):
        vault.secrets.kv.v2.create_or_update_secret(path=path, mount_point="secret", secret={"value": value})
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="candlefish/test/jwt-secret", SecretString=JWT)
    sm.create_secret(
        Name="candlefish/test/mongodb",
        SecretString=MONGO,
        Tags=[{"Key": "VaultPath", "Value": "candlefish/mongodb/connection"}],
    )
    return own_vault


def make_client(server, **fallback):
    session = VaultSession(server.addr, TokenAuth(server.root_token), timeout_s=2)
    return SecretsClient(
        vault=session,
        secrets_manager=SecretsManagerReader(region="us-east-1"),
        fallback=Fallback("test", **fallback) if fallback is not None else None,
        cache=SecretCache(soft_ttl_s=60),
    )


def test_fallback_serves_the_catalog_copy_while_vault_is_sealed_then_stopped(catalog, caplog):
    client = make_client(catalog)
    assert client.get("vault://candlefish/jwt-secret") == JWT
    assert client.describe("vault://candlefish/jwt-secret")["backend"] == "vault"
    caplog.set_level(logging.WARNING, logger="candlefish_secrets")
    catalog.client().sys.seal()
    client.invalidate()
    assert client.get("vault://candlefish/jwt-secret") == JWT
    assert client.describe("vault://candlefish/jwt-secret")["backend"] == "aws-sm-fallback"
    catalog.stop()
    client.invalidate()
    assert client.get("vault://candlefish/jwt-secret") == JWT
    assert client.get("vault://candlefish/mongodb/connection") == MONGO  # found by its VaultPath tag
    warnings = [r for r in caplog.records if "reading the catalog's Secrets Manager copies" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per read
    assert (client.outages, client.fallback_reads) == (1, 3)
    assert client.stats().served_by == {"vault": 1, "aws-sm-fallback": 3}
    assert JWT not in caplog.text and MONGO not in caplog.text
    client.close()


def test_a_mapped_name_wins_and_a_pinned_version_does_not_fall_back(catalog):
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="candlefish/test/mongo-override", SecretString="example-not-a-secret-override")
    client = make_client(catalog, names={"candlefish/mongodb/connection": "mongo-override"})
    catalog.stop()
    assert client.get("vault://candlefish/mongodb/connection") == "example-not-a-secret-override"
    with pytest.raises(VaultUnavailable, match="Vault unreachable"):
        client.get("vault://candlefish/jwt-secret?version=1")
    client.close()


def test_without_the_fallback_an_outage_is_vault_unavailable_and_is_not_retried_at_once(catalog):
    session = VaultSession(catalog.addr, TokenAuth(catalog.root_token), timeout_s=2)
    client = SecretsClient(vault=session, cache=SecretCache(negative_ttl_s=30))
    catalog.stop()
    with pytest.raises(VaultUnavailable, match=r"vault://candlefish/jwt-secret: .*Vault unreachable"):
        client.get("vault://candlefish/jwt-secret")
    with pytest.raises(VaultUnavailable):
        client.get("vault://candlefish/jwt-secret")
    assert client.stats().negative_hits == 1
    client.close()


def test_an_unknown_path_without_a_tag_says_how_to_map_it(catalog):
    client = make_client(catalog)
    catalog.stop()
    with pytest.raises(VaultUnavailable, match="no Secrets Manager copy is known for candlefish/unmapped/x"):
        client.get("vault://candlefish/unmapped/x")
    client.close()


def test_fallback_names_parse_and_refuse_malformed_items():
    assert parse_names("candlefish/mongodb/connection=mongodb, a/b = arn:aws:x") == {
        "candlefish/mongodb/connection": "mongodb",
        "a/b": "arn:aws:x",
    }
    with pytest.raises(ConfigurationError, match="CANDLEFISH_FALLBACK_NAMES item 'oops'"):
        parse_names("oops")
