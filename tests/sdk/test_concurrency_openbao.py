"""Many callers, many keys, one real OpenBao dev server: one fetch per missing key, one refresh per stale key.

The callers are threads calling `get` and coroutines calling `aget` on one event loop, all on one client
(one cache). Each reads every key in its own order, so every key is wanted by many callers at once, and a
fetch led by a coroutine on the loop is waited for by the threads (and the other way round).
"""

import asyncio
import random
import threading
import time
from collections import Counter

import pytest
from candlefish_secrets.cache import SecretCache

from tests.sdk.conftest import wait_for

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
KEYS = 40
THREADS = 24
COROUTINES = 8


class Clock:
    """A monotonic clock the test moves: nothing turns stale unless the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write_keys(openbao_client, kv_path, version):
    for index in range(KEYS):
        openbao_client.secrets.kv.v2.create_or_update_secret(
            path=f"{kv_path}/k{index}", secret={"value": value(index, version)}
        )


def value(index, version):
    return f"example-not-a-secret-{index}-v{version}"


def counting(function, calls, delay_s):
    """Wrap a VaultSession method: record the path of each call, and hold it open a little."""

    def counted(mount, path, *rest):
        calls.append(path)
        time.sleep(delay_s)  # the other callers of this key arrive while the call is in flight
        return function(mount, path, *rest)

    return counted


def held_until(function, calls, gate):
    """Wrap a VaultSession method: record the path of each call, and hold it until `gate` opens (at most
    30 s), so that the callers all read while it is in flight however slowly a busy machine runs them."""

    def held(mount, path, *rest):
        calls.append(path)
        gate.wait(30)
        return function(mount, path, *rest)

    return held


def counting_async(function, calls, delay_s):
    """`counting` for the async read that `aget` makes on the event loop."""

    async def counted(mount, path, *rest):
        calls.append(path)
        await asyncio.sleep(delay_s)
        return await function(mount, path, *rest)

    return counted


def read_everything(client, kv_path):
    """Every caller reads every key, in its own shuffled order; returns {caller: {index: value}}."""
    results = {}
    barrier = threading.Barrier(THREADS + 1)

    def thread_reader(caller):
        order = random.Random(caller).sample(range(KEYS), KEYS)
        barrier.wait()
        results[f"thread-{caller}"] = {i: client.get(f"vault://{kv_path}/k{i}") for i in order}

    async def coroutine_reader(caller):
        order = random.Random(1000 + caller).sample(range(KEYS), KEYS)
        seen = {}
        for index in order:
            seen[index] = await client.aget(f"vault://{kv_path}/k{index}")
        results[f"coroutine-{caller}"] = seen

    async def all_coroutines():
        await asyncio.gather(*(coroutine_reader(caller) for caller in range(COROUTINES)))

    def loop_thread():
        barrier.wait()
        asyncio.run(all_coroutines())

    threads = [threading.Thread(target=thread_reader, args=(i,)) for i in range(THREADS)]
    threads.append(threading.Thread(target=loop_thread))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a caller hung"
    return results


def test_many_callers_missing_many_keys_fetch_each_key_once(openbao_client, bao_sdk, kv_path):
    write_keys(openbao_client, kv_path, 1)
    client = bao_sdk()
    reads: list[str] = []
    client._vault.kv_read = counting(client._vault.kv_read, reads, 0.02)
    client._vault.akv_read = counting_async(client._vault.akv_read, reads, 0.02)

    results = read_everything(client, kv_path)

    expected = {index: value(index, 1) for index in range(KEYS)}
    assert len(results) == THREADS + COROUTINES
    wrong = [caller for caller, seen in results.items() if seen != expected]
    assert wrong == [], f"callers that got a wrong or missing value: {wrong}"
    per_key = Counter(reads)
    assert len(per_key) == KEYS
    assert [path for path, count in per_key.items() if count != 1] == []
    assert client.stats().misses == KEYS


def test_many_callers_reading_many_stale_keys_cause_one_refresh_per_key(openbao_client, bao_sdk, kv_path):
    write_keys(openbao_client, kv_path, 1)
    clock = Clock()
    client = bao_sdk(cache=SecretCache(soft_ttl_s=10, max_staleness_s=100, clock=clock))
    for index in range(KEYS):
        assert client.get(f"vault://{kv_path}/k{index}") == value(index, 1)
    rotated = range(0, KEYS, 2)
    for index in rotated:  # a new version of every other key
        openbao_client.secrets.kv.v2.create_or_update_secret(
            path=f"{kv_path}/k{index}", secret={"value": value(index, 2)}
        )
    checks: list[str] = []
    reads: list[str] = []
    vault = client._vault
    callers_done = threading.Event()
    vault.kv_current_version = held_until(vault.kv_current_version, checks, callers_done)
    vault.kv_read = counting(vault.kv_read, reads, 0.0)
    vault.akv_read = counting_async(vault.akv_read, reads, 0.0)
    clock.now += 11  # every entry past its soft TTL, none past the hard limit

    results = read_everything(client, kv_path)
    callers_done.set()  # only now may the refreshes finish: a caller that waited for one would have hung

    old = {index: value(index, 1) for index in range(KEYS)}
    # Nobody waited for the server: every caller got the cached value while the refreshes ran.
    assert [caller for caller, seen in results.items() if seen != old] == []
    wait_for(lambda: client.stats().refreshes == KEYS, what=f"{KEYS} refreshes")
    per_key = Counter(checks)
    assert len(per_key) == KEYS
    assert [path for path, count in per_key.items() if count != 1] == []
    # Only the rotated keys' values were fetched again, once each.
    assert sorted(reads) == sorted(f"{kv_path}/k{index}" for index in rotated)
    stats = client.stats()
    assert (stats.stale_serves, stats.rotations) == ((THREADS + COROUTINES) * KEYS, len(rotated))
    for index in range(KEYS):
        assert client.get(f"vault://{kv_path}/k{index}") == value(index, 2 if index % 2 == 0 else 1)
