"""Offline preview time: the production stack against the same stack with a generated 200-secret catalog.

Run: ``python -m benchmarks.preview [--repetitions 5] [--secrets 200] [--json]``.

`production_s`, `catalog200_s` and `ratio` are what `make preview` prints ("offline preview under mocks,
N s"): each run is a new interpreter that starts as `tools.preview` starts, then times the program under
the recording mocks, the plan and the whole policy pack. Like `make preview`, that figure includes the
program's own imports (pulumi_aws's service modules, the components), a fixed cost of every preview.
`warm_production_s`, `warm_catalog200_s` and `warm_ratio` repeat the two in one process after a first
run, so the imports are done and what is left is the work per resource: `added_ms_per_resource` (what each
resource the catalog adds costs) beside `production_ms_per_resource` (a production resource's average,
fixed work included) shows how the preview grows. Each catalog entry adds six resources (secret, resource
policy, generated value, two seeds, rotation schedule), and the rules look each one up in indexes built
once per run, so the growth is linear in resources.

The stacks run interleaved (production, catalog, production, ...) so load on the machine falls on both
alike, and every figure is a median.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.mock_costs import cyclic_gc_paused
from tests.support.mocks import ROOT, run_program
from tools.plan import Plan
from tools.policy_runner import run_policies

NAMESPACE = "candlefish-secrets"
# The stack setting the generated catalog replaces (a renamed key is refused by the config, and
# tests/test_benchmark_scripts.py parses these overrides so a rename breaks a test, not the benchmark).
CATALOG_KEY = f"{NAMESPACE}:catalog"
GENERATED_PREFIX = "bench-"
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
        catalog[f"{GENERATED_PREFIX}{index:03d}"] = {
            "description": f"Generated benchmark secret {index}",
            "type": kind,
            "owner": owner,
            "rotationDays": days,
            "vaultPath": f"candlefish/bench/secret-{index:03d}",
            "source": "generate",
        }
    return catalog


def catalog_overrides(count: int) -> dict[str, Any]:
    """The stack config overrides that replace production's catalog with `count` generated entries."""
    return {CATALOG_KEY: generated_catalog(count)}


def generated_secrets(plan: Plan) -> int:
    """How many of the plan's Secrets Manager secrets come from the generated catalog."""
    return sum(
        1
        for resource in plan.custom_resources
        if resource.type == "aws:secretsmanager/secret:Secret"
        and str(resource.inputs.get("name", "")).rsplit("/", 1)[-1].startswith(GENERATED_PREFIX)
    )


@dataclass(frozen=True)
class Measurement:
    """One offline preview: total seconds, the policy pack's share, resources and generated secrets."""

    total_s: float
    policies_s: float
    resources: int
    generated_secrets: int


def measure(overrides: dict[str, Any] | None) -> Measurement:
    """One offline preview of production (with `overrides`), timed as `make preview` times it.

    `python -m tools.preview` runs with the cyclic garbage collector off and ends after one preview, so
    the timed part runs with it paused too; the garbage is collected afterwards, outside the figure.
    """
    with cyclic_gc_paused():
        started = time.perf_counter()
        plan = Plan.from_recording(run_program("production", overrides=overrides))
        recorded = time.perf_counter()
        run_policies(plan)
        finished = time.perf_counter()
    gc.collect()
    return Measurement(
        finished - started, finished - recorded, len(plan.custom_resources), generated_secrets(plan)
    )


