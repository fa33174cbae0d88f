"""`vault://` references, auth, renewal and re-login against a real OpenBao dev server."""

import asyncio
import threading
import time

import hvac.exceptions
import pytest
from candlefish_secrets import (
    AccessDenied,
    AppRoleAuth,
    AuthenticationFailed,
    ConfigurationError,
    SecretNotFound,
    SecretsClient,
    TokenAuth,
)
from candlefish_secrets.cache import RotationEvent, SecretCache

from tests.sdk.conftest import wait_for

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
VALUE = "example-not-a-secret-openbao"


def write(client, path, data, mount="secret"):
    return client.secrets.kv.v2.create_or_update_secret(path=path, mount_point=mount, secret=data)


def test_every_vault_reference_form(openbao_client, bao_sdk, kv_path):
    write(openbao_client, f"{kv_path}/single", {"value": VALUE})
    write(
        openbao_client,
        f"{kv_path}/db",
        {"username": "app", "password": "example-not-a-secret-v1", "port": 5432},
    )
    write(
        openbao_client,
        f"{kv_path}/db",
        {"username": "app", "password": "example-not-a-secret-v2", "port": 5432},
    )
    client = bao_sdk()
    assert client.get(f"vault://{kv_path}/single") == VALUE
    assert client.get(f"vault://{kv_path}/single#value") == VALUE
    assert client.get(f"vault://{kv_path}/db#password") == "example-not-a-secret-v2"
    assert client.get(f"vault://{kv_path}/db#port") == "5432"
    assert client.get(f"vault://{kv_path}/db#password?version=1") == "example-not-a-secret-v1"
    assert client.get_json(f"vault://{kv_path}/db")["port"] == 5432
    assert client.get(f"vault://{kv_path}/db") == (
        '{"password":"example-not-a-secret-v2","port":5432,"username":"app"}'
    )
    assert client.describe(f"vault://{kv_path}/db")["version"] == 2
    assert client.get("postgres://plain-value") == "postgres://plain-value"


def test_missing_paths_fields_and_deleted_versions_are_not_found(openbao_client, bao_sdk, kv_path):
    write(openbao_client, f"{kv_path}/db", {"password": VALUE})
    write(openbao_client, f"{kv_path}/db", {"password": VALUE + "-2"})
    openbao_client.secrets.kv.v2.delete_secret_versions(
        path=f"{kv_path}/db", versions=[1], mount_point="secret"
    )
    client = bao_sdk()
    with pytest.raises(SecretNotFound, match=f"vault://{kv_path}/absent: not found"):
        client.get(f"vault://{kv_path}/absent")
    with pytest.raises(SecretNotFound, match=r"has no field 'user' \(fields: password\)"):
        client.get(f"vault://{kv_path}/db#user")
    with pytest.raises(SecretNotFound, match=r"\?version=1"):
        client.get(f"vault://{kv_path}/db?version=1")


def test_another_kv_mount(openbao_client, openbao_dev, kv_path):
    mount = "kv-" + kv_path.rsplit("-", 1)[1]
    openbao_client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    write(openbao_client, kv_path, {"value": VALUE}, mount=mount)
    client = SecretsClient.from_env(
        {"VAULT_ADDR": openbao_dev.addr, "VAULT_TOKEN": openbao_dev.root_token, "CANDLEFISH_KV_MOUNT": mount}
    )
    with client:
        assert client.get(f"vault://{kv_path}") == VALUE


def test_a_policy_denial_is_access_denied_without_a_new_login(openbao_client, openbao_dev, bao_sdk, kv_path):
    write(openbao_client, f"{kv_path}/ok", {"value": VALUE})
    write(openbao_client, f"{kv_path}-other/no", {"value": VALUE})
    openbao_client.sys.create_or_update_policy(
        "sdk-reader", f'path "secret/data/{kv_path}/*" {{ capabilities = ["read"] }}'
    )
    token = openbao_client.auth.token.create(policies=["sdk-reader"], ttl="1h")["auth"]["client_token"]
    client = bao_sdk(TokenAuth(token))
    assert client.get(f"vault://{kv_path}/ok") == VALUE
    with pytest.raises(AccessDenied, match=f"vault://{kv_path}-other/no: permission denied"):
        client.get(f"vault://{kv_path}-other/no")
    assert client._vault.logins == 1


