"""The load generator behind `tools.loadtest`: asyncio and aiohttp, one connection pool, N workers.

`drive(plan)` runs KV v2 reads and writes for a fixed time (optionally paced to a target rate, measuring
each request from its scheduled start so a slow server cannot hide queueing), and `measure_ceiling` runs
the same loop against a trivial HTTP endpoint in another process: what the generator itself can do on
this machine. Both return `Figures`.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import ssl
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")
SEED_VALUE = "example-not-a-secret"
REQUEST_TIMEOUT_S = 10.0


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private event loop. Unlike asyncio.run, this leaves the thread's current loop
    alone: asyncio.run ends by unsetting it, which breaks callers (Pulumi's runtime among them) that later
    ask for the current loop in the same thread."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class LoadTestError(RuntimeError):
    """The load test could not run (Vault unreachable, token refused)."""


@dataclass(frozen=True)
class Plan:
    """One run's shape: where, with what, how hard and for how long."""

    target: str
    token: str
    mount: str
    prefix: str
    keys: int
    concurrency: int
    duration_s: float
    rate_per_s: float = 0.0
    read_ratio: float = 1.0
    ssl: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # the token never appears in a log or traceback
        return f"Plan(target={self.target!r}, concurrency={self.concurrency}, duration_s={self.duration_s})"


@dataclass(frozen=True)
class Figures:
    """What a run measured. Latencies in milliseconds."""

    requests: int
    reads: int
    writes: int
    seconds: float
    throughput_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    error_count: int
    errors: dict[str, int]


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted samples (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def figures(
    latencies_ms: list[float], reads: int, writes: int, errors: Counter[str], seconds: float
) -> Figures:
    ordered = sorted(latencies_ms)
    done = len(ordered)
    return Figures(
        requests=done,
        reads=reads,
        writes=writes,
        seconds=round(seconds, 3),
        throughput_per_s=round(done / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(percentile(ordered, 0.50), 3),
        p95_ms=round(percentile(ordered, 0.95), 3),
        p99_ms=round(percentile(ordered, 0.99), 3),
        max_ms=round(ordered[-1], 3) if ordered else 0.0,
        error_count=sum(errors.values()),
        errors=dict(sorted(errors.items())),
    )


def _kv_url(target: str, mount: str, prefix: str, index: int) -> str:
    return f"{target}/v1/{mount}/data/{prefix}/key-{index}"


async def seed_keys(
    session: aiohttp.ClientSession, target: str, token: str, *, mount: str, prefix: str, keys: int
) -> None:
    """Write every canary key once, so reads find a value. A refusal names the missing policy."""
    for index in range(keys):
        async with session.post(
            _kv_url(target, mount, prefix, index),
            json={"data": {"value": f"{SEED_VALUE}-{index}"}},
            headers={"X-Vault-Token": token},
        ) as response:
            if response.status == 403:
                raise LoadTestError(
                    f"the token may not write {mount}/data/{prefix}/: give it the loadtest policy "
                    "(`vault token create -policy=loadtest -no-default-policy -ttl=1h` by an administrator)"
                )
            if response.status >= 400:
                raise LoadTestError(
                    f"seeding {mount}/data/{prefix}/key-{index} failed: HTTP {response.status}"
                )


class _Pacer:
    """Hands out send times `start + n / rate` (or now, unpaced) to every worker in turn."""

    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self.start = time.perf_counter()
        self.issued = 0

    async def next_start(self) -> float:
        if not self.interval:
            return time.perf_counter()
        slot = self.start + self.issued * self.interval
        self.issued += 1
        delay = slot - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        return slot


async def drive(plan: Plan) -> Figures:
    """Run the plan and measure it."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    headers = {"X-Vault-Token": plan.token}
    connector = aiohttp.TCPConnector(limit=plan.concurrency, ssl=plan.ssl or True)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        pacer = _Pacer(plan.rate_per_s)
        deadline = pacer.start + plan.duration_s

        async def worker(seed: int) -> None:
            chooser = random.Random(seed)  # noqa: S311 - picks keys, not secrets
            written = 0
            while True:
                started = await pacer.next_start()
                if started >= deadline:
                    return
                index = chooser.randrange(plan.keys)
                url = _kv_url(plan.target, plan.mount, plan.prefix, index)
                read = chooser.random() < plan.read_ratio
                try:
                    if read:
                        request = session.get(url)
                    else:
                        written += 1
                        request = session.post(
                            url, json={"data": {"value": f"{SEED_VALUE}-{seed}-{written}"}}
                        )
                    async with request as response:
                        await response.read()
                        if response.status >= 400:
                            errors[f"http {response.status}"] += 1
                            continue
                except TimeoutError:
                    errors["timeout"] += 1
                    continue
                except aiohttp.ClientConnectionError:
                    errors["connection"] += 1
                    continue
                except aiohttp.ClientError as error:
                    errors[type(error).__name__] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                kinds["reads" if read else "writes"] += 1

        await asyncio.gather(*(worker(seed) for seed in range(plan.concurrency)))
        elapsed = time.perf_counter() - pacer.start
    return figures(latencies, kinds["reads"], kinds["writes"], errors, elapsed)


# The trivial endpoint: answers every request at once with a body the size of a small KV v2 read.
TRIVIAL_BODY = b'{"data":{"data":{"value":"example-not-a-secret-0"},"metadata":{"version":1}}}'


async def _trivial(_: web.Request) -> web.Response:
    return web.Response(body=TRIVIAL_BODY, content_type="application/json")


def _serve_trivial(conn: Connection) -> None:
    """Child process: serve the trivial endpoint on a free loopback port until told to stop."""

    async def serve() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", _trivial)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        conn.send(server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await runner.cleanup()

    asyncio.run(serve())


def measure_ceiling(concurrency: int, duration_s: float, read_ratio: float) -> Figures:
    """The generator's own throughput against the trivial endpoint in another process (same client)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_trivial, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the trivial endpoint did not start within 30 s")
        port = parent.recv()
        plan = Plan(
            target=f"http://127.0.0.1:{port}",
            token="",
            mount="secret",
            prefix="ceiling",
            keys=16,
            concurrency=concurrency,
            duration_s=duration_s,
            read_ratio=read_ratio,
        )
        return run_async(drive(plan))
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()
