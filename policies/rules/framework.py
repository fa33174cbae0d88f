"""How a rule is declared here: a check function plus its metadata, turned into a CrossGuard policy.

A resource rule's check receives the resource's inputs and a `ResourceContext` (its settings with
defaults filled in, and the environment it belongs to) and yields one message per violation. A stack
rule's check receives a `StackView` of every resource and yields (message, urn) pairs. The factories
below wrap them in `ResourceValidationPolicy` / `StackValidationPolicy` with:

- a description that names the checkov / AWSGuard / pulumi compliance-policies checks the rule
  corresponds to (or "none"),
- a `PolicyConfigSchema` whose properties are the rule's thresholds, each with its default, plus the two
  every rule understands: `environment` (treat the stack as this environment) and
  `productionEnvironments`,
- the rule's own enforcement level (mandatory for security, advisory for cost and operations), which
  `--policy-pack-config` can override per rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from . import settings
from .props import known_elements, known_get, known_items, sequence, strings, tags_of

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
CRITICAL, HIGH, MEDIUM, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

Schema = Mapping[str, Mapping[str, Any]]
COMMON_SCHEMA: Schema = {
    "environment": {
        "type": "string",
        "description": "Treat every resource as this environment instead of reading its Environment tag.",
    },
    "productionEnvironments": {
        "type": "array",
        "items": {"type": "string"},
        "default": list(settings.PRODUCTION_ENVIRONMENTS),
        "description": "Environment names that get the production checks.",
    },
}


@dataclass(frozen=True)
class Refs:
    """The published checks a rule corresponds to, by catalogue."""

    checkov: tuple[str, ...] = ()
    awsguard: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()  # pulumi/compliance-policies

    def text(self) -> str:
        parts = [
            f"{label} {', '.join(ids)}"
            for label, ids in (
                ("checkov", self.checkov),
                ("AWSGuard", self.awsguard),
                ("compliance-policies", self.compliance),
            )
            if ids
        ]
        return "Corresponds to: " + ("; ".join(parts) if parts else "none") + "."

    def tags(self) -> list[str]:
        return (
            [f"checkov:{i}" for i in self.checkov]
            + [f"awsguard:{i}" for i in self.awsguard]
            + [f"compliance-policies:{i}" for i in self.compliance]
        )


NO_MATCH = Refs()


def settings_for(schema: Schema, given: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's defaults, overridden by the policy's config (as `args.get_config()` returns it)."""
    values = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
    values.update({key: value for key, value in given.items() if key != "enforcementLevel"})
    return values


def _production(environment: str | None, config: Mapping[str, Any]) -> bool:
    return environment is not None and environment in strings(config.get("productionEnvironments"))


@dataclass(frozen=True)
class ResourceContext:
    """What a resource check knows besides the inputs: where the resource is and the rule's settings."""

    type: str
    name: str
    urn: str
    config: Mapping[str, Any]
    environment: str | None

    @property
    def production(self) -> bool:
        return _production(self.environment, self.config)


def resource_environment(
    props: Mapping[str, Any], config: Mapping[str, Any], stack_tags: Mapping[str, str]
) -> str | None:
    """The configured environment, else the resource's Environment tag, else the stack's."""
    if config.get("environment"):
        return str(config["environment"])
    try:
        tagged = tags_of(props).get(settings.ENVIRONMENT_TAG)
    except UnknownValueError:
        tagged = None
    return tagged or stack_tags.get(settings.ENVIRONMENT_TAG) or stack_tags.get("environment")


ResourceCheck = Callable[[Mapping[str, Any], ResourceContext], Iterable[str]]


