"""Seeding throughput: 200 catalog entries into Secrets Manager (moto server) and Vault KV (real OpenBao).

Run: ``python -m benchmarks.seed_catalog [--entries 200]``. Each entry is seeded the way `pulumi up` seeds
it: the SecretsManagerSeed provider's create, then the VaultKvSeed provider's create, both over real HTTP
on loopback. The figures say how much the providers themselves cost (client set-up, retries, metadata
writes) -- against real AWS and Vault, network latency dominates.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from providers.secrets_manager_seed import SecretsManagerSeedProvider
from providers.vault_kv_seed import VaultKvSeedProvider
from tests.support.openbao import OpenBaoDevServer


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted samples (nearest rank)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


METADATA = {"owner": "platform-team", "type": "crypto", "rotation_days": "90", "source": "generate"}


def _fake_aws(endpoint: str, scratch: Path) -> None:
    """Point boto3 at the local moto server with obviously fake credentials and no shared config."""
    empty = scratch / "none"
    empty.write_text("")
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def run(entries: int) -> dict[str, float]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory() as scratch, OpenBaoDevServer() as vault:
            _fake_aws(f"http://{host}:{port}", Path(scratch))
            client = boto3.client("secretsmanager")
            arns = [
                client.create_secret(Name=f"candlefish/bench/entry-{i:03d}")["ARN"] for i in range(entries)
            ]
            sm_seed, kv_seed = SecretsManagerSeedProvider(), VaultKvSeedProvider()
            latencies: list[float] = []
            started = time.perf_counter()
            for index, arn in enumerate(arns):
                value = f"example-not-a-secret-{index:03d}"
                before = time.perf_counter()
                sm_seed.create({"secret_id": arn, "value": value, "region": "us-east-1", "reseed": ""})
                kv_seed.create(
                    {
                        "address": vault.addr,
                        "ca_pem": "",
                        "token": vault.root_token,
                        "mount": "secret",
                        "path": f"candlefish/bench/entry-{index:03d}",
                        "value": value,
                        "reseed": "",
                        "custom_metadata": METADATA,
                    }
                )
                latencies.append(time.perf_counter() - before)
            elapsed = time.perf_counter() - started
    finally:
        moto.stop()
    return {
        "entries": entries,
        "seconds": elapsed,
        "entries_per_second": entries / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200)
    entries = parser.parse_args(argv).entries
    if entries < 1:
        parser.error("--entries must be at least 1")
    result = run(entries)
    print("Seeding catalog entries into Secrets Manager (moto) and Vault KV (OpenBao dev server), loopback:")
    print(f"  entries      {result['entries']:.0f}")
    print(f"  elapsed      {result['seconds']:.2f} s")
    print(f"  throughput   {result['entries_per_second']:.1f} entries/s")
    print(f"  one seed p50 {result['p50_ms']:.1f} ms")
    print(f"  one seed p99 {result['p99_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
