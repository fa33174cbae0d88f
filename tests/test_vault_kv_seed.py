"""VaultKvSeed against a real OpenBao server (faults from the proxy in front of it): seed once, never clobber,
create again after a delete, fail clearly."""

import json

import hvac.exceptions
import pytest

from components.vault.policies import render_provisioner_policy
from providers import vault_kv_seed as seed_module
from providers.common import SeedError, fingerprint
from providers.vault_kv_seed import VaultKvSeedProvider
from tests.support.provider_host import call_in_provider_host

pytestmark = pytest.mark.slow
VALUE = "example-not-a-secret-initial"
METADATA = {"owner": "security-team", "type": "crypto", "rotation_days": "180", "source": "generate"}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(seed_module, "RETRY_BACKOFF_S", 0.01)


@pytest.fixture
def vault_server(real_vault):
    return real_vault


@pytest.fixture
def vault_client(real_vault):
    return real_vault.root()


@pytest.fixture
def provisioner(vault_server):
    # The policy the bootstrap writes for the provisioner token: the seeds must work with exactly it.
    vault_server.put_policy("provisioner", render_provisioner_policy(region="us-east-1"))
    return vault_server.create_token(["provisioner"], ttl=3600)


@pytest.fixture
def secret_path(real_vault):
    return f"{real_vault.prefix}/jwt/secret"


def props(server, token, value=VALUE, reseed="", path=None, **extra):
    return {
        "address": server.url,
        "ca_pem": "",
        "token": token,
        "mount": "secret",
        "path": path or f"{server.prefix}/jwt/secret",
        "value": value,
        "reseed": reseed,
        "custom_metadata": METADATA,
        "destroy_on_delete": False,
        **extra,
    }


def outs_of(result):
    assert result.outs is not None
    return result.outs


def live(vault_client, path):
    return vault_client.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )


def test_create_writes_once_with_metadata_and_keeps_only_a_fingerprint(
    vault_server, vault_client, provisioner, secret_path
):
    result = VaultKvSeedProvider().create(props(vault_server, provisioner))
    outs = outs_of(result)
    assert result.id == f"secret/{secret_path}"
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}
    assert outs["fingerprint"] == fingerprint(VALUE)
    assert outs["version"] == 1
    assert VALUE not in json.dumps(outs)
    assert outs["token"] == provisioner  # refresh and delete need it; VaultKvSeed marks it a secret output
    metadata = vault_client.secrets.kv.v2.read_secret_metadata(path=secret_path, mount_point="secret")
    assert metadata["data"]["custom_metadata"] == METADATA


def test_a_repeated_create_adopts_its_own_value(vault_server, vault_client, provisioner, secret_path):
    VaultKvSeedProvider().create(props(vault_server, provisioner))
    again = outs_of(VaultKvSeedProvider().create(props(vault_server, provisioner)))
    assert again["version"] == 1
    assert live(vault_client, secret_path)["data"]["metadata"]["version"] == 1


def test_create_never_overwrites_a_rotated_value(vault_server, vault_client, provisioner, secret_path):
    VaultKvSeedProvider().create(props(vault_server, provisioner))
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=secret_path, mount_point="secret", secret={"value": "example-rotated"}
    )
    with pytest.raises(SeedError, match=r"already holds a different value.*reseed"):
        VaultKvSeedProvider().create(props(vault_server, provisioner))
    assert live(vault_client, secret_path)["data"]["data"] == {"value": "example-rotated"}


def test_plain_up_after_rotation_changes_nothing_and_refresh_reports_drift(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner)))
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=secret_path, mount_point="secret", secret={"value": "example-rotated"}
    )
    olds = {**props(vault_server, provisioner), **outs}
    assert provider.diff("id", olds, props(vault_server, provisioner, value="example-new")).changes is False
    read = outs_of(provider.read(f"secret/{secret_path}", outs))  # refresh gets the state alone
    assert read["drift"] == "value changed outside this seed (rotated?)"
    assert read["current_version"] == 2
    assert "value" not in read  # the token stays, as a secret output (VaultKvSeed declares it)


def test_a_live_version_without_the_value_key_is_drift_whatever_text_was_seeded(
    vault_server, vault_client, provisioner, secret_path
):
    # Someone wrote the path by hand without a `value` key: that is never the seeded value, not even when
    # the seeded text is "None" (a supplied value may be any text).
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner, value="None")))
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=secret_path, mount_point="secret", secret={"note": "example-written-by-hand"}
    )
    read = outs_of(provider.read(f"secret/{secret_path}", outs))
    assert read["drift"] == "value changed outside this seed (rotated?)"