def measure_fresh(stack: str, secrets: int) -> Measurement:
    """One preview of `stack` ("production" or "catalog") in a new interpreter, as `make preview` runs it."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, arguments checked by argparse
        [sys.executable, "-m", "benchmarks.preview", "--one", stack, "--secrets", str(secrets)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {stack} preview failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def measure_one(stack: str, secrets: int) -> Measurement:
    """The `--one` run: start as `tools.preview` starts (its imports, the collector off), then one preview."""
    import tools.preview  # noqa: F401, PLC0415 (the start-up `make preview` pays before its clock starts)

    gc.disable()
    return measure(catalog_overrides(secrets) if stack == "catalog" else None)


def _medians(runs: dict[str, list[Measurement]]) -> tuple[float, float]:
    return (
        statistics.median(m.total_s for m in runs["production"]),
        statistics.median(m.total_s for m in runs["catalog"]),
    )


def _interleaved(
    repetitions: int, production: Callable[[], Measurement], catalog: Callable[[], Measurement]
) -> dict[str, list[Measurement]]:
    """`repetitions` runs of each stack, alternating, so load on the machine falls on both alike."""
    runs: dict[str, list[Measurement]] = {"production": [], "catalog": []}
    for _ in range(repetitions):
        runs["production"].append(production())
        runs["catalog"].append(catalog())
    return runs


def run(repetitions: int, secrets: int) -> dict[str, Any]:
    catalog = catalog_overrides(secrets)
    fresh = _interleaved(
        repetitions,
        lambda: measure_fresh("production", secrets),
        lambda: measure_fresh("catalog", secrets),
    )
    measure(None)  # warm imports and caches once, outside the warm figures
    warm = _interleaved(repetitions, lambda: measure(None), lambda: measure(catalog))
    for runs in (fresh, warm):
        made = runs["catalog"][0].generated_secrets
        if made != secrets:
            # The override did not take (a renamed setting, a changed catalog): the figures would be wrong.
            raise RuntimeError(f"the generated catalog produced {made} secrets, not {secrets}")
    production_s, catalog_s = _medians(fresh)
    warm_production_s, warm_catalog_s = _medians(warm)
    production_resources = fresh["production"][0].resources
    catalog_resources = fresh["catalog"][0].resources
    return {
        "repetitions": repetitions,
        "secrets": secrets,
        "production_s": round(production_s, 3),
        f"catalog{secrets}_s": round(catalog_s, 3),
        "ratio": round(catalog_s / production_s, 2),
        "warm_production_s": round(warm_production_s, 3),
        f"warm_catalog{secrets}_s": round(warm_catalog_s, 3),
        "warm_ratio": round(warm_catalog_s / warm_production_s, 2),
        "production_policies_s": round(statistics.median(m.policies_s for m in fresh["production"]), 3),
        "catalog_policies_s": round(statistics.median(m.policies_s for m in fresh["catalog"]), 3),
        "production_runs_s": [round(m.total_s, 3) for m in fresh["production"]],
        "catalog_runs_s": [round(m.total_s, 3) for m in fresh["catalog"]],
        "production_resources": production_resources,
        "catalog_resources": catalog_resources,
        # Linear growth, resource by resource (warm: the imports are done): what each resource the catalog
        # adds costs, beside what a production resource costs on average (its share of fixed work included).
        "production_ms_per_resource": round(1000 * warm_production_s / production_resources, 2),
        "added_ms_per_resource": marginal_ms(
            warm_production_s, warm_catalog_s, production_resources, catalog_resources
        ),
    }


def marginal_ms(production_s: float, catalog_s: float, production: int, catalog: int) -> float | None:
    """Milliseconds per resource the catalog adds over production (None when it adds none)."""
    if catalog <= production:
        return None
    return round(1000 * (catalog_s - production_s) / (catalog - production), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.preview", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repetitions", type=int, default=5, help="interleaved runs of each stack (median)")
    parser.add_argument("--secrets", type=int, default=200, help="entries in the generated catalog")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--one", choices=("production", "catalog"), help=argparse.SUPPRESS
    )  # one measurement, printed as JSON: what `measure_fresh` runs in a new interpreter
    args = parser.parse_args(argv)
    if args.repetitions < 1 or args.secrets < 1:
        parser.error("--repetitions and --secrets must be at least 1")
    if args.one:
        print(json.dumps(dataclasses.asdict(measure_one(args.one, args.secrets))))
        return 0
    result = run(args.repetitions, args.secrets)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"production: {result['production_s']:.2f} s ({result['production_resources']} resources); "
            f"{args.secrets}-secret catalog: {result[f'catalog{args.secrets}_s']:.2f} s "
            f"({result['catalog_resources']} resources); ratio {result['ratio']:.2f} "
            f"(in one warm process {result['warm_production_s']:.2f} s, "
            f"{result[f'warm_catalog{args.secrets}_s']:.2f} s, ratio {result['warm_ratio']:.2f}); "
            f"{result['production_ms_per_resource']} ms per production resource, "
            f"{result['added_ms_per_resource']} ms per added one; policy pack "
            f"{result['production_policies_s']:.2f} s / {result['catalog_policies_s']:.2f} s "
            f"(medians of {args.repetitions})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
