"""The components of a plan and what connects them, as a Mermaid flowchart for pull-request comments.

An edge A --> B means a resource of component A takes an input from a resource of component B: either
the engine recorded a property dependency, or an input value equals B's resource's id or one of its
computed outputs (an ARN, a key id, a DNS name). Edges are aggregated to component level and labelled
with the kinds of resource referenced.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from tools.plan import SECRET, UNKNOWN, Plan, PlannedResource

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
        shown = ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common(3))
        more = "" if len(kinds) <= 3 else ", ..."
        lines.append(f'    {_node_id(source)} -->|"{shown}{more}"| {_node_id(destination)}')
    return "\n".join(lines)