class TypedResourcePolicy(ResourceValidationPolicy):
    """A resource rule that says which resource types it checks (None: every type).

    The engine still calls it for every resource and it returns at once for the other types; the offline
    runner (tools/policy_runner.py) reads `resource_types` and calls it only for its own types.
    """

    resource_types: frozenset[str] | None

    def __init__(self, *, resource_types: frozenset[str] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource_types = resource_types


def _metadata(
    summary: str,
    *,
    refs: Refs,
    level: EnforcementLevel,
    severity: Severity,
    schema: Schema,
    category: str,
    remediation: str,
) -> dict[str, Any]:
    """What every rule declares besides its check: the policy constructor's other arguments."""
    return {
        "description": f"{summary} {refs.text()}",
        "enforcement_level": level,
        "config_schema": PolicyConfigSchema(properties={k: dict(v) for k, v in schema.items()}),
        "severity": severity,
        "tags": [category, *refs.tags()],
        "remediation_steps": remediation,
    }


def resource_policy(
    name: str,
    summary: str,
    *,
    types: Sequence[str] | None,
    check: ResourceCheck,
    level: EnforcementLevel,
    severity: Severity,
    refs: Refs,
    remediation: str,
    category: str,
    config: Schema | None = None,
    production_only: bool = False,
) -> TypedResourcePolicy:
    """A rule over single resources of the given types (None: every resource)."""
    schema = {**COMMON_SCHEMA, **(config or {})}
    wanted = None if types is None else frozenset(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if wanted is not None and args.resource_type not in wanted:
            return
        values = settings_for(schema, args.get_config())
        context = ResourceContext(
            type=args.resource_type,
            name=args.name,
            urn=args.urn,
            config=values,
            environment=resource_environment(args.props, values, args.stack_tags),
        )
        if production_only and not context.production:
            return
        for message in check(args.props, context):
            report_violation(message, None)

    return TypedResourcePolicy(
        resource_types=wanted,
        name=name,
        validate=validate,
        **_metadata(
            summary,
            refs=refs,
            level=level,
            severity=severity,
            schema=schema,
            category=category,
            remediation=remediation,
        ),
    )


class StackView:
    """Every resource of the stack, with lookups that follow references between them.

    A reference is found from the engine's property dependencies (known even at preview, when ids are
    not), else by value: an input equal to another resource's `id`, `arn` or `name`.

    Lookups are indexed once per view (resources by type, who references whom through which input), so a
    rule that asks about every secret stays linear in the stack's size. `StackView.of` hands every stack
    rule of one run the same view when they are given the same resource list (the offline runner does).
    """

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self._by_value: dict[str, PolicyResource] = {}
        self._by_type: dict[str, list[PolicyResource]] = {}
        self._reverse: dict[tuple[str, tuple[str, ...]], dict[int, list[PolicyResource]]] = {}
        self._memo: dict[Hashable, Any] = {}
        for resource in self.resources:
            self._by_type.setdefault(resource.resource_type, []).append(resource)
            for key in ("id", "arn", "bucket"):
                value = known_get(resource.props, key)
                if isinstance(value, str) and value:
                    self._by_value.setdefault(value, resource)

    @classmethod
    def of(cls, resources: Sequence[PolicyResource]) -> StackView:
        """The view of `resources`, built once for as long as the same list is handed in."""
        if _LAST_VIEW and _LAST_VIEW[0][0] is resources:
            return _LAST_VIEW[0][1]
        view = cls(resources)
        _LAST_VIEW[:] = [(resources, view)]
        return view

    def of_type(self, *types: str) -> list[PolicyResource]:
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        wanted = set(types)
        return [r for r in self.resources if r.resource_type in wanted]

    def referenced(self, resource: PolicyResource, prop: str) -> list[PolicyResource]:
        """The resources that `resource`'s input `prop` refers to."""
        found = list(resource.property_dependencies.get(prop) or [])
        for candidate in text_values(known_get(resource.props, prop)):
            target = self._by_value.get(candidate)
            if target is not None and target not in found:
                found.append(target)
        return found

    def referencing(self, target: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """The resources of `types` whose input `prop` refers to `target`."""
        key = (prop, types)
        index = self._reverse.get(key)
        if index is None:
            index = {}
            for resource in self.of_type(*types):
                for referenced in self.referenced(resource, prop):
                    index.setdefault(id(referenced), []).append(resource)
            self._reverse[key] = index
        return list(index.get(id(target), ()))

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """`build()`, computed once per view for `key`: an index a rule builds for all its lookups."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def has_type(self, type_: str) -> bool:
        return type_ in self._by_type

    def environment(self, stack_tags: Mapping[str, str]) -> str | None:
        """The most common Environment tag of the stack's resources, else the stack's own tag."""
        key = ("environment", tuple(sorted(stack_tags.items())))
        return cast("str | None", self.memo(key, lambda: self._environment(stack_tags)))

    def _environment(self, stack_tags: Mapping[str, str]) -> str | None:
        seen: Counter[str] = Counter()
        for resource in self.resources:
            try:
                tag = tags_of(resource.props).get(settings.ENVIRONMENT_TAG)
            except UnknownValueError:
                continue
            if tag:
                seen[tag] += 1
        if seen:
            return seen.most_common(1)[0][0]
        return stack_tags.get(settings.ENVIRONMENT_TAG) or stack_tags.get("environment")


# The last view built by `StackView.of`, with the list it was built from (kept so its id is not reused).
_LAST_VIEW: list[tuple[Sequence[PolicyResource], StackView]] = []


@dataclass(frozen=True)
class StackContext:
    config: Mapping[str, Any]
    environment: str | None

    @property
    def production(self) -> bool:
        return _production(self.environment, self.config)


StackCheck = Callable[[StackView, StackContext], Iterable[tuple[str, str | None]]]


def stack_policy(
    name: str,
    summary: str,
    *,
    check: StackCheck,
    level: EnforcementLevel,
    severity: Severity,
    refs: Refs,
    remediation: str,
    category: str,
    config: Schema | None = None,
    production_only: bool = False,
) -> StackValidationPolicy:
    """A rule over the whole stack; each violation names the resource it is about (or none)."""
    schema = {**COMMON_SCHEMA, **(config or {})}

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        values = settings_for(schema, args.get_config())
        view = StackView.of(args.resources)
        environment = str(values["environment"]) if values.get("environment") else None
        context = StackContext(config=values, environment=environment or view.environment(args.stack_tags))
        if production_only and not context.production:
            return
        for message, urn in check(view, context):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name,
        validate=validate,
        **_metadata(
            summary,
            refs=refs,
            level=level,
            severity=severity,
            schema=schema,
            category=category,
            remediation=remediation,
        ),
    )


def label(resource: PolicyResource) -> str:
    """How a violation names a resource: `name (type)`."""
    return f"{resource.name} ({resource.resource_type})"


def known_tags(resource: PolicyResource) -> dict[str, str]:
    """A stack resource's tags, or none if they are unknown at preview."""
    try:
        return tags_of(resource.props)
    except UnknownValueError:
        return {}


def text_values(value: Any) -> Iterable[str]:
    """Every known string inside a value (for matching references by value)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for _, item in known_items(value):
            yield from text_values(item)
    else:
        for _, item in known_elements(sequence(value)):
            yield from text_values(item)
