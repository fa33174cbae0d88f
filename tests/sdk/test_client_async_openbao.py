"""`aget` against a real OpenBao dev server: misses read on the event loop, failures the synchronous way."""

import asyncio

import pytest
from candlefish_secrets import AccessDenied, SecretNotFound, TokenAuth

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
KEYS = 40


def write(client, path, data):
    client.secrets.kv.v2.create_or_update_secret(path=path, secret=data)


@pytest.fixture
def offloaded(monkeypatch):
    """Every call `aget` hands to a worker thread."""
    calls = []
    real = asyncio.to_thread

    async def to_thread(function, *args):
        calls.append(getattr(function, "__name__", repr(function)))
        return await real(function, *args)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    return calls


def test_concurrent_misses_of_many_keys_are_read_on_the_loop(openbao_client, bao_sdk, kv_path, offloaded):
    for index in range(KEYS):
        write(openbao_client, f"{kv_path}/k{index}", {"value": f"example-not-a-secret-{index}"})
    client = bao_sdk()

    async def read_all():
        return await asyncio.gather(*(client.aget(f"vault://{kv_path}/k{i}") for i in range(KEYS)))

    values = asyncio.run(read_all())
    assert values == [f"example-not-a-secret-{index}" for index in range(KEYS)]
    assert offloaded == ["ensure_token"]  # the first login only; no read left the loop
    assert client.stats().misses == KEYS
    assert client.describe(f"vault://{kv_path}/k0")["backend"] == "vault"


def test_a_large_value_sent_in_chunks_is_read_whole(openbao_client, bao_sdk, kv_path, offloaded):
    large = "example-not-a-secret-" + "x" * 20_000  # past the size Go's server sends with a length
    write(openbao_client, kv_path, {"value": large, "note": "chunked"})
    client = bao_sdk()
    assert asyncio.run(client.aget(f"vault://{kv_path}#value")) == large
    assert offloaded == ["ensure_token"]


def test_a_missing_secret_and_a_denied_path_fail_as_in_get(openbao_client, bao_sdk, kv_path, offloaded):
    openbao_client.sys.create_or_update_policy(
        "sdk-async-narrow", 'path "secret/data/elsewhere/*" { capabilities = ["read"] }'
    )
    narrow = openbao_client.auth.token.create(policies=["sdk-async-narrow"], ttl="10m")["auth"]
    write(openbao_client, kv_path, {"value": "example-not-a-secret"})
    client = bao_sdk()
    with pytest.raises(SecretNotFound, match=f"vault://{kv_path}/absent: not found"):
        asyncio.run(client.aget(f"vault://{kv_path}/absent"))
    assert "get" in offloaded  # the 404 was handed to the synchronous path, which raised it
    denied = bao_sdk(TokenAuth(narrow["client_token"]))
    with pytest.raises(AccessDenied, match=f"vault://{kv_path}: permission denied"):
        asyncio.run(denied.aget(f"vault://{kv_path}"))


def test_an_event_loop_per_call_leaves_no_connection_open(openbao_client, bao_sdk, kv_path):
    import gc
    import warnings
    from pathlib import Path

    def open_files():
        return sum(1 for _ in Path("/proc/self/fd").iterdir())

    write(openbao_client, kv_path, {"value": "example-not-a-secret"})
    client = bao_sdk()

    def read_in_a_new_loop():
        client.invalidate(f"vault://{kv_path}")
        return asyncio.run(client.aget(f"vault://{kv_path}"))

    read_in_a_new_loop()  # logged in, one connection kept by a loop that is now closed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the dropped transports say they were unclosed
        gc.collect()
        open_before = open_files()
        for _ in range(10):
            assert read_in_a_new_loop() == "example-not-a-secret"
        gc.collect()
    assert open_files() <= open_before + 1  # at most the last loop's connection
    assert len(client._vault._async._idle) == 1


@pytest.fixture
def hvac_reads(monkeypatch):
    """Every KV read that goes through hvac (the synchronous way), by path."""
    from hvac.api.secrets_engines import kv_v2

    calls = []
    real = kv_v2.KvV2.read_secret_version

    def counted(self, path, *args, **kwargs):
        calls.append(path)
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(kv_v2.KvV2, "read_secret_version", counted)
    return calls


def test_threads_get_misses_over_the_sessions_loop_and_failures_through_hvac(
    openbao_client, bao_sdk, kv_path, hvac_reads
):
    import threading

    def io_threads():
        return {thread for thread in threading.enumerate() if thread.name == "candlefish-secrets-io"}

    for index in range(8):
        write(openbao_client, f"{kv_path}/k{index}", {"value": f"example-not-a-secret-{index}"})
    others = io_threads()  # other tests' clients, not closed
    client = bao_sdk()
    values = {}
    threads = [
        threading.Thread(target=lambda i=i: values.update({i: client.get(f"vault://{kv_path}/k{i}")}))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert values == {index: f"example-not-a-secret-{index}" for index in range(8)}
    assert hvac_reads == []  # every 200 was read on the session's loop
    # Anything but a 200 is read again through hvac, which names the failure.
    with pytest.raises(SecretNotFound, match=f"vault://{kv_path}/absent: not found"):
        client.get(f"vault://{kv_path}/absent")
    assert hvac_reads == [f"{kv_path}/absent"]
    assert len(io_threads() - others) == 1  # one loop serves every thread of the session
    client.close()
    assert io_threads() - others == set()
