"""The offline plan: what a run of the program under the recording mocks would create, secrets masked.

Other tools (the preview, the policy runner, diffs between revisions) read this shape:
`{"stack": ..., "resources": [{"type", "name", "urn", "parent", "id", "inputs", "outputs"}]}`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pulumi

from tests.support.mocks import RecordedResource, Recording

SECRET = "[secret]"  # noqa: S105 - the mask shown in place of secret values


def mask(value: Any, secret_paths: set[str], path: str = "") -> Any:
    """`value` with every secret path (as recorded by the mocks) replaced by "[secret]"."""
    if path in secret_paths:
        return SECRET
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
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return {"file": str(value.path)}
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
