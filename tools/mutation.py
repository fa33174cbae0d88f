"""Mutation testing of the validation and security logic with mutmut, on a seeded sample (`make mutation`).

mutmut (pinned in requirements-dev.txt; its settings are `[tool.mutmut]` in pyproject.toml) copies the
sources to `mutants/`, makes one mutant per single change to a function (a condition negated, a number moved
by one, a string altered, a call argument dropped) and runs the tests that reach that function against it.
A mutant the tests do not notice is a fault that could ship.

Every mutant of the covered modules takes hours on this project's 2 cores, so by default this runs a sample:
all mutant names, sorted, then `random.Random(seed).sample`. The same seed and sources give the same sample,
so a score before and after a change of tests is measured on the same mutants. `--sample 0` runs them all.

    python -m tools.mutation                      # 300 mutants, seed 18, 2 workers
    python -m tools.mutation --only 'policies.*'  # the sample drawn from the policy rules only
    python -m tools.mutation --json               # the summary as JSON, with every mutant's status
    python -m tools.mutation --names sample.txt   # exactly these mutants again (one name a line)

Prints one line per module (killed / total) and the survivors; exits 0 (a score is a measurement, not a gate)
unless mutmut itself failed (then the end of mutants/run.log says why, e.g. a test failing without mutants).
tests/MUTATION.md records the scores and why each remaining survivor is equivalent.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MUTANTS = Path("mutants")
STATS = MUTANTS / "mutmut-stats.json"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}

# Mutants of these functions run only against these test files. Every test that builds a stack reaches
# `parse_stack_config`, so mutmut's tracing would otherwise run the policy, provider and alarm tests
# (minutes) against every config-validation mutant; the config's rules are asserted in these files.
ROUTES: dict[str, tuple[str, ...]] = {
    "components.config.*": (
        "tests/test_config.py",
        "tests/test_config_boundaries.py",
        "tests/test_config_messages.py",
        "tests/test_recovery_shares_config.py",
        "tests/test_properties.py",
        "tests/test_stack_files.py",
    ),
}


@dataclass
class Summary:
    """What a run found: each sampled mutant's status, and the totals."""

    seed: int
    population: int
    status: dict[str, str] = field(default_factory=dict)

    @property
    def killed(self) -> int:
        return sum(1 for value in self.status.values() if value in KILLED)

    @property
    def score(self) -> float:
        return self.killed / len(self.status) if self.status else 0.0

    def survivors(self) -> list[str]:
        return sorted(name for name, value in self.status.items() if value not in KILLED)

    def by_module(self) -> dict[str, tuple[int, int]]:
        totals: Counter[str] = Counter()
        killed: Counter[str] = Counter()
        for name, value in self.status.items():
            module = module_of(name)
            totals[module] += 1
            killed[module] += value in KILLED
        return {module: (killed[module], totals[module]) for module in sorted(totals)}

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "population": self.population,
            "sampled": len(self.status),
            "killed": self.killed,
            "score": round(self.score, 4),
            "modules": {m: {"killed": k, "total": t} for m, (k, t) in self.by_module().items()},
            "survivors": {name: self.status[name] for name in self.survivors()},
            "status": dict(sorted(self.status.items())),
        }


def module_of(mutant: str) -> str:
    """`components.netmath.x_parse_cidr__mutmut_8` → `components.netmath`."""
    parts = mutant.split(".")
    for index, part in enumerate(parts):
        if part.startswith(("x_", "x\u01c1")):
            return ".".join(parts[:index])
    return ".".join(parts[:-1])


def generate() -> None:
    """Copy the sources to mutants/ and write every mutant (no tests run)."""
    from mutmut.__main__ import create_mutants, store_lines_covered_by_tests  # noqa: PLC0415
    from mutmut.utils.file_utils import (  # noqa: PLC0415
        copy_also_copy_files,
        copy_src_dir,
        setup_source_paths,
    )

    MUTANTS.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    store_lines_covered_by_tests()
    create_mutants(2)


def collect_stats() -> None:
    """Have mutmut run the selected tests once, traced, and save which tests reach which function."""
    mutmut = Path(sys.executable).parent / "mutmut"
    with RUN_LOG.open("w") as log:
        # print-time-estimates collects (or reloads) the stats, then lists each mutant's estimate.
        command = [str(mutmut), "print-time-estimates"]
        subprocess.run(command, check=False, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    if not STATS.is_file():
        tail = RUN_LOG.read_text(errors="replace").splitlines()[-20:]
        raise SystemExit("\n".join(["mutmut collected no stats; the end of its log:", *tail]))


def route(stats: dict[str, Any], routes: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, int]]:
    """Narrow each routed function's tests to its route's files, in place.

    Returns, per routed function, (tests before, tests after). A function none of whose tests is in its
    route's files keeps them all: a mutant with no tests would count as a survivor without being tried.
    """
    changed: dict[str, tuple[int, int]] = {}
    for function, tests in stats["tests_by_mangled_function_name"].items():
        files = next((files for glob, files in routes.items() if fnmatch.fnmatch(function, glob)), None)
        if files is None:
            continue
        kept = [test for test in tests if test.split("::", 1)[0] in files]
        if kept and len(kept) < len(tests):
            stats["tests_by_mangled_function_name"][function] = kept
            changed[function] = (len(tests), len(kept))
    return changed


