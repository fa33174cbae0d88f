"""Offline preview time: the production stack against the same stack with a generated 200-secret catalog.

Run: ``python -m benchmarks.preview [--repetitions 5] [--secrets 200] [--json]``. Each measurement is what
`make preview` spends after start-up (the figure it prints as "offline preview under mocks, N s"): the
program under the recording mocks, the plan, and the whole policy pack over it. The two stacks run
interleaved (production, catalog, production, ...) so load on the machine falls on both alike, and the
figures are medians. A preview that grows linearly with the catalog keeps `ratio` (catalog / production)
low: each secret adds a fixed handful of resources (secret, rotation, seeds, policy) and the rules look
each one up in indexes built once per run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from tests.support.mocks import run_program
from tools.plan import Plan
from tools.policy_runner import run_policies

NAMESPACE = "candlefish-secrets"
KINDS = (
    ("crypto", 365, "security-team"),
    ("api-key", 90, "platform-team"),
    ("database", 90, "platform-team"),
)


def generated_catalog(count: int) -> dict[str, dict[str, Any]]:
    """`count` catalog entries with generated values (no secure config needed), types in rotation."""
    catalog = {}
    for index in range(count):
        kind, days, owner = KINDS[index % len(KINDS)]
        catalog[f"bench-{index:03d}"] = {
            "description": f"Generated benchmark secret {index}",
            "type": kind,
            "owner": owner,
            "rotationDays": days,
            "vaultPath": f"candlefish/bench/secret-{index:03d}",
            "source": "generate",
        }
    return catalog


def measure(overrides: dict[str, Any] | None) -> tuple[float, float, int]:
    """One offline preview of production (with `overrides`): total seconds, the policy pack's share of
    them, and the number of resources."""
    started = time.perf_counter()
    plan = Plan.from_recording(run_program("production", overrides=overrides))
    recorded = time.perf_counter()
    run_policies(plan)
    finished = time.perf_counter()
    return finished - started, finished - recorded, len(plan.custom_resources)


def run(repetitions: int, secrets: int) -> dict[str, Any]:
    catalog = {f"{NAMESPACE}:initialSecrets": generated_catalog(secrets)}
    measure(None)  # warm imports and caches once, outside the figures
    runs: dict[str, list[tuple[float, float, int]]] = {"production": [], "catalog": []}
    for _ in range(repetitions):
        runs["production"].append(measure(None))
        runs["catalog"].append(measure(catalog))
    production_s = statistics.median(run[0] for run in runs["production"])
    catalog_s = statistics.median(run[0] for run in runs["catalog"])
    return {
        "repetitions": repetitions,
        "secrets": secrets,
        "production_s": round(production_s, 3),
        f"catalog{secrets}_s": round(catalog_s, 3),
        "ratio": round(catalog_s / production_s, 2),
        "production_policies_s": round(statistics.median(run[1] for run in runs["production"]), 3),
        "catalog_policies_s": round(statistics.median(run[1] for run in runs["catalog"]), 3),
        "production_runs_s": [round(run[0], 3) for run in runs["production"]],
        "catalog_runs_s": [round(run[0], 3) for run in runs["catalog"]],
        "production_resources": runs["production"][0][2],
        "catalog_resources": runs["catalog"][0][2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.preview", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repetitions", type=int, default=5, help="interleaved runs of each stack (median)")
    parser.add_argument("--secrets", type=int, default=200, help="entries in the generated catalog")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.repetitions < 1 or args.secrets < 1:
        parser.error("--repetitions and --secrets must be at least 1")
    result = run(args.repetitions, args.secrets)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"production: {result['production_s']:.2f} s ({result['production_resources']} resources); "
            f"{args.secrets}-secret catalog: {result[f'catalog{args.secrets}_s']:.2f} s "
            f"({result['catalog_resources']} resources); ratio {result['ratio']:.2f}; policy pack "
            f"{result['production_policies_s']:.2f} s / {result['catalog_policies_s']:.2f} s "
            f"(medians of {args.repetitions})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
