"""The components of a plan and what connects them, as a Mermaid flowchart for pull-request comments.

An edge A --> B means a resource of component A takes an input from a resource of component B: either
the engine recorded a property dependency, or an input value equals B's resource's id or one of its
computed outputs (an ARN, a key id, a DNS name). Edges are aggregated to component level and labelled
with the kinds of resource referenced.

`python -m tools.diagram --stack production` prints the diagram of that stack's plan; `--write FILE`
replaces the fenced block between the `<!-- diagram:begin -->` and `<!-- diagram:end -->` markers in FILE
(docs/architecture.md), and `--check FILE` exits 1 when that block is not what the code produces.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.support.mocks import run_program
from tools.plan import SECRET, UNKNOWN, Plan, PlannedResource

BEGIN, END = "<!-- diagram:begin -->", "<!-- diagram:end -->"
MIN_REFERENCE_LENGTH = 8  # shorter outputs ("true", "gp3", a port) say nothing about who references whom
STACK = "(stack)"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def component_label(plan: Plan, resource: PlannedResource) -> str:
    component = plan.component_of(resource)
    return f"{component.type.rsplit(':', 1)[-1]} {component.name}" if component else STACK


def _reference_index(plan: Plan) -> dict[str, PlannedResource]:
    """Identifying values → their resource: its id and the outputs it computed (not its echoed inputs)."""
    index: dict[str, PlannedResource] = {}
    for resource in plan.custom_resources:
        given = set(_strings(resource.inputs))
        values = {resource.id, *(v for v in _strings(resource.outputs) if v not in given)}
        for value in values:
            if len(value) >= MIN_REFERENCE_LENGTH and value not in (SECRET, UNKNOWN):
                index.setdefault(value, resource)
    return index


def component_edges(plan: Plan) -> dict[tuple[str, str], Counter[str]]:
    """(from component, to component) → how many distinct resources of each kind are referenced."""
    index = _reference_index(plan)
    by_urn = {r.urn: r for r in plan.resources}
    referenced: dict[tuple[str, str], dict[str, PlannedResource]] = {}
    for resource in plan.custom_resources:
        targets = {index[v].urn: index[v] for v in _strings(resource.inputs) if v in index}
        for urns in resource.property_dependencies.values():
            targets.update({u: by_urn[u] for u in urns if u in by_urn and by_urn[u].custom})
        source = component_label(plan, resource)
        for urn, target in targets.items():
            destination = component_label(plan, target)
            if destination != source:
                referenced.setdefault((source, destination), {})[urn] = target
    return {
        edge: Counter(t.type.rsplit(":", 1)[-1] for t in targets.values())
        for edge, targets in referenced.items()
    }


def _node_id(label: str) -> str:
    return re.sub(r"\W", "_", label).strip("_") or "stack"


def mermaid(plan: Plan) -> str:
    """A `flowchart LR` of the plan's components (with resource counts) and the references between them."""
    counts = plan.counts_by_component()
    lines = ["flowchart LR"]
    for label in sorted(counts):
        lines.append(f'    {_node_id(label)}["{label}<br/>{sum(counts[label].values())} resources"]')
    for (source, destination), kinds in sorted(component_edges(plan).items()):
        # Most referenced first, ties by name: the engine's dependency order varies from run to run.
        ranked = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{kind} x{n}" for kind, n in ranked[:3])
        more = "" if len(kinds) <= 3 else ", ..."
        lines.append(f'    {_node_id(source)} -->|"{shown}{more}"| {_node_id(destination)}')
    return "\n".join(lines)


def with_diagram(document: str, diagram: str) -> str:
    """`document` with the block between the markers replaced by `diagram` in a mermaid fence."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {BEGIN} ... {END} block")
    block = f"{BEGIN}\n```mermaid\n{diagram}\n```\n"
    return document[:start] + block + document[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diagram", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="production", help="stack whose plan to draw")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="FILE", help="replace the diagram block in FILE")
    action.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if FILE's diagram is stale")
    args = parser.parse_args(argv)
    diagram = mermaid(Plan.from_recording(run_program(args.stack)))
    target = args.write or args.check
    if target is None:
        print(diagram)
        return 0
    current = target.read_text()
    try:
        updated = with_diagram(current, diagram)
    except ValueError as error:
        print(f"error: {target}: {error}", file=sys.stderr)
        return 2
    if args.write:
        target.write_text(updated)
        return 0
    if updated != current:
        print(
            f"{target}: the diagram is stale; run python -m tools.diagram --write {target}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
