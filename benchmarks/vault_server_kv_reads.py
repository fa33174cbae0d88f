"""KV v2 read throughput of the Vault test server through hvac (one client, loopback, keep-alive).

Run: ``python -m benchmarks.vault_server_kv_reads [--reads 2000] [--warmup 50]``.  The number says how fast
the *test server* answers, which bounds how many Vault calls a test suite can afford -- it says nothing
about a real Vault cluster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from tests.support.vault_server import VaultTestServer


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(reads: int, warmup: int) -> dict[str, float]:
    with VaultTestServer() as server:
        client = server.client()
        kv = client.secrets.kv.v2
        kv.create_or_update_secret("bench/db", {"password": "example-not-a-secret", "user": "bench"})
        for _ in range(warmup):
            kv.read_secret_version("bench/db", raise_on_deleted_version=True)
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(reads):
            before = time.perf_counter()
            kv.read_secret_version("bench/db", raise_on_deleted_version=True)
            latencies.append(time.perf_counter() - before)
        elapsed = time.perf_counter() - started
        connections = server.connections_accepted
        server_side = [record.duration_ms for record in server.request_log[-reads:]]
        client.adapter.close()
    return {
        "reads": reads,
        "seconds": elapsed,
        "reads_per_second": reads / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "connections": connections,
        "server_p50_ms": percentile(server_side, 0.50),
        "server_p99_ms": percentile(server_side, 0.99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)
    result = run(args.reads, args.warmup)
    sys.stdout.write(
        f"KV v2 reads via hvac against the Vault test server (loopback, 1 client, keep-alive):\n"
        f"  reads        {int(result['reads'])}\n"
        f"  elapsed      {result['seconds']:.3f} s\n"
        f"  throughput   {result['reads_per_second']:.0f} reads/s\n"
        f"  latency p50  {result['p50_ms']:.3f} ms\n"
        f"  latency p99  {result['p99_ms']:.3f} ms\n"
        f"  latency mean {result['mean_ms']:.3f} ms\n"
        f"  connections  {int(result['connections'])}\n"
        f"  server-side handling (request log) p50 {result['server_p50_ms']:.3f} ms, "
        f"p99 {result['server_p99_ms']:.3f} ms; the rest is hvac/requests client overhead\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
