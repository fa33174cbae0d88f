"""Run the policy pack over an offline plan the way the Pulumi engine runs it over a preview.

Mirrors `pulumi_policy`'s analyzer (`Analyze` per resource, `AnalyzeStack` once): inputs go to resource
rules and outputs to stack rules, wrapped in the SDK's unknown-checking proxy; engine-internal `__` keys
are left out; a value unknown at preview makes the rule report an advisory "can't run ... during preview"
instead of failing; per-rule enforcement levels and settings come from a `--policy-pack-config` file
(`{"all": "advisory", "<rule>": {"enforcementLevel": "mandatory", "<setting>": ...}}`).

Secrets: the plan hands rules "[secret]" where the program passed a Pulumi secret, so the plaintext-secret
rule can tell secrets apart offline (the CLI cannot; see policies/rules/secrets_material.py).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.rules import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL
from policies.rules.framework import TypedResourcePolicy
from tools.plan import UNKNOWN, Plan, PlannedResource

PACK_NAME = "candlefish-secrets"
LEVEL_ORDER = ("mandatory", "advisory")
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class PolicyConfigError(ValueError):
    """The policy pack config names an unknown rule or gives a setting of the wrong type."""


@dataclass(frozen=True)
class Finding:
    """One violation (or one "can't run during preview" note) as `pulumi preview` would list it."""

    policy: str
    level: str
    message: str
    urn: str | None = None
    resource: str | None = None
    preview_only: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "level": self.level,
            "message": self.message,
            "urn": self.urn,
            "resource": self.resource,
            "previewOnly": self.preview_only,
        }


@dataclass
class PolicyReport:
    """What the pack said about a plan."""

    findings: list[Finding] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)
    policies: int = 0
    resources: int = 0

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "advisory"]

    def by_level(self) -> dict[str, dict[str, list[Finding]]]:
        """level → resource (or "(stack)") → findings, in a stable order."""
        grouped: dict[str, dict[str, list[Finding]]] = {}
        for finding in sorted(self.findings, key=_sort_key):
            grouped.setdefault(finding.level, {}).setdefault(finding.resource or "(stack)", []).append(
                finding
            )
        return grouped

    def violated_policies(self, level: str | None = None) -> set[str]:
        return {f.policy for f in self.findings if not f.preview_only and (level is None or f.level == level)}

    def to_json(self) -> dict[str, Any]:
        return {
            "policies": self.policies,
            "resources": self.resources,
            "findings": [f.to_json() for f in sorted(self.findings, key=_sort_key)],
        }


def _sort_key(finding: Finding) -> tuple[int, str, str, str]:
    rank = LEVEL_ORDER.index(finding.level) if finding.level in LEVEL_ORDER else len(LEVEL_ORDER)
    return rank, finding.resource or "", finding.policy, finding.message


def load_config(path: Path | None) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file (no file: no overrides)."""
    if path is None:
        return {}
    loaded = json.loads(path.read_text())
    if not isinstance(loaded, dict):
        raise PolicyConfigError(f"{path}: a policy pack config is a JSON object of rule name → settings")
    return loaded


def _level(value: Any) -> EnforcementLevel | None:
    if isinstance(value, dict):
        value = value.get("enforcementLevel")
    return None if value is None else EnforcementLevel(value)


def check_config(config: Mapping[str, Any], policies: Sequence[Policy]) -> None:
    """Refuse what the CLI would refuse: unknown rules, unknown levels, settings of the wrong JSON type."""
    by_name = {p.name: p for p in policies}
    problems = []
    for name, value in config.items():
        try:
            _level(value)
        except ValueError:
            problems.append(f"{name}: unknown enforcement level in {value!r}")
        if name == "all":
            continue
        if name not in by_name:
            problems.append(f"{name}: no such rule in the pack")
            continue
        schema = by_name[name].config_schema
        properties = schema.properties if schema else {}
        for key, setting in value.items() if isinstance(value, dict) else []:
            if key == "enforcementLevel":
                continue
            if key not in properties:
                problems.append(f"{name}.{key}: not a setting of this rule ({', '.join(sorted(properties))})")
                continue
            wanted = JSON_TYPES.get(str(properties[key].get("type")), (object,))
            if not isinstance(setting, wanted) or (isinstance(setting, bool) and bool not in wanted):
                problems.append(f"{name}.{key}: expected {properties[key].get('type')}, got {setting!r}")
    if problems:
        raise PolicyConfigError("policy pack config: " + "; ".join(problems))


def effective_level(policy: Policy, config: Mapping[str, Any]) -> EnforcementLevel:
    """The rule's own config, else the `all` entry, else the rule's level, else the pack's default."""
    level = _level(config.get(policy.name)) or _level(config.get("all"))
    level = level or policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
    return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level


def _policy_settings(policy: Policy, config: Mapping[str, Any]) -> dict[str, Any] | None:
    given = config.get(policy.name)
    if not isinstance(given, dict):
        return None
    return {key: value for key, value in given.items() if key != "enforcementLevel"} or None


def engine_value(value: Any) -> Any:
    """A plan value as the engine sends it: unknowns as the SDK's sentinel, `__` keys left out."""
    if value == UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {key: engine_value(item) for key, item in value.items() if not str(key).startswith("__")}
    if isinstance(value, list):
        return [engine_value(item) for item in value]
    return value


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], resource.parent)