def test_a_revoked_bare_token_fails_fast(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": VALUE})
    token = openbao_client.auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    client = bao_sdk(TokenAuth(token))
    assert client.get(f"vault://{kv_path}") == VALUE
    openbao_client.auth.token.revoke(token)
    client.invalidate()
    began = time.monotonic()
    with pytest.raises(AuthenticationFailed, match="revoked or expired and cannot be re-acquired"):
        client.get(f"vault://{kv_path}")
    assert time.monotonic() - began < 5
    late = bao_sdk(TokenAuth(token))  # a process started with the dead token
    with pytest.raises(AuthenticationFailed, match=r"the Vault token was refused \(revoked or expired\)"):
        late.get(f"vault://{kv_path}")


@pytest.fixture
def approle(openbao_client, kv_path):
    """An AppRole whose tokens read kv_path; returns (role_id, mount)."""
    mount = "approle-" + kv_path.rsplit("-", 1)[1]
    openbao_client.sys.enable_auth_method("approle", path=mount)
    openbao_client.sys.create_or_update_policy(
        f"{mount}-read",
        f'path "secret/data/{kv_path}" {{ capabilities = ["read"] }}\n'
        f'path "secret/metadata/{kv_path}" {{ capabilities = ["read"] }}',
    )

    def configure(**token_options):
        openbao_client.auth.approle.create_or_update_approle(
            "app", token_policies=[f"{mount}-read"], mount_point=mount, **token_options
        )
        return openbao_client.auth.approle.read_role_id("app", mount_point=mount)["data"]["role_id"]

    write(openbao_client, kv_path, {"value": VALUE})
    return configure, mount


def secret_id(openbao_client, mount, wrap_ttl=None):
    if wrap_ttl:
        answer = openbao_client.auth.approle.generate_secret_id("app", mount_point=mount, wrap_ttl=wrap_ttl)
        return answer["wrap_info"]["token"]
    return openbao_client.auth.approle.generate_secret_id("app", mount_point=mount)["data"]["secret_id"]


def test_approle_with_a_secret_id(openbao_client, bao_sdk, approle, kv_path):
    configure, mount = approle
    role_id = configure(token_ttl="1h")
    client = bao_sdk(AppRoleAuth(role_id, secret_id(openbao_client, mount), mount=mount))
    assert client.get(f"vault://{kv_path}") == VALUE
    assert f"{mount}-read" in client._vault.token_state().policies


def test_approle_with_a_response_wrapped_secret_id_unwraps_it_once(openbao_client, bao_sdk, approle, kv_path):
    configure, mount = approle
    role_id = configure(token_ttl="1h")
    wrapped = secret_id(openbao_client, mount, wrap_ttl="60s")
    client = bao_sdk(AppRoleAuth(role_id, wrapped_secret_id=wrapped, mount=mount))
    assert client.get(f"vault://{kv_path}") == VALUE
    # Log in again (after a revocation): the unwrapped secret id is reused, the wrapping token is not.
    openbao_client.auth.token.revoke(client._vault._client.token)
    client.invalidate()
    assert client.get(f"vault://{kv_path}") == VALUE
    assert client._vault.logins == 2
    # Someone else holding the same wrapping token cannot use it a second time.
    intercepted = bao_sdk(AppRoleAuth(role_id, wrapped_secret_id=wrapped, mount=mount))
    with pytest.raises(AuthenticationFailed, match="could not be unwrapped"):
        intercepted.get(f"vault://{kv_path}")


def test_a_token_is_renewed_before_it_expires(openbao_client, bao_sdk, approle, kv_path):
    configure, mount = approle
    role_id = configure(token_ttl="60s", token_max_ttl="1h")
    now = [0.0]
    client = bao_sdk(
        AppRoleAuth(role_id, secret_id(openbao_client, mount), mount=mount),
        clock=lambda: now[0],
        renew_in_background=False,
    )
    assert client.get(f"vault://{kv_path}") == VALUE
    token = client._vault._client.token
    now[0] += 41  # a third of the TTL is left
    client.invalidate()
    assert client.get(f"vault://{kv_path}") == VALUE
    assert (client._vault.renewals, client._vault.logins) == (1, 1)
    assert client._vault._client.token == token
    assert openbao_client.lookup_token(token)["data"]["ttl"] > 50


def test_a_token_at_its_max_ttl_is_replaced_by_a_new_login(openbao_client, bao_sdk, approle, kv_path):
    configure, mount = approle
    role_id = configure(token_ttl="3s", token_max_ttl="4s")
    client = bao_sdk(
        AppRoleAuth(role_id, secret_id(openbao_client, mount), mount=mount), renew_in_background=False
    )
    assert client.get(f"vault://{kv_path}") == VALUE
    first = client._vault._client.token
    time.sleep(2.2)  # one third of 3 s left; the server can extend the token by at most ~1.8 s
    client.invalidate()
    assert client.get(f"vault://{kv_path}") == VALUE
    assert client._vault.logins == 2
    assert client._vault._client.token != first


def test_the_background_renewer_keeps_an_idle_token_alive(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": VALUE})
    openbao_client.sys.create_or_update_policy(
        "sdk-idle", f'path "secret/data/{kv_path}" {{ capabilities = ["read"] }}'
    )
    token = openbao_client.auth.token.create(policies=["sdk-idle"], ttl="3s", renewable=True)["auth"][
        "client_token"
    ]
    client = bao_sdk(TokenAuth(token))
    assert client.get(f"vault://{kv_path}") == VALUE
    time.sleep(4.5)  # longer than the token's TTL, with no call of ours in between
    assert client._vault.renewals >= 1
    client.invalidate()
    assert client.get(f"vault://{kv_path}") == VALUE


def test_a_rotation_in_vault_is_noticed_within_the_soft_ttl(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": "example-not-a-secret-1"})
    client = bao_sdk(cache=SecretCache(soft_ttl_s=0.5))
    events: list[RotationEvent] = []
    client.on_rotate(events.append)
    assert client.get(f"vault://{kv_path}") == "example-not-a-secret-1"
    write(openbao_client, kv_path, {"value": "example-not-a-secret-2"})
    written = time.monotonic()
    wait_for(lambda: client.get(f"vault://{kv_path}") == "example-not-a-secret-2", timeout=5)
    assert time.monotonic() - written < 0.5 + 1.0
    assert [(e.old_version, e.new_version, e.backend) for e in events] == [(1, 2, "vault")]
    assert events[0].staleness_s is not None
    assert events[0].staleness_s < 2
    assert client.stats().rotations == 1


def test_many_threads_missing_one_key_cause_one_read(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": VALUE})
    client = bao_sdk()
    reads = []
    original = client._vault.kv_read

    def counted(*args, **kwargs):
        reads.append(args)
        time.sleep(0.05)  # keep the flight open while the others arrive
        return original(*args, **kwargs)

    client._vault.kv_read = counted
    barrier = threading.Barrier(32)
    results = []

    def read():
        barrier.wait()
        results.append(client.get(f"vault://{kv_path}"))

    threads = [threading.Thread(target=read) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [VALUE] * 32
    assert len(reads) == 1


def test_asyncio_and_threads_share_one_cache(openbao_client, bao_sdk, kv_path):
    import asyncio

    write(openbao_client, kv_path, {"value": VALUE})
    client = bao_sdk()

    async def main():
        first = await client.aget(f"vault://{kv_path}")
        hits = client.stats().hits
        second = await client.aget(f"vault://{kv_path}")
        return first, second, client.stats().hits - hits

    first, second, new_hits = asyncio.run(main())
    assert (first, second, new_hits) == (VALUE, VALUE, 1)
    assert client.get(f"vault://{kv_path}") == VALUE
    assert client.stats().misses == 1


def test_resolve_env_returns_a_new_mapping_and_reports_every_failure(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": VALUE})
    client = bao_sdk()
    environ = {"DB": f"vault://{kv_path}", "PORT": "8080"}
    resolved = client.resolve_env(environ)
    assert resolved == {"DB": VALUE, "PORT": "8080"}
    assert environ["DB"] == f"vault://{kv_path}"
    with pytest.raises(SecretNotFound) as caught:
        client.resolve_env({"A": f"vault://{kv_path}/x", "B": f"vault://{kv_path}/y", "C": "plain"})
    assert f"A: vault://{kv_path}/x: not found" in str(caught.value)
    assert f"B: vault://{kv_path}/y: not found" in str(caught.value)


def test_without_vault_configured_a_vault_reference_is_a_configuration_error():
    with (
        SecretsClient() as client,
        pytest.raises(ConfigurationError, match="no Vault address; set VAULT_ADDR"),
    ):
        client.get("vault://candlefish/x")


def test_a_refused_credential_is_replaced_at_once_not_after_the_ttl(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": "example-not-a-secret-1"})
    client = bao_sdk()
    old = client.get(f"vault://{kv_path}")
    write(openbao_client, kv_path, {"value": "example-not-a-secret-2"})
    assert client.get(f"vault://{kv_path}") == old  # within the soft TTL: still cached
    time.sleep(1.1)  # past the one-second guard against refetching what was just fetched
    assert client.credential_refused(f"vault://{kv_path}", old) == "example-not-a-secret-2"
    assert client.get(f"vault://{kv_path}") == "example-not-a-secret-2"


def test_many_threads_reading_a_stale_value_cause_one_refresh(openbao_client, bao_sdk, kv_path):
    write(openbao_client, kv_path, {"value": VALUE})
    client = bao_sdk(cache=SecretCache(soft_ttl_s=0.3))
    assert client.get(f"vault://{kv_path}") == VALUE
    checks = []
    original = client._vault.kv_current_version

    def counted(*args):
        checks.append(args)
        time.sleep(0.1)  # the refresh is still running while every reader arrives
        return original(*args)

    client._vault.kv_current_version = counted
    time.sleep(0.35)
    barrier = threading.Barrier(32)
    served = []

    def read():
        barrier.wait()
        served.append(client.get(f"vault://{kv_path}"))

    threads = [threading.Thread(target=read) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    wait_for(lambda: client.stats().refreshes == 1)
    assert served == [VALUE] * 32  # nobody waited for the server
    assert len(checks) == 1
    assert client.stats().stale_serves == 32


def test_vault_cacert_verifies_a_tls_cluster_with_its_own_ca(openbao_cluster):
    """VAULT_CACERT reaches the pooled session (hvac prefers a given session's own `verify` setting)."""
    leader = openbao_cluster.leader()
    admin = openbao_cluster.client(leader)
    mount = f"sdk-tls-{time.monotonic_ns()}"
    admin.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})

    def written():
        try:
            return write(admin, "candlefish/tls", {"value": VALUE}, mount=mount)
        except hvac.exceptions.InvalidRequest:  # a new KV v2 mount upgrades itself for a moment first
            return None

    wait_for(written, timeout=30, what="the new KV v2 mount accepting writes")
    environ = {
        "VAULT_ADDR": leader.addr,
        "VAULT_CACERT": openbao_cluster.ca_cert_path,
        "VAULT_TOKEN": openbao_cluster.root_token,
        "CANDLEFISH_KV_MOUNT": mount,
    }
    with SecretsClient.from_env(environ) as client:
        assert client.get("vault://candlefish/tls") == VALUE
        assert client._vault is not None
        # `aget`'s reads on the event loop verify with the same CA.
        read = asyncio.run(client._vault.akv_read(mount, "candlefish/tls"))
        assert read is not None
        assert read.data == {"value": VALUE}