def test_reseed_overwrites_with_check_and_set_against_the_live_version(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner)))
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=secret_path, mount_point="secret", secret={"value": "example-rotated"}
    )
    olds = {**props(vault_server, provisioner), **outs}
    news = props(vault_server, provisioner, value="example-reseeded", reseed="2026-11-28")
    assert provider.diff("id", olds, news).changes is True
    updated = outs_of(provider.update("id", olds, news))
    assert updated["version"] == 3
    assert live(vault_client, secret_path)["data"]["data"] == {"value": "example-reseeded"}


def test_changed_metadata_updates_metadata_but_not_the_value(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner)))
    olds = {**props(vault_server, provisioner), **outs}
    news = props(vault_server, provisioner, custom_metadata={**METADATA, "rotation_days": "90"})
    assert provider.diff("id", olds, news).changes is True
    provider.update("id", olds, news)
    metadata = vault_client.secrets.kv.v2.read_secret_metadata(path=secret_path, mount_point="secret")
    assert metadata["data"]["custom_metadata"]["rotation_days"] == "90"
    assert metadata["data"]["current_version"] == 1


def test_delete_soft_deletes_the_latest_version_only(vault_server, vault_client, provisioner, secret_path):
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner)))
    provider.delete("id", outs)  # delete gets the state alone
    metadata = vault_client.secrets.kv.v2.read_secret_metadata(path=secret_path, mount_point="secret")
    assert metadata["data"]["versions"]["1"]["deletion_time"]
    assert metadata["data"]["versions"]["1"]["destroyed"] is False


def test_delete_destroys_everything_only_when_the_entry_says_so(vault_server, vault_client, secret_path):
    token = vault_server.root_token
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, token, destroy_on_delete=True)))
    provider.delete("id", outs)
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_client.secrets.kv.v2.read_secret_metadata(path=secret_path, mount_point="secret")


def test_a_sealed_vault_is_a_clear_error_and_nothing_is_written(
    vault_server, vault_client, provisioner, secret_path
):
    vault_server.seal()
    with pytest.raises(SeedError, match=r"sealed or unavailable \(503\).*unseal it"):
        VaultKvSeedProvider().create(props(vault_server, provisioner))
    vault_server.unseal()
    with pytest.raises(hvac.exceptions.InvalidPath):
        live(vault_client, secret_path)


def test_a_token_without_permission_is_a_clear_error(vault_server):
    reader = vault_server.create_token(["default"])
    with pytest.raises(SeedError, match=r"may not write secret/other/path \(403 permission denied\)"):
        VaultKvSeedProvider().create(props(vault_server, reader, path="other/path"))


def test_an_update_refused_names_the_path_and_what_to_check(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    olds = {**props(vault_server, provisioner), **outs_of(provider.create(props(vault_server, provisioner)))}
    reader = vault_server.create_token(["default"])
    with pytest.raises(SeedError) as refused:
        provider.update("id", olds, props(vault_server, reader, reseed="2"))
    assert str(refused.value) == (
        f"the provisioner token may not write secret/{secret_path} (403 permission denied); Vault refused "
        f"GET secret/metadata/{secret_path}: check the provisioner policy or re-run the bootstrap to issue a "
        "fresh token"
    )


def test_transient_503s_are_retried_until_vault_answers(vault_server, vault_client, provisioner, secret_path):
    vault_server.fail_next(3, status=503, path_prefix="secret/data/")
    outs = outs_of(VaultKvSeedProvider().create(props(vault_server, provisioner)))
    assert [entry.status for entry in vault_server.request_log if entry.path.startswith("secret/data/")] == [
        503,
        503,
        503,
        200,
    ]
    assert outs["version"] == 1
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}


def test_throttling_beyond_the_retry_budget_is_a_clear_error(vault_server, provisioner):
    vault_server.fail_next(20, status=429, path_prefix="secret/data/")
    with pytest.raises(SeedError, match=r"rate-limiting.*re-run"):
        VaultKvSeedProvider().create(props(vault_server, provisioner))


def test_a_timeout_is_a_clear_error(vault_server, provisioner, monkeypatch):
    monkeypatch.setattr(seed_module, "TIMEOUT_S", 0.2)
    monkeypatch.setattr(seed_module, "RETRY_TOTAL", 0)
    vault_server.add_latency(1.0, path_prefix="secret/data/")
    with pytest.raises(SeedError, match=r"did not answer"):
        VaultKvSeedProvider().create(props(vault_server, provisioner))


