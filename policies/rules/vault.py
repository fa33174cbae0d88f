"""The Vault platform as a whole: a quorate raft cluster across zones, no dev mode in production, every
catalog secret rotated within its type's limit and seeded into Vault, and the deployment guide's alarms.

These rules find what they check by the conventions in `settings` (tags and dynamic-resource inputs the
components set), and apply only once the component they are about is in the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from . import settings
from .exposure import AUTOSCALING_GROUP, INSTANCE, LAUNCH_TEMPLATE
from .framework import (
    CRITICAL,
    HIGH,
    MANDATORY,
    MEDIUM,
    Refs,
    StackContext,
    StackView,
    known_tags,
    label,
    stack_policy,
)
from .props import (
    as_number,
    decode_text,
    has_key,
    is_false,
    known_get,
    known_items,
    mapping,
    mappings,
    sequence,
    strings,
)

CATEGORY = "vault"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"  # noqa: S105 - a type token
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# `vault server -dev`, or a server configured with in-memory storage.
DEV_SERVER = re.compile(r"vault\s+server\b[^\n]*\s-dev\b|storage\s+\"inmem\"")

# --- The cluster -----------------------------------------------------------------------------------------


def markers(view: StackView, resource: PolicyResource) -> dict[str, str]:
    """A resource's tags, and for an Auto Scaling group also its launch template's (tags and the tags it
    puts on instances), where the cluster's auto-join and mode tags usually live."""
    found = dict(known_tags(resource))
    templates = [resource] if resource.resource_type == LAUNCH_TEMPLATE else []
    if resource.resource_type == AUTOSCALING_GROUP:
        templates += view.referenced(resource, "launchTemplate") + view.referenced(
            resource, "mixedInstancesPolicy"
        )
    for template in templates:
        for key, value in known_tags(template).items():
            found.setdefault(key, value)
        for specification in mappings(known_get(template.props, "tagSpecifications")):
            for key, value in known_items(mapping(known_get(specification, "tags"))):
                found.setdefault(str(key), str(value))
    return found


def _is_dev(view: StackView, resource: PolicyResource, config: Mapping[str, Any]) -> bool:
    mode = markers(view, resource).get(str(config["modeTagKey"]), "")
    return bool(mode) and re.match(str(config["devModePattern"]), mode) is not None


def _within(resource: PolicyResource, component_type: str) -> bool:
    parent = resource.parent
    while parent is not None:
        if parent.resource_type == component_type:
            return True
        parent = parent.parent
    return False


def _clusters(
    view: StackView, context: StackContext
) -> tuple[list[PolicyResource], list[tuple[str, str | None]]]:
    """The Vault servers' Auto Scaling groups to check, and a violation if a cluster has none.

    A group is a Vault server group if it (or its launch template, or the instances it tags) carries the
    auto-join tag, or it belongs to the VaultCluster component. A dev-mode group is skipped outside
    production.
    """
    key = str(context.config["clusterTagKey"])
    groups = [
        g
        for g in view.of_type(AUTOSCALING_GROUP)
        if key in markers(view, g) or _within(g, settings.VAULT_CLUSTER_COMPONENT)
    ]
    problems: list[tuple[str, str | None]] = []
    if not groups and view.has_type(settings.VAULT_CLUSTER_COMPONENT):
        problems.append((f"the VaultCluster component has no Auto Scaling group (none tagged {key})", None))
    checked = [g for g in groups if context.production or not _is_dev(view, g, context.config)]
    return checked, problems


CLUSTER_CONFIG = {
    "clusterTagKey": {"type": "string", "default": settings.VAULT_CLUSTER_TAG},
    "modeTagKey": {"type": "string", "default": settings.VAULT_MODE_TAG},
    "devModePattern": {"type": "string", "default": settings.VAULT_DEV_MODE_PATTERN},
}


