"""`aget`: hits and stale serves answer on the event loop; only a fetch goes to a worker thread."""

import asyncio

import pytest
from candlefish_secrets import SecretsClient
from candlefish_secrets.cache import Entry, SecretCache


class Clock:
    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


def test_cached_values_never_leave_the_loop_and_misses_do(monkeypatch):
    clock = Clock()
    client = SecretsClient(cache=SecretCache(clock=clock, soft_ttl_s=10, max_staleness_s=100))
    fetched = []

    def load(key, previous):
        fetched.append(key)
        return Entry(f"example-not-a-secret-{len(fetched)}", len(fetched), "vault", clock())

    monkeypatch.setattr(client, "_load", load)
    offloaded = []
    real_to_thread = asyncio.to_thread

    async def to_thread(function, *args):
        offloaded.append(args)
        return await real_to_thread(function, *args)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)

    async def scenario():
        first = await client.aget("vault://a")  # miss: off the loop
        second = await client.aget("vault://a")  # hit
        clock.now += 11
        stale = await client.aget("vault://a")  # stale: served at once, refreshed in the background
        return first, second, stale, await client.aget("plain")

    assert asyncio.run(scenario()) == (
        "example-not-a-secret-1",
        "example-not-a-secret-1",
        "example-not-a-secret-1",
        "plain",
    )
    assert offloaded == [("vault://a",)]
    client.close()


@pytest.mark.parametrize("value", ['{"a": [1, {"b": 2}]}'])
def test_aget_json_is_frozen(monkeypatch, value):
    client = SecretsClient()
    monkeypatch.setattr(client, "_load", lambda key, previous: Entry(value, 1, "aws-sm", 0.0))
    document = asyncio.run(client.aget_json("aws-sm://doc"))
    assert document["a"][1]["b"] == 2
    with pytest.raises(TypeError):
        document["a"][1]["b"] = 3
    client.close()