def test_dropped_connections_are_retried(vault_server, vault_client, provisioner, secret_path):
    vault_server.drop_next(2, path_prefix="secret/data/")
    outs = outs_of(VaultKvSeedProvider().create(props(vault_server, provisioner)))
    assert outs["version"] == 1
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}


def test_a_dropped_connection_without_retries_fails_clearly_and_the_next_run_finishes(
    vault_server, vault_client, provisioner, monkeypatch, secret_path
):
    monkeypatch.setattr(seed_module, "RETRY_TOTAL", 0)
    vault_server.drop_next(1, path_prefix="secret/data/")
    with pytest.raises(SeedError, match=r"could not reach Vault.*re-run"):
        VaultKvSeedProvider().create(props(vault_server, provisioner))
    outs = outs_of(VaultKvSeedProvider().create(props(vault_server, provisioner)))
    assert outs["version"] == 1
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}


def test_unreachable_vault_is_a_clear_error(provisioner, vault_server, monkeypatch):
    monkeypatch.setattr(seed_module, "RETRY_TOTAL", 0)
    dead = props(vault_server, provisioner) | {"address": "http://127.0.0.1:9"}
    with pytest.raises(SeedError, match=r"could not reach Vault at http://127.0.0.1:9.*nothing was written"):
        VaultKvSeedProvider().create(dead)


def test_the_provider_survives_pulumis_serialisation_in_a_fresh_interpreter(
    vault_server, vault_client, provisioner, secret_path
):
    done = call_in_provider_host(VaultKvSeedProvider(), "create", props(vault_server, provisioner))
    assert done["outs"]["fingerprint"] == fingerprint(VALUE)
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}


def test_a_new_provisioner_token_reaches_state_so_refresh_and_delete_keep_working(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    outs = outs_of(provider.create(props(vault_server, provisioner)))
    fresh = vault_server.create_token(["provisioner"], ttl=3600)
    news = props(vault_server, fresh)
    assert provider.diff("id", outs, news).changes is True
    updated = outs_of(provider.update("id", outs, news))
    assert updated["token"] == fresh
    assert (
        updated["version"] == 1 and live(vault_client, secret_path)["data"]["metadata"]["version"] == 1
    )  # value untouched
    # The old token revoked: refresh from the updated state still works.
    vault_client.auth.token.revoke(provisioner)
    assert outs_of(provider.read(f"secret/{secret_path}", updated))["drift"] == ""
    assert provider.diff("id", updated, news).changes is False


def test_a_seed_deleted_by_destroy_is_created_again_by_the_next_up(
    vault_server, vault_client, provisioner, secret_path
):
    # destroy (soft delete keeps the metadata and a deleted version 1), then up: a new version 2.
    provider = VaultKvSeedProvider()
    provider.delete("id", outs_of(provider.create(props(vault_server, provisioner))))
    again = outs_of(provider.create(props(vault_server, provisioner, value="example-not-a-secret-2")))
    assert again["version"] == 2
    assert again["fingerprint"] == fingerprint("example-not-a-secret-2")
    assert live(vault_client, secret_path)["data"]["data"] == {"value": "example-not-a-secret-2"}


def test_a_seed_whose_versions_were_destroyed_is_created_again(
    vault_server, vault_client, provisioner, secret_path
):
    provider = VaultKvSeedProvider()
    provider.create(props(vault_server, provisioner))
    vault_client.secrets.kv.v2.destroy_secret_versions(path=secret_path, versions=[1], mount_point="secret")
    again = outs_of(provider.create(props(vault_server, provisioner)))
    assert again["version"] == 2
    assert live(vault_client, secret_path)["data"]["data"] == {"value": VALUE}


def test_a_rotated_value_that_was_then_deleted_is_still_not_clobbered_by_a_stale_create(
    vault_server, vault_client, provisioner, secret_path
):
    # Only the latest version counts: a live value that differs still refuses, deleted or not before.
    provider = VaultKvSeedProvider()
    provider.delete("id", outs_of(provider.create(props(vault_server, provisioner))))
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=secret_path, mount_point="secret", secret={"value": "example-rotated"}
    )
    with pytest.raises(SeedError, match=r"already holds a different value"):
        provider.create(props(vault_server, provisioner))
    assert live(vault_client, secret_path)["data"]["data"] == {"value": "example-rotated"}