def apply_routes(routes: dict[str, tuple[str, ...]]) -> None:
    """Rewrite mutmut's saved stats so routed mutants run only their route's tests; prints the saving."""
    stats = json.loads(STATS.read_text())
    durations: dict[str, float] = stats["duration_by_test"]
    before = {
        f: sum(durations.get(t, 0.0) for t in ts) for f, ts in stats["tests_by_mangled_function_name"].items()
    }
    changed = route(stats, routes)
    STATS.write_text(json.dumps(stats, indent=4))
    saved = sum(
        before[f] - sum(durations.get(t, 0.0) for t in stats["tests_by_mangled_function_name"][f])
        for f in changed
    )
    print(
        f"routed {len(changed)} functions to their test files: {saved:.0f} s less per pass over their mutants"
    )


def recorded() -> dict[str, int | None]:
    """Every mutant mutmut knows of, with its last exit code (None: not run yet)."""
    found: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.rglob("*.meta")):
        found.update(json.loads(meta.read_text()).get("exit_code_by_key", {}))
    return found


def choose(names: list[str], sample: int, seed: int, only: str | None) -> list[str]:
    pool = sorted(name for name in names if only is None or fnmatch.fnmatch(name, only))
    if sample <= 0 or sample >= len(pool):
        return pool
    return sorted(random.Random(seed).sample(pool, sample))  # noqa: S311 - a reproducible sample, not a secret


RUN_LOG = MUTANTS / "run.log"


def run(chosen: list[str], workers: int) -> int:
    """mutmut's run over `chosen`; its progress goes to mutants/run.log. Returns mutmut's exit code."""
    mutmut = Path(sys.executable).parent / "mutmut"
    command = [str(mutmut), "run", "--max-children", str(workers), *chosen]
    with RUN_LOG.open("w") as log:
        return subprocess.run(command, check=False, stdout=log, stderr=subprocess.STDOUT).returncode  # noqa: S603


def summarise(chosen: list[str], population: int, seed: int) -> Summary:
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415

    codes = recorded()
    return Summary(seed, population, {name: status_by_exit_code[codes.get(name)] for name in chosen})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sample", type=int, default=300, help="mutants to run (0: all); default 300")
    parser.add_argument("--seed", type=int, default=18, help="seed of the sample; default 18")
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once; default 2")
    parser.add_argument("--only", help="a glob of mutant names to draw from, e.g. 'policies.*'")
    parser.add_argument(
        "--names",
        type=Path,
        help="run exactly the mutants named in this file, one a line (e.g. an earlier sample, to compare)",
    )
    parser.add_argument("--keep", action="store_true", help="reuse results already in mutants/")
    parser.add_argument(
        "--no-routes",
        action="store_true",
        help="run each mutant against every selected test that reaches it (ROUTES not applied)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    if not args.keep:
        shutil.rmtree(MUTANTS, ignore_errors=True)
    generate()
    if not args.no_routes:
        collect_stats()
        apply_routes(ROUTES)
    names = list(recorded())
    if args.names:
        wanted = [line.strip() for line in args.names.read_text().splitlines() if line.strip()]
        missing = sorted(set(wanted) - set(names))
        if missing:
            print(f"{len(missing)} named mutants no longer exist (their code changed): {', '.join(missing)}")
        chosen = sorted(set(wanted) & set(names))
    else:
        chosen = choose(names, args.sample, args.seed, args.only)
    code = run(chosen, args.workers)
    if code != 0:
        tail = RUN_LOG.read_text(errors="replace").replace("\r", "\n").splitlines()[-20:]
        print(f"mutmut run failed (exit {code}); the end of {RUN_LOG}:", *tail, sep="\n", file=sys.stderr)
        return 1
    summary = summarise(chosen, len(names), args.seed)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
        return 0
    print(
        f"{summary.killed}/{len(chosen)} killed ({summary.score:.1%}); "
        f"{len(names)} mutants in all, seed {args.seed}"
    )
    for module, (killed, total) in summary.by_module().items():
        print(f"  {module}: {killed}/{total}")
    for name in summary.survivors():
        print(f"  survived: {name} ({summary.status[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
