"""Offline preview: run the real program for a stack under the recording mocks and show what it would create.

    python -m tools.preview --stack production [--format text|markdown|json] [--output FILE]

Exit codes: 0 success, 2 the stack config is invalid (the problems are printed), 1 anything else.
Where the Pulumi CLI and credentials exist, `pulumi preview --policy-pack policies` remains the real thing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pulumi

from tests.support.mocks import ROOT, run_program
from tools.plan import Plan

EXIT_CONFIG_ERROR = 2


def render_text(plan: Plan, elapsed: float) -> str:
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
    lines.append(f"(offline preview under mocks, {elapsed:.1f}s)")
    return "\n".join(lines)


def render_markdown(plan: Plan) -> str:
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
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=True, default=str)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="production", help="stack whose Pulumi.<stack>.yaml to preview")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--output", type=Path, help="write the rendering here instead of stdout")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="project directory to run (default: this checkout)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    try:
        recording = run_program(args.stack, root=args.root.resolve())
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    plan = Plan.from_recording(recording)
    elapsed = time.perf_counter() - started

    if args.format == "json":
        rendered = render_json(plan)
    elif args.format == "markdown":
        rendered = render_markdown(plan)
    else:
        rendered = render_text(plan, elapsed)
    if args.output:
        args.output.write_text(rendered + ("" if rendered.endswith("\n") else "\n"))
    else:
        print(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