def _quorum(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    groups, problems = _clusters(view, context)
    yield from problems
    minimum = int(context.config["minimumNodes"])
    for group in groups:
        low, high = as_number(group.props.get("minSize")), as_number(group.props.get("maxSize"))
        desired = as_number(group.props.get("desiredCapacity"))
        desired = low if desired is None else desired
        if not (low == high == desired):
            yield (
                f"Vault group {label(group)} has min {low}, max {high}, desired {desired}: they must be "
                "equal so "
                "the raft membership never grows or shrinks on its own",
                group.urn,
            )
        size = int(desired or 0)
        if size < minimum:
            yield f"Vault group {label(group)} runs {size} nodes; raft needs at least {minimum}", group.urn
        elif size % 2 == 0:
            yield (
                f"Vault group {label(group)} runs {size} nodes: {size} raft voters tolerate "
                f"{(size - 1) // 2} failure(s), no more than {size - 1} do; use an odd size",
                group.urn,
            )


vault_cluster_quorum = stack_policy(
    "vault-cluster-quorum",
    "The Vault servers' Auto Scaling group (tagged VaultCluster) runs a fixed, odd number of nodes, at least "
    "3 (min = max = desired).",
    check=_quorum,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(),
    remediation="Set min_size = max_size = desired_capacity = vaultClusterSize (3, 5 or 7).",
    category=CATEGORY,
    config={**CLUSTER_CONFIG, "minimumNodes": {"type": "integer", "default": settings.VAULT_MINIMUM_NODES}},
)


def _zones(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    groups, problems = _clusters(view, context)
    yield from problems
    minimum = int(context.config["minimumZones"])
    for group in groups:
        zones = set(strings(known_get(group.props, "availabilityZones")))
        for subnet in view.referenced(group, "vpcZoneIdentifiers"):
            zone = known_get(subnet.props, "availabilityZone") or known_get(
                subnet.props, "availabilityZoneId"
            )
            if zone:
                zones.add(str(zone))
        if len(zones) < minimum:
            shown = ", ".join(sorted(zones)) or "none known"
            yield (
                f"Vault group {label(group)} spans {len(zones)} zone(s) ({shown}); at least {minimum}",
                group.urn,
            )


vault_cluster_zones = stack_policy(
    "vault-cluster-zones",
    "The Vault servers' Auto Scaling group spans at least 3 availability zones (read from its subnets), so "
    "losing a zone keeps a raft quorum.",
    check=_zones,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(),
    remediation="Pass one private subnet per zone (three zones) as vpc_zone_identifiers.",
    category=CATEGORY,
    config={**CLUSTER_CONFIG, "minimumZones": {"type": "integer", "default": settings.VAULT_MINIMUM_ZONES}},
)


def _dev_mode(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for resource in view.resources:
        if _is_dev(view, resource, context.config):
            yield f"{label(resource)} is marked as a dev-mode Vault in a production stack", resource.urn
        elif resource.resource_type in (LAUNCH_TEMPLATE, INSTANCE):
            user_data = known_get(resource.props, "userData") or known_get(resource.props, "userDataBase64")
            if isinstance(user_data, str) and DEV_SERVER.search(decode_text(user_data)):
                yield (
                    f"{label(resource)}'s user data runs Vault in dev mode in a production stack",
                    resource.urn,
                )


vault_no_dev_mode = stack_policy(
    "vault-no-dev-mode",
    "A production stack runs no dev-mode Vault: nothing tagged VaultMode=dev* (on the resource or the "
    "instances a launch template tags) and no user data running 'vault server -dev' or storage \"inmem\" "
    "(everything in memory, lost on restart).",
    check=_dev_mode,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(),
    remediation="Set enableDevMode false; dev mode is only for non-production stacks.",
    category=CATEGORY,
    config=CLUSTER_CONFIG,
    production_only=True,
)


# --- The secrets catalog ---------------------------------------------------------------------------------

CRON = re.compile(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)")
RATE = re.compile(r"rate\((\d+) (hour|hours|day|days)\)")


def rotation_interval_days(rules: Mapping[str, Any]) -> float | None:
    """The longest gap between rotations a SecretRotation's rules allow, or None if it cannot be told.

    `automaticallyAfterDays`, `rate(N days|hours)`, or a cron schedule that fires at least monthly (every
    month, some day) or weekly (a day of the week).
    """
    days = as_number(rules.get("automaticallyAfterDays"))
    if days:
        return days
    expression = str(rules.get("scheduleExpression") or "").strip()
    rate = RATE.fullmatch(expression)
    if rate:
        count = int(rate.group(1))
        return count if rate.group(2).startswith("day") else count / 24
    cron = CRON.fullmatch(expression)
    if cron and cron.group(4) == "*":
        day_of_month, day_of_week = cron.group(3), cron.group(5)
        if day_of_month == "*":
            return 1
        if day_of_week not in ("*", "?"):
            return 7
        return 31
    return None


def _catalog(view: StackView, context: StackContext) -> list[PolicyResource]:
    return [s for s in view.of_type(SECRET) if str(context.config["typeTagKey"]) in known_tags(s)]


def _rotation(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    maxima = mapping(context.config["maximumDays"])
    for secret in _catalog(view, context):
        tags = known_tags(secret)
        kind = tags[str(context.config["typeTagKey"])]
        limit = as_number(maxima.get(kind))
        declared = as_number(tags.get(str(context.config["rotationTagKey"])))
        if limit is None:
            yield f"catalog secret {label(secret)} has type {kind!r}, which has no rotation limit", secret.urn
            continue
        if declared is None or declared > limit:
            yield (
                f"catalog secret {label(secret)} declares rotation every "
                f"{declared or '(no RotationDays tag)'} "
                f"days; {kind} secrets rotate at least every {int(limit)}",
                secret.urn,
            )
        allowed = min(limit, declared or limit)
        rotations = view.referencing(secret, "secretId", SECRET_ROTATION)
        if not rotations:
            yield f"catalog secret {label(secret)} has no SecretRotation", secret.urn
        for rotation in rotations:
            interval = rotation_interval_days(mapping(rotation.props.get("rotationRules")))
            if interval is None:
                yield (
                    f"{label(rotation)}'s schedule cannot be checked; use automaticallyAfterDays",
                    rotation.urn,
                )
            elif interval > allowed:
                yield (
                    f"{label(rotation)} rotates every {interval:g} days; {label(secret)} must rotate within "
                    f"{int(allowed)}",
                    rotation.urn,
                )


CATALOG_CONFIG = {
    "typeTagKey": {"type": "string", "default": settings.SECRET_TYPE_TAG},
    "rotationTagKey": {"type": "string", "default": settings.ROTATION_DAYS_TAG},
}

catalog_secret_rotation = stack_policy(
    "catalog-secret-rotation",
    "Every catalog secret (tagged SecretType and RotationDays) has a SecretRotation (secretId) rotating it "
    "at or under its RotationDays and its type's maximum (database 90, api-key 90, crypto 365 days).",
    check=_rotation,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV2_AWS_57", "CKV_AWS_304")),
    remediation="Add an aws.secretsmanager.SecretRotation with rotation_rules.automatically_after_days.",
    category=CATEGORY,
    config={
        **CATALOG_CONFIG,
        "maximumDays": {"type": "object", "default": dict(settings.ROTATION_MAXIMUM_DAYS)},
    },
)


def _is_vault_seed(seed: PolicyResource, config: Mapping[str, Any]) -> bool:
    return any(
        all(has_key(seed.props, field) for field in marker.split("+"))
        for marker in strings(config["vaultFields"])
    )


def _seed_index(view: StackView, config: Mapping[str, Any]) -> dict[int, list[PolicyResource]]:
    """Each secret's seeds (by the secret's id()), from one pass over the stack's dynamic resources.

    A seed belongs to a secret if it is the secret's child, or one of its `secretFields` holds the secret's
    name or refers to the secret (property dependency or ARN).
    """
    fields = strings(config["secretFields"])
    secrets_by_name: dict[str, list[PolicyResource]] = {}
    for secret in view.of_type(SECRET):
        name = known_get(secret.props, "name")
        if isinstance(name, str) and name:
            secrets_by_name.setdefault(name, []).append(secret)
    index: dict[int, list[PolicyResource]] = {}
    for seed in view.resources:
        if not seed.resource_type.startswith(settings.DYNAMIC_RESOURCE_PREFIX):
            continue
        owners: list[PolicyResource] = [seed.parent] if seed.parent is not None else []
        for field in fields:
            value = known_get(seed.props, field)
            owners += secrets_by_name.get(value, []) if isinstance(value, str) else []
            owners += view.referenced(seed, field)
        for owner in {id(owner): owner for owner in owners}.values():
            index.setdefault(id(owner), []).append(seed)
    return index


def _seeds_of(view: StackView, secret: PolicyResource, config: Mapping[str, Any]) -> list[PolicyResource]:
    """The dynamic resources seeding `secret`: its children, or those naming it by name or ARN."""
    key = ("catalog-seeds", tuple(strings(config["secretFields"])))
    index = view.memo(key, lambda: _seed_index(view, config))
    return list(index.get(id(secret), ()))


def _has_vault(view: StackView, config: Mapping[str, Any]) -> bool:
    return view.has_type(settings.VAULT_CLUSTER_COMPONENT) or any(
        _is_vault_seed(r, config)
        for r in view.resources
        if r.resource_type.startswith(settings.DYNAMIC_RESOURCE_PREFIX)
    )


def _seeds(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    if not _has_vault(view, context.config):
        return  # nothing to seed into yet: no Vault cluster (or Vault seed) in this stack
    for secret in _catalog(view, context):
        seeds = _seeds_of(view, secret, context.config)
        if seeds and not any(_is_vault_seed(seed, context.config) for seed in seeds):
            yield (
                f"catalog secret {label(secret)} is seeded into Secrets Manager but not into Vault KV "
                "(no seed with vaultPath, or mount and path)",
                secret.urn,
            )


catalog_secret_seeded = stack_policy(
    "catalog-secret-seeded",
    "Once the stack has a Vault cluster, every catalog secret that has a value is seeded into Vault KV too: "
    "a Python dynamic resource that is the secret's child or names it (secretName / secretId) and writes to "
    "Vault (vaultPath, or mount and path). A secret with no seed at all has no value in this stack's config "
    "(the catalog warns).",
    check=_seeds,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(),
    remediation="Create the entry's VaultKvSeed with secretName and vaultPath inputs.",
    category=CATEGORY,
    config={
        **CATALOG_CONFIG,
        "secretFields": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.SEED_SECRET_FIELDS),
        },
        "vaultFields": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.SEED_VAULT_FIELDS),
        },
    },
)


# --- The deployment guide's alarms -----------------------------------------------------------------------


def _alarm_problems(alarm_id: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> Iterable[str]:
    if is_false(known_get(props, "actionsEnabled")) or not sequence(known_get(props, "alarmActions")):
        yield "notifies no one (alarmActions empty or actions disabled)"
    period = as_number(known_get(props, "period"))
    threshold = as_number(known_get(props, "threshold"))
    if alarm_id == "failed-auth" and period is not None and threshold is not None:
        maximum = float(config["failedAuthPerMinute"])
        if period > 60 or threshold > maximum:
            yield f"fires above {threshold:g} per {period:g}s; the guide asks for > {maximum:g} per minute"
    if alarm_id == "audit-log-gap":
        if known_get(props, "treatMissingData") != "breaching":
            yield "must treat missing data as breaching (no audit events is the gap)"
        evaluations = as_number(known_get(props, "evaluationPeriods")) or 1
        if period is not None and period * evaluations > float(config["auditGapSeconds"]):
            yield f"notices a gap only after {period * evaluations:g}s; the guide asks for 15 minutes"


def _guide_alarms(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    key = str(context.config["alarmTagKey"])
    alarms: dict[str, list[PolicyResource]] = {}
    for alarm in view.of_type(METRIC_ALARM):
        alarm_id = known_tags(alarm).get(key)
        if alarm_id:
            alarms.setdefault(alarm_id, []).append(alarm)
    if not alarms and not view.has_type(settings.MONITORING_COMPONENT):
        return  # monitoring is not in this stack (yet)
    for alarm_id in strings(context.config["requiredAlarms"]):
        if alarm_id not in alarms:
            yield (
                f"the deployment guide's alarm {alarm_id!r} is missing "
                f"(no MetricAlarm tagged {key}={alarm_id})",
                None,
            )
        for alarm in alarms.get(alarm_id, []):
            for problem in _alarm_problems(alarm_id, alarm.props, context.config):
                yield f"guide alarm {alarm_id} ({alarm.name}) {problem}", alarm.urn


guide_alarms = stack_policy(
    "guide-alarms",
    "The deployment guide's five alarms exist (MetricAlarms tagged GuideAlarm=seal-status, failed-auth, "
    "off-hours-access, audit-log-gap, node-failure) and notify someone; failed-auth fires above 5 per "
    "minute; audit-log-gap treats missing data as breaching within 15 minutes.",
    check=_guide_alarms,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_319",)),
    remediation="Create the missing alarm in the Monitoring component with the GuideAlarm tag.",
    category=CATEGORY,
    config={
        "alarmTagKey": {"type": "string", "default": settings.GUIDE_ALARM_TAG},
        "requiredAlarms": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.GUIDE_ALARMS),
        },
        "failedAuthPerMinute": {"type": "number", "default": settings.FAILED_AUTH_MAXIMUM_PER_MINUTE},
        "auditGapSeconds": {"type": "number", "default": settings.AUDIT_GAP_MAXIMUM_SECONDS},
    },
)

POLICIES = [
    vault_cluster_quorum,
    vault_cluster_zones,
    vault_no_dev_mode,
    catalog_secret_rotation,
    catalog_secret_seeded,
    guide_alarms,
]
