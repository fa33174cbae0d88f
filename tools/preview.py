"""Offline preview: run the real program for a stack under the recording mocks, run the policy pack over
what it would create, and show both.

    python -m tools.preview --stack production [--format text|markdown|json] [--output FILE]
        [--dry-run] [--policy-pack-config FILE] [--against GIT-REF]

`--dry-run` records as a first `pulumi preview` would (ids and computed outputs unknown; rules that need
them report "can't run during preview", as the engine does). `--policy-pack-config` takes the same file as
`pulumi up --policy-pack policies --policy-pack-config FILE`. `--against REF` also previews REF's own code
and shows the resources added, removed and changed (secrets masked). `--format markdown` is the
pull-request comment: resources by component, policy results, a Mermaid diagram of the components.

Exit codes: 0 success, 1 a mandatory policy violation (or anything else going wrong), 2 the stack config
or the policy pack config is invalid (the problems are printed).
Where the Pulumi CLI and credentials exist, `pulumi preview --policy-pack policies` remains the real thing.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pulumi

from tests.support.mocks import ROOT, run_program
from tools import render
from tools.plan import Plan
from tools.plan_diff import PlanDiff, RevisionError, diff_plans, plan_at_revision
from tools.policy_runner import PolicyConfigError, PolicyReport, load_config, run_policies
from tools.stackfile import StackFileError

EXIT_POLICY_VIOLATION = 1
EXIT_CONFIG_ERROR = 2


def render_text(
    plan: Plan, elapsed: float, report: PolicyReport | None = None, diff: PlanDiff | None = None
) -> str:
    counts = plan.counts_by_component()
    total = len(plan.custom_resources)
    lines = [f"candlefish-secrets / {plan.stack}: {total} resources in {len(plan.components)} components"]
    names = sorted(counts)
    for index, component in enumerate(names):
        last = index == len(names) - 1
        by_type = counts[component]
        lines.append(f"{'└─' if last else '├─'} {component} ({sum(by_type.values())})")
        for type_index, (type_, count) in enumerate(sorted(by_type.items())):
            branch = "└─" if type_index == len(by_type) - 1 else "├─"
            lines.append(f"{'   ' if last else '│  '}{branch} {type_} x{count}")
    lines.append("")
    lines.append("Resources by type:")
    for type_, count in sorted(plan.counts_by_type().items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:4d}  {type_}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    if report is not None:
        lines += render.policy_text(report)
    if diff is not None:
        lines += render.diff_text(diff)
    lines.append(f"(offline preview under mocks, {elapsed:.1f}s)")
    return "\n".join(lines)


def render_markdown(plan: Plan, report: PolicyReport | None = None, diff: PlanDiff | None = None) -> str:
    counts = plan.counts_by_component()
    lines = [
        f"### Offline preview: `{plan.stack}`",
        "",
        f"{len(plan.custom_resources)} resources in {len(plan.components)} components.",
        "",
        "| component | resources | types |",
        "| --- | ---: | --- |",
    ]
    for component in sorted(counts):
        by_type = counts[component]
        types = ", ".join(f"`{t.split(':')[-1]}` x{n}" for t, n in sorted(by_type.items()))
        lines.append(f"| {component} | {sum(by_type.values())} | {types} |")
    if plan.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {warning}" for warning in plan.warnings]
    if report is not None:
        lines += render.policy_markdown(report)
    lines += render.diagram_markdown(plan)
    if diff is not None:
        lines += render.diff_markdown(diff)
    return "\n".join(lines) + "\n"


def render_json(plan: Plan, report: PolicyReport | None = None, diff: PlanDiff | None = None) -> str:
    document = plan.to_json()
    if report is not None:
        document["policies"] = report.to_json()
    if diff is not None:
        document["changes"] = diff.to_json()
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="production", help="stack whose Pulumi.<stack>.yaml to preview")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--output", type=Path, help="write the rendering here instead of stdout")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="project directory to run (default: this checkout)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="record as a first `pulumi preview` would: outputs unknown"
    )
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        help="per-rule enforcement levels and settings (JSON), as for the CLI",
    )
    parser.add_argument(
        "--against", metavar="GIT-REF", help="also preview this revision and show the changes"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.perf_counter()
    try:
        config = load_config(args.policy_pack_config)
        recording = run_program(args.stack, root=args.root.resolve(), preview=args.dry_run)
        plan = Plan.from_recording(recording)
        report = run_policies(plan, config)
    except (
        FileNotFoundError,
        StackFileError,
        pulumi.RunError,
        PolicyConfigError,
        json.JSONDecodeError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    diff = None
    if args.against:
        try:
            diff = diff_plans(
                plan_at_revision(args.against, args.stack, args.root.resolve()), plan, args.against
            )
        except RevisionError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_POLICY_VIOLATION
    elapsed = time.perf_counter() - started

    if args.format == "json":
        rendered = render_json(plan, report, diff)
    elif args.format == "markdown":
        rendered = render_markdown(plan, report, diff)
    else:
        rendered = render_text(plan, elapsed, report, diff)
    if args.output:
        args.output.write_text(rendered + ("" if rendered.endswith("\n") else "\n"))
    else:
        print(rendered)
    return EXIT_POLICY_VIOLATION if report.mandatory else 0


if __name__ == "__main__":
    # One preview, then the process ends: its cyclic garbage is never worth collecting, and a collection
    # would walk everything the run allocated (tests/support/mock_costs.py, `cyclic_gc_paused`).
    gc.disable()
    sys.exit(main())
