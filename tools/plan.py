"""The offline plan: what a run of the program under the recording mocks would create, secrets masked.

Other tools (the preview, the policy runner, diffs between revisions) read this shape:
`{"stack": ..., "resources": [{"type", "name", "urn", "parent", "id", "inputs", "outputs"}]}`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from tests.support.mocks import RecordedResource, Recording, is_unknown

SECRET = "[secret]"  # noqa: S105 - the mask shown in place of secret values
UNKNOWN = "[unknown]"  # shown in place of a value a first `pulumi preview` cannot know yet
COMPONENT_PREFIX = "candlefish:"  # type tokens of the project's own component resources


def mask(value: Any, secret_paths: set[str], path: str = "") -> Any:
    """`value` with every secret path (as recorded by the mocks) replaced by "[secret]".

    Values unknown at preview become "[unknown]", so a plan is always plain JSON.
    """
    if path in secret_paths:
        return SECRET
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, dict):
        return {
            key: mask(item, secret_paths, f"{path}.{key}" if path else key) for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item, secret_paths, f"{path}[{index}]") for index, item in enumerate(value)]
    return describe_asset(value)


def describe_asset(value: Any) -> Any:
    """Assets and archives (e.g. a Lambda's code) as JSON: which files, not their bytes."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: describe_asset(item) for name, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        # The content's digest, not the path: two checkouts of the same code give the same plan.
        return {"sha256": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
    if isinstance(value, pulumi.FileArchive):
        return {"archive": Path(value.path).name}
    if isinstance(value, pulumi.StringAsset):
        return {"text": f"{len(value.text)} characters"}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {"uri": value.uri}
    return value


@dataclass(frozen=True)
class PlannedResource:
    """A resource of the plan, with secret values already masked."""

    type: str
    name: str
    urn: str
    parent: str | None
    id: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    # Not part of the JSON plan: which resources each input came from, as the engine tracks it.
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_recorded(cls, resource: RecordedResource) -> PlannedResource:
        return cls(
            type=resource.type,
            name=resource.name,
            urn=resource.urn,
            parent=resource.parent,
            id=resource.id,
            custom=resource.custom,
            inputs=mask(resource.inputs, resource.secret_inputs),
            outputs=mask(resource.outputs, resource.secret_outputs | resource.secret_inputs),
            dependencies=tuple(resource.dependencies),
            property_dependencies=dict(resource.property_dependencies),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedResource:
        """A resource of a JSON plan; the project's components are the `candlefish:` types."""
        return cls(
            type=data["type"],
            name=data["name"],
            urn=data["urn"],
            parent=data.get("parent"),
            id=data.get("id") or "",
            custom=not data["type"].startswith(COMPONENT_PREFIX),
            inputs=data.get("inputs") or {},
            outputs=data.get("outputs") or {},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "parent": self.parent,
            "id": self.id,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }


@dataclass(frozen=True)
class Plan:
    """A whole stack's plan, plus the warnings the program logged."""

    stack: str
    resources: tuple[PlannedResource, ...]
    outputs: dict[str, Any]
    warnings: tuple[str, ...]

    @classmethod
    def from_recording(cls, recording: Recording) -> Plan:
        return cls(
            stack=recording.stack,
            resources=tuple(PlannedResource.from_recorded(r) for r in recording.resources),
            outputs=recording.outputs,
            warnings=tuple(recording.warnings),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """A plan written by `python -m tools.preview --format json` (this revision's or an older one's)."""
        return cls(
            stack=data["stack"],
            resources=tuple(PlannedResource.from_json(item) for item in data.get("resources", [])),
            outputs=data.get("outputs") or {},
            warnings=tuple(data.get("warnings") or ()),
        )

    @property
    def custom_resources(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.custom]

    @property
    def components(self) -> list[PlannedResource]:
        return [r for r in self.resources if not r.custom]

    def component_of(self, resource: PlannedResource) -> PlannedResource | None:
        """The nearest project component above a resource."""
        by_urn = {r.urn: r for r in self.resources}
        parent = by_urn.get(resource.parent or "")
        while parent is not None and parent.custom:
            parent = by_urn.get(parent.parent or "")
        return parent

    def counts_by_component(self) -> dict[str, Counter[str]]:
        """Component name → resource type → count (resources outside any component under "(stack)")."""
        counts: dict[str, Counter[str]] = {}
        for resource in self.custom_resources:
            component = self.component_of(resource)
            key = f"{component.type.rsplit(':', 1)[-1]} {component.name}" if component else "(stack)"
            counts.setdefault(key, Counter())[resource.type] += 1
        return counts

    def counts_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.custom_resources)

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "resources": [r.to_json() for r in self.resources]}
