"""The SDK side by side with what an application would otherwise use, in one run, on the same servers.

Run: ``python -m benchmarks.sdk [--quick] [--json PATH]``.  Starts a moto server and a real OpenBao dev
server on 127.0.0.1 and measures, with interleaved repetitions and medians:

- cached reads: ``SecretsClient.get`` against aws-secretsmanager-caching's
  ``SecretCache.get_secret_string`` (ns/op on one thread, and p99 per read with 32 threads reading);
- uncached reads: the SDK on a miss against raw hvac ``read_secret_version`` and raw boto3
  ``get_secret_value`` (the overhead is the SDK's own work around the same HTTP call), and the calling
  thread's CPU time per Vault read for raw hvac, the SDK's `get` and its `aget` (read on the event loop);
- uncached Vault reads by 32 concurrent callers, each reading its own key: reads per second, p50 and
  p99 of the SDK's `get` (a thread per caller), of its `aget` (coroutines on one event loop) and of raw
  hvac (one client per thread), all with the same least-privilege token;
- staleness after a rotation: seconds from writing a new version to the SDK returning it, with readers
  polling and the same 1 s refresh setting for both libraries.

``--json PATH`` writes exactly: cached_speedup, uncached_overhead_vs_hvac, uncached_overhead_vs_boto3,
vault_throughput_per_s, vault_p99_ms, staleness_after_rotation_s (overheads as fractions).
The numbers describe this machine and these local servers, not a production cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from aws_secretsmanager_caching import SecretCache as AwsSecretCache
from aws_secretsmanager_caching import SecretCacheConfig
from candlefish_secrets import SecretsClient, TokenAuth
from candlefish_secrets.aws import SecretsManagerReader
from candlefish_secrets.cache import SecretCache
from candlefish_secrets.vault import VaultSession
from moto.server import ThreadedMotoServer

from tests.support.openbao import OpenBaoDevServer

THREADS = 32
BENCH_POLICY = """
path "secret/data/bench/*" { capabilities = ["read"] }
path "secret/metadata/bench/*" { capabilities = ["read"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
"""
SMALL = json.dumps({"username": "bench", "password": "example-not-a-secret-bench", "port": 5432})


@dataclass(frozen=True)
class Sizes:
    reps: int
    cached_ops: int  # per repetition, the SDK (the library under comparison does a tenth)
    threaded_ops: int  # per thread
    uncached_ops: int  # per repetition and variant
    concurrent_ops: int  # per caller
    rotations: int


FULL = Sizes(reps=7, cached_ops=200_000, threaded_ops=2_000, uncached_ops=200, concurrent_ops=25, rotations=5)
QUICK = Sizes(reps=5, cached_ops=30_000, threaded_ops=200, uncached_ops=30, concurrent_ops=6, rotations=2)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def ns_per_op(operation: Callable[[], object], count: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(count):
        operation()
    return (time.perf_counter_ns() - started) / count


def threaded_latencies(operation: Callable[[], object], per_thread: int) -> list[float]:
    """Per-read latency (ns) of THREADS threads reading at once."""
    barrier = threading.Barrier(THREADS)
    samples: list[list[float]] = [[] for _ in range(THREADS)]

    def reader(index: int) -> None:
        clock = time.perf_counter_ns
        mine = samples[index]
        barrier.wait()
        for _ in range(per_thread):
            before = clock()
            operation()
            mine.append(clock() - before)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [value for chunk in samples for value in chunk]


class Servers:
    """moto and OpenBao on loopback, with the same small secret in both."""

    def __init__(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self.bao = OpenBaoDevServer().start()
        self.hvac = self.bao.client()
        self.hvac.secrets.kv.v2.create_or_update_secret(path="bench/small", secret=json.loads(SMALL))
        for index in range(THREADS):
            self.hvac.secrets.kv.v2.create_or_update_secret(path=f"bench/k{index}", secret={"value": SMALL})
        # Reads go out with an application's least-privilege token, not the root token (which skips the
        # ACL check): read-only on bench/, and without the `default` policy, whose templated paths the
        # server parses again on every request (see README, "Vault read throughput").
        self.hvac.sys.create_or_update_policy("bench-reader", BENCH_POLICY)
        self.token = self.hvac.auth.token.create(policies=["bench-reader"], no_default_policy=True, ttl="2h")[
            "auth"
        ]["client_token"]
        self.sm_client().create_secret(Name="bench/small", SecretString=SMALL)

    def sm_client(self) -> Any:
        return boto3.client(
            "secretsmanager",
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )

    def sdk(self, **cache: Any) -> SecretsClient:
        session = VaultSession(self.bao.addr, TokenAuth(self.token))
        return SecretsClient(
            vault=session,
            secrets_manager=SecretsManagerReader(client=self.sm_client()),
            cache=SecretCache(**cache),
        )

    def stop(self) -> None:
        self.hvac.adapter.close()
        self.bao.stop()
        self.moto.stop()


def cached(servers: Servers, sizes: Sizes) -> dict[str, float]:
    sdk = servers.sdk()
    theirs = AwsSecretCache(config=SecretCacheConfig(), client=servers.sm_client())
    ours_get = lambda: sdk.get("aws-sm://bench/small")  # noqa: E731
    theirs_get = lambda: theirs.get_secret_string("bench/small")  # noqa: E731
    assert ours_get() == theirs_get() == SMALL
    ours_ns, theirs_ns = [], []
    for _ in range(sizes.reps):  # interleaved: each repetition measures both
        ours_ns.append(ns_per_op(ours_get, sizes.cached_ops))
        theirs_ns.append(ns_per_op(theirs_get, sizes.cached_ops // 10))
    ours_threads = threaded_latencies(ours_get, sizes.threaded_ops)
    theirs_threads = threaded_latencies(theirs_get, sizes.threaded_ops)
    sdk.close()
    return {
        "sdk_ns": statistics.median(ours_ns),
        "aws_caching_ns": statistics.median(theirs_ns),
        "sdk_p99_32_threads_ns": percentile(ours_threads, 0.99),
        "aws_caching_p99_32_threads_ns": percentile(theirs_threads, 0.99),
    }


def uncached(servers: Servers, sizes: Sizes) -> dict[str, float]:
    sdk = servers.sdk()
    raw_sm = servers.sm_client()
    raw_kv = servers.bao.client(servers.token).secrets.kv.v2

    def sdk_miss(reference: str) -> Callable[[], object]:
        def read() -> object:
            sdk.invalidate(reference)
            return sdk.get(reference)

        return read

    loop = asyncio.new_event_loop()

    def sdk_amiss() -> object:
        sdk.invalidate("vault://bench/small#password")
        return loop.run_until_complete(sdk.aget("vault://bench/small#password"))

    variants: dict[str, Callable[[], object]] = {
        "hvac": lambda: raw_kv.read_secret_version(path="bench/small", raise_on_deleted_version=True),
        "sdk_vault": sdk_miss("vault://bench/small#password"),
        "sdk_vault_aget": sdk_amiss,
        "boto3": lambda: raw_sm.get_secret_value(SecretId="bench/small"),
        "sdk_sm": sdk_miss("aws-sm://bench/small#password"),
    }
    for read in variants.values():  # warm connections and code paths
        for _ in range(20):
            read()
    results: dict[str, list[float]] = {name: [] for name in variants}
    cpu_results: dict[str, list[float]] = {name: [] for name in variants}
    clock, cpu_clock = time.perf_counter_ns, caller_cpu_ns
    for _ in range(sizes.reps):
        # Interleaved read by read (not batch by batch), so a busy moment on a shared machine hits every
        # variant alike; each repetition gives one mean per variant, and the medians are compared.
        # The order rotates every read: moto runs inside this process, so whichever variant follows a
        # Secrets Manager call would otherwise always share the CPU with moto finishing that request.
        # Beside the wall time, the client's CPU time: this thread's and the SDK's I/O loop thread's (where
        # a `get` miss is read), not the servers' threads and processes; a busy machine inflates it far
        # less than the wall time.
        totals = dict.fromkeys(variants, 0)
        cpu_totals = dict.fromkeys(variants, 0)
        names = list(variants)
        for index in range(sizes.uncached_ops):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                before, cpu_before = clock(), cpu_clock()
                variants[name]()
                totals[name] += clock() - before
                cpu_totals[name] += cpu_clock() - cpu_before
        for name, total in totals.items():
            results[name].append(total / sizes.uncached_ops)
            cpu_results[name].append(cpu_totals[name] / sizes.uncached_ops)
    sdk.close()
    loop.close()
    medians = {name: statistics.median(values) for name, values in results.items()}
    cpu = {f"{name}_cpu_ns": statistics.median(values) for name, values in cpu_results.items()}
    return (
        {f"{name}_ns": value for name, value in medians.items()}
        | cpu
        | {
            "overhead_vs_hvac": medians["sdk_vault"] / medians["hvac"] - 1,
            "overhead_vs_boto3": medians["sdk_sm"] / medians["boto3"] - 1,
        }
    )


def concurrent_reads(read: Callable[[int], object], per_caller: int) -> dict[str, float]:
    """THREADS callers each reading `per_caller` times at once: reads/s, p50 and p99 (ms)."""
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS + 1)

    def caller(index: int) -> None:
        mine = latencies[index]
        read(index)  # connection and login warm-up
        barrier.wait()
        for _ in range(per_caller):
            before = time.perf_counter()
            read(index)
            mine.append(time.perf_counter() - before)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [value for chunk in latencies for value in chunk]
    return {
        "reads_per_s": len(flat) / elapsed,
        "p50_ms": percentile(flat, 0.50) * 1000,
        "p99_ms": percentile(flat, 0.99) * 1000,
    }


def concurrent_coroutines(read: Callable[[int], Any], per_caller: int) -> dict[str, float]:
    """`concurrent_reads` for asyncio: THREADS coroutines on one event loop, each awaiting its reads."""

    async def caller(index: int, start: asyncio.Event, mine: list[float]) -> None:
        await read(index)  # warm-up, as the threads do
        await start.wait()
        for _ in range(per_caller):
            before = time.perf_counter()
            await read(index)
            mine.append(time.perf_counter() - before)

    async def all_callers() -> tuple[list[list[float]], float]:
        start = asyncio.Event()
        latencies: list[list[float]] = [[] for _ in range(THREADS)]
        tasks = [asyncio.create_task(caller(i, start, latencies[i])) for i in range(THREADS)]
        await asyncio.sleep(0.2)  # every caller warmed up and waiting
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        return latencies, time.perf_counter() - started

    latencies, elapsed = asyncio.run(all_callers())
    flat = [value for chunk in latencies for value in chunk]
    return {
        "reads_per_s": len(flat) / elapsed,
        "p50_ms": percentile(flat, 0.50) * 1000,
        "p99_ms": percentile(flat, 0.99) * 1000,
    }


def concurrent_vault(servers: Servers, sizes: Sizes) -> dict[str, float]:
    """Uncached Vault reads by THREADS callers through the SDK's `get` (threads) and `aget` (coroutines on
    one loop), and through raw hvac (one client per thread). Every caller reads its own key (bench/k<i>),
    and every read is invalidated first, so each one goes to the server and no two share a fetch."""
    sdk = servers.sdk()

    def sdk_read(index: int) -> object:
        reference = f"vault://bench/k{index}"
        sdk.invalidate(reference)
        return sdk.get(reference)

    async def sdk_aread(index: int) -> object:
        reference = f"vault://bench/k{index}"
        sdk.invalidate(reference)
        return await sdk.aget(reference)

    raw = [servers.bao.client(servers.token) for _ in range(THREADS)]

    def hvac_read(index: int) -> object:
        return raw[index].secrets.kv.v2.read_secret_version(
            path=f"bench/k{index}", raise_on_deleted_version=True
        )

    measures: dict[str, Callable[[], dict[str, float]]] = {
        "sdk": lambda: concurrent_reads(sdk_read, sizes.concurrent_ops),
        "aget": lambda: concurrent_coroutines(sdk_aread, sizes.concurrent_ops),
        "hvac": lambda: concurrent_reads(hvac_read, sizes.concurrent_ops),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in measures}
    names = list(measures)
    for rep in range(sizes.reps):  # interleaved, rotating which goes first
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            runs[name].append(measures[name]())
    sdk.close()
    for client in raw:
        client.adapter.close()
    medians = {
        name: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    return medians["sdk"] | {
        f"{name}_{key}": value for name in ("aget", "hvac") for key, value in medians[name].items()
    }


def staleness(servers: Servers, sizes: Sizes) -> dict[str, float]:
    """Seconds from a new version being written to each library returning it (same 1 s refresh setting)."""
    sdk = servers.sdk(soft_ttl_s=1.0)
    theirs = AwsSecretCache(config=SecretCacheConfig(secret_refresh_interval=1), client=servers.sm_client())
    writer = servers.sm_client()
    vault_seen: list[float] = []
    sm_seen: list[float] = []
    theirs_seen: list[float] = []
    # The first round only fills both caches (a cold read is not staleness); the rest are measured.
    for rotation in range(sizes.rotations + 1):
        value = f"example-not-a-secret-rotation-{rotation}"
        servers.hvac.secrets.kv.v2.create_or_update_secret(path="bench/rotating", secret={"value": value})
        writer.put_secret_value(SecretId="bench/small", SecretString=value)
        written = time.monotonic()
        pending = {"vault": vault_seen, "sdk_sm": sm_seen, "aws_caching": theirs_seen}
        readers: dict[str, Callable[[], str]] = {
            "vault": lambda: sdk.get("vault://bench/rotating"),
            "sdk_sm": lambda: sdk.get("aws-sm://bench/small"),
            "aws_caching": lambda: theirs.get_secret_string("bench/small"),
        }
        while pending and time.monotonic() - written < 10:
            for name in list(pending):
                if readers[name]() == value:
                    pending.pop(name).append(time.monotonic() - written)
            time.sleep(0.005)
        time.sleep(0.3)  # let the next rotation land at a different point of the refresh cycle
    sdk.close()
    return {
        "sdk_vault_s": statistics.median(vault_seen[1:]),
        "sdk_sm_s": statistics.median(sm_seen[1:]),
        "aws_caching_s": statistics.median(theirs_seen[1:]),
    }


def caller_cpu_ns() -> int:
    """CPU time of this thread plus the SDK's I/O loop threads (a `get` miss is read on one of them)."""
    total = time.thread_time_ns()
    for thread in threading.enumerate():
        if thread.name == "candlefish-secrets-io" and thread.ident is not None:
            total += time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
    return total


def run(sizes: Sizes) -> dict[str, dict[str, float]]:
    servers = Servers()
    try:
        return {
            "cached": cached(servers, sizes),
            "uncached": uncached(servers, sizes),
            "concurrent": concurrent_vault(servers, sizes),
            "staleness": staleness(servers, sizes),
        }
    finally:
        servers.stop()


def summary(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """Exactly the figures the issue asks `--json` for."""
    return {
        "cached_speedup": results["cached"]["aws_caching_ns"] / results["cached"]["sdk_ns"],
        "uncached_overhead_vs_hvac": results["uncached"]["overhead_vs_hvac"],
        "uncached_overhead_vs_boto3": results["uncached"]["overhead_vs_boto3"],
        "vault_throughput_per_s": results["concurrent"]["reads_per_s"],
        "vault_p99_ms": results["concurrent"]["p99_ms"],
        "staleness_after_rotation_s": results["staleness"]["sdk_vault_s"],
    }


def report(results: dict[str, dict[str, float]], figures: dict[str, float]) -> str:
    cached_r, uncached_r = results["cached"], results["uncached"]
    concurrent_r, stale_r = results["concurrent"], results["staleness"]
    us = {name: value / 1000 for name, value in uncached_r.items()}
    return "\n".join(
        [
            "cached get (median ns/op, one thread; p99 per read with 32 threads)",
            f"  candlefish-secrets          {cached_r['sdk_ns']:>10.0f} ns   "
            f"p99 {cached_r['sdk_p99_32_threads_ns']:>10.0f} ns",
            f"  aws-secretsmanager-caching  {cached_r['aws_caching_ns']:>10.0f} ns   "
            f"p99 {cached_r['aws_caching_p99_32_threads_ns']:>10.0f} ns",
            f"  speedup                     {figures['cached_speedup']:>10.1f}x",
            "uncached get (median µs/op; the same HTTP call underneath)",
            f"  raw hvac  {us['hvac_ns']:>8.0f} µs   SDK vault:// miss  {us['sdk_vault_ns']:>8.0f} µs   "
            f"overhead {figures['uncached_overhead_vs_hvac']:+.1%}",
            f"  client CPU per vault:// read: raw hvac {us['hvac_cpu_ns']:.0f} µs, SDK get "
            f"{us['sdk_vault_cpu_ns']:.0f} µs, SDK aget {us['sdk_vault_aget_cpu_ns']:.0f} µs "
            f"(wall {us['sdk_vault_aget_ns']:.0f} µs)",
            f"  raw boto3 {us['boto3_ns']:>8.0f} µs   SDK aws-sm:// miss {us['sdk_sm_ns']:>8.0f} µs   "
            f"overhead {figures['uncached_overhead_vs_boto3']:+.1%}",
            f"uncached Vault reads, {THREADS} concurrent callers, one key each (OpenBao dev server; "
            "get and hvac: a thread per caller; aget: coroutines on one loop)",
            *(
                f"  {label:<9} {concurrent_r[prefix + 'reads_per_s']:>6.0f} reads/s   "
                f"p50 {concurrent_r[prefix + 'p50_ms']:>6.1f} ms   "
                f"p99 {concurrent_r[prefix + 'p99_ms']:>6.1f} ms"
                for label, prefix in (("SDK get", ""), ("SDK aget", "aget_"), ("raw hvac", "hvac_"))
            ),
            "staleness after a rotation (median s until the new value is returned; 1 s refresh for both)",
            f"  SDK vault:// {stale_r['sdk_vault_s']:.2f} s   SDK aws-sm:// {stale_r['sdk_sm_s']:.2f} s   "
            f"aws-secretsmanager-caching {stale_r['aws_caching_s']:.2f} s (its default refresh is 3600 s)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; finishes within a minute")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the summary figures as JSON")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    results = run(QUICK if args.quick else FULL)
    figures = summary(results)
    print(report(results, figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