def _label(resource: PlannedResource) -> str:
    return f"{resource.name} ({resource.type})"


def _run(validate: Any, *args: Any) -> None:
    result = validate(*args)
    if isawaitable(result):
        asyncio.run(result)  # type: ignore[arg-type]


class _Collector:
    def __init__(self, report: PolicyReport, plan: Plan) -> None:
        self.report = report
        self.labels = {r.urn: _label(r) for r in plan.resources}

    def reporter(self, policy: Policy, level: EnforcementLevel, urn: str | None) -> Any:
        def report_violation(message: str, violation_urn: str | None = None) -> None:
            target = urn or violation_urn or None
            self.report.findings.append(
                Finding(policy.name, level.value, message, target, self.labels.get(target or ""))
            )

        return report_violation

    def unknown(self, policy: Policy, error: UnknownValueError, urn: str | None) -> None:
        message = (
            f"can't run policy '{policy.name}' from policy pack '{PACK_NAME}' during preview: {error.message}"
        )
        self.report.findings.append(
            Finding(policy.name, "advisory", message, urn, self.labels.get(urn or ""), preview_only=True)
        )


def _stack_resources(plan: Plan) -> list[PolicyResource]:
    resources = {
        r.urn: PolicyResource(
            r.type,
            # The engine hands stack rules each resource's state: what the program asked for (its inputs)
            # plus what the provider computed (the other outputs).
            unknown_checking_proxy(engine_value({**r.outputs, **r.inputs})),
            r.urn,
            r.name,
            _options(r),
            None,
            None,
            [],
            {},
        )
        for r in plan.resources
    }
    for planned in plan.resources:
        resource = resources[planned.urn]
        resource.parent = resources.get(planned.parent or "")
        resource.dependencies = [resources[u] for u in planned.dependencies if u in resources]
        resource.property_dependencies = {
            key: [resources[u] for u in urns if u in resources]
            for key, urns in planned.property_dependencies.items()
        }
    return list(resources.values())


def run_policies(
    plan: Plan, config: Mapping[str, Any] | None = None, policies: Iterable[Policy] = ALL_POLICIES
) -> PolicyReport:
    """Every resource rule over every resource, then every stack rule over the stack."""
    config = dict(config or {})
    chosen = list(policies)
    check_config(config, chosen)
    report = PolicyReport(policies=len(chosen), resources=len(plan.custom_resources))
    collect = _Collector(report, plan)
    # Built once per run, as the engine hands every rule the same values: each resource's inputs behind
    # the unknown-checking proxy (read-only), and the stack's resources for the stack rules.
    inputs = [
        (resource, unknown_checking_proxy(engine_value(resource.inputs)), _options(resource))
        for resource in plan.resources
    ]
    # A rule that declares its types (policies/rules/framework.py) sees only resources of those types: it
    # returns at once for any other, so skipping them changes no finding. One list per set of types.
    by_types: dict[frozenset[str], list[tuple[PlannedResource, Any, PolicyResourceOptions]]] = {}
    stack_resources: list[PolicyResource] | None = None
    for policy in chosen:
        level = effective_level(policy, config)
        if level == EnforcementLevel.DISABLED:
            continue
        settings = _policy_settings(policy, config)
        if isinstance(policy, ResourceValidationPolicy):
            types = policy.resource_types if isinstance(policy, TypedResourcePolicy) else None
            if types is not None and types not in by_types:
                by_types[types] = [entry for entry in inputs if entry[0].type in types]
            for resource, props, options in inputs if types is None else by_types[types]:
                args = ResourceValidationArgs(
                    resource.type, props, resource.urn, resource.name, options, None, settings
                )
                try:
                    _run(policy.validate, args, collect.reporter(policy, level, resource.urn))
                except UnknownValueError as error:
                    collect.unknown(policy, error, resource.urn)
                except _NotApplicableError as error:
                    report.not_applicable.append((policy.name, error.reason or ""))
        elif isinstance(policy, StackValidationPolicy):
            if stack_resources is None:
                stack_resources = _stack_resources(plan)
            args_stack = StackValidationArgs(stack_resources, settings)
            try:
                _run(policy.validate, args_stack, collect.reporter(policy, level, None))
            except UnknownValueError as error:
                collect.unknown(policy, error, None)
            except _NotApplicableError as error:
                report.not_applicable.append((policy.name, error.reason or ""))
    return report


def rule_table(policies: Iterable[Policy] = ALL_POLICIES) -> str:
    """policies/RULES.md: every rule, its kind, level, what it checks and the checks it corresponds to."""
    lines = [
        "# Policy rules",
        "",
        "Generated by `python -m tools.policy_runner > policies/RULES.md` (a test keeps it current).",
        "Levels are the defaults; `--policy-pack-config` changes them per rule, and each rule's settings",
        "(thresholds, allow-lists) are in its config schema (`policies/rules/`).",
        "",
        "| rule | kind | level | checks | corresponds to |",
        "| --- | --- | --- | --- | --- |",
    ]
    for policy in policies:
        kind = "stack" if isinstance(policy, StackValidationPolicy) else "resource"
        summary, _, refs = policy.description.partition(" Corresponds to: ")
        level = (policy.enforcement_level or PACK_ENFORCEMENT_LEVEL).value
        lines.append(f"| `{policy.name}` | {kind} | {level} | {summary} | {refs.rstrip('.')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(rule_table())
