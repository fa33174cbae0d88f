"""The Vault configuration the bootstrap maintains, as plain data: what is wanted, and its digest.

`desired(props)` turns the resource's inputs into a canonical document (policies, audit devices,
secrets engines, auth methods, AWS and AppRole roles, autopilot). `vault_reconcile.live_view` reads the
same document back from Vault, field for field, so the two digests are equal exactly when Vault holds
the wanted configuration: state keeps the digest, `read` (pulumi refresh) reports the live one, and a
difference makes `diff` schedule an `update` that reconciles. Durations are compared in seconds, lists
sorted, policy texts stripped. No Pulumi and no network here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from providers import vault_break_glass
from providers.common import BootstrapError

AUDIT_FILE_PATH = "/var/log/vault/audit/vault-audit.log"
SYSLOG_FACILITY = "AUTH"
SYSLOG_TAG = "vault"
KV_MOUNT = "secret/"
AWS_AUTH = "aws/"
APPROLE_AUTH = "approle/"
# Login lifetimes (ttl, max ttl). Machine roles are short-lived: the snapshot timer and the rotation
# functions log in per run; applications renew.
MACHINE_LOGIN = ("15m", "1h")
APP_LOGIN = ("1h", "4h")
# A CI secret ID is issued per pipeline run: it logs in once and expires soon (default, longest allowed).
CI_SECRET_ID_TTL = ("1h", "24h")
RESERVED_AWS_ROLES = frozenset({"snapshot", "rotation"})
# Policies the provisioner token may read but not write (templates/vault-policies/provisioner.hcl): with
# them it could raise its own rights. A run as the provisioner writes them with the adopt token, if given.
PROTECTED_POLICIES = ("admin", "break-glass", "provisioner", *vault_break_glass.PROTECTED_POLICIES)
# The policies the provisioner may bind to AWS and AppRole roles (allowed_parameters values, `*` a glob).
BINDABLE_POLICIES = ("snapshot", "rotation", "platform-team", "app-*")
# Autopilot as the deployment guide asks: prune dead servers after 10 minutes, never below quorum 3.
AUTOPILOT_DEFAULTS: Mapping[str, Any] = {
    "cleanup_dead_servers": True,
    "dead_server_last_contact_threshold": "10m",
    "min_quorum": 3,
    "last_contact_threshold": "10s",
    "server_stabilization_time": "10s",
    "max_trailing_logs": 1000,
}
AUTOPILOT_DURATIONS = (
    "dead_server_last_contact_threshold",
    "last_contact_threshold",
    "server_stabilization_time",
)
SECTIONS = (
    "policies",
    "audit",
    "mounts",
    "auth",
    "aws_client",
    "aws_roles",
    "approle_roles",
    "token_roles",
    "autopilot",
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(value: Any) -> int:
    """Vault and Go durations ("10m", "24h0m0s", "90", 90) in whole seconds."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        raise ValueError(f"not a duration: {value!r} (use Vault's form, e.g. '10m', '24h')")
    return int(total)


def _sorted_strings(values: Any) -> list[str]:
    return sorted(str(value) for value in (values or []))


def aws_role(
    arn: str, policies: list[str], login: tuple[str, str], *, default_policy: bool
) -> dict[str, Any]:
    """An iam-type AWS auth role bound to one principal, in canonical form."""
    return {
        "auth_type": "iam",
        "bound_iam_principal_arn": [arn],
        "resolve_aws_unique_ids": True,
        "token_policies": sorted(policies),
        "token_ttl": duration_seconds(login[0]),
        "token_max_ttl": duration_seconds(login[1]),
        "token_no_default_policy": not default_policy,
    }


def approle_role(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The CI AppRole role in canonical form; `bound_cidrs` bounds both secret-id use and its tokens."""
    cidrs = _sorted_strings(settings.get("bound_cidrs"))
    return {
        "bind_secret_id": True,
        "secret_id_ttl": duration_seconds(settings.get("secret_id_ttl", CI_SECRET_ID_TTL[0])),
        "secret_id_num_uses": int(settings.get("secret_id_num_uses", 1)),
        "secret_id_bound_cidrs": cidrs,
        "token_bound_cidrs": cidrs,
        "token_policies": _sorted_strings(settings.get("token_policies")),
        "token_ttl": duration_seconds(settings.get("token_ttl", "20m")),
        "token_max_ttl": duration_seconds(settings.get("token_max_ttl", "1h")),
        "token_no_default_policy": False,
    }


def autopilot(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = {**AUTOPILOT_DEFAULTS, **(settings or {})}
    canonical = {name: duration_seconds(merged[name]) for name in AUTOPILOT_DURATIONS}
    canonical["cleanup_dead_servers"] = bool(merged["cleanup_dead_servers"])
    canonical["min_quorum"] = int(merged["min_quorum"])
    canonical["max_trailing_logs"] = int(merged["max_trailing_logs"])
    return canonical


def desired(props: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical configuration the resource's inputs ask for."""
    # The snapshot token may read a snapshot and nothing else, not even the default policy's paths.
    roles = {"snapshot": aws_role(props["node_role_arn"], ["snapshot"], MACHINE_LOGIN, default_policy=False)}
    if props.get("rotation_role_arn"):
        roles["rotation"] = aws_role(
            props["rotation_role_arn"], ["rotation"], MACHINE_LOGIN, default_policy=True
        )
    for app in props.get("app_roles") or []:
        roles[app["name"]] = aws_role(
            app["bound_arn"], list(app["token_policies"]), APP_LOGIN, default_policy=True
        )
    break_glass = props.get("break_glass") or None
    if break_glass:
        roles[vault_break_glass.BROKER_ROLE] = aws_role(
            break_glass["broker_role_arn"],
            [vault_break_glass.BROKER_POLICY],
            vault_break_glass.BROKER_LOGIN,
            default_policy=False,
        )
    return {
        "policies": {name: str(text).strip() for name, text in (props.get("policies") or {}).items()},
        "audit": {
            "file/": {
                "type": "file",
                "options": {"file_path": props.get("audit_file_path") or AUDIT_FILE_PATH},
            },
            "syslog/": {"type": "syslog", "options": {"facility": SYSLOG_FACILITY, "tag": SYSLOG_TAG}},
        },
        "mounts": {KV_MOUNT: {"type": "kv", "version": "2"}},
        "auth": {AWS_AUTH: {"type": "aws"}, APPROLE_AUTH: {"type": "approle"}},
        # Clients sign sts:GetCallerIdentity for the regional endpoint (reached through the VPC's STS
        # endpoint); Vault must forward the login to that same endpoint for the signature to verify.
        "aws_client": {
            "iam_server_id_header_value": str(props.get("iam_server_id") or ""),
            "sts_endpoint": f"https://sts.{props['region']}.amazonaws.com" if props.get("region") else "",
            "sts_region": str(props.get("region") or ""),
        },
        "aws_roles": roles,
        "approle_roles": {"ci": approle_role(props.get("ci_approle") or {})},
        "token_roles": vault_break_glass.token_roles(break_glass, break_glass_max_ttl(props)),
        "autopilot": autopilot(props.get("autopilot")),
    }


def break_glass_max_ttl(props: Mapping[str, Any]) -> int:
    """The break-glass token roles' explicit max TTL in seconds (the configured limit, default 1h)."""
    settings = props.get("break_glass") or {}
    return duration_seconds(settings.get("max_ttl") or vault_break_glass.DEFAULT_MAX_TTL)


def digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical document: equal digests, equal configuration."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


SECTION_NAMES = {
    "policies": "policy",
    "audit": "audit device",
    "mounts": "secrets engine",
    "auth": "auth method",
    "aws_roles": "AWS auth role",
    "approle_roles": "AppRole role",
    "token_roles": "token role",
}


def differences(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """What differs between the wanted and the live configuration, as short sentences (no values)."""
    found: list[str] = []
    for section in SECTIONS:
        want, have = wanted.get(section) or {}, live.get(section) or {}
        if section in {"autopilot", "aws_client"}:
            if want != have:
                found.append(f"{section.replace('_', ' ')} configuration differs")
            continue
        for name in sorted(want):
            if have.get(name) is None:
                found.append(f"{SECTION_NAMES[section]} {name} is missing")
            elif have[name] != want[name]:
                found.append(f"{SECTION_NAMES[section]} {name} differs")
    return found


def bindable(policy: str) -> bool:
    """Whether the provisioner policy lets later runs bind `policy` to a role."""
    return any(
        policy.startswith(pattern[:-1]) if pattern.endswith("*") else policy == pattern
        for pattern in BINDABLE_POLICIES
    )


def validate(props: Mapping[str, Any]) -> None:
    """Every problem with the inputs at once, before anything touches Vault or AWS."""
    problems = _recovery_problems(props)
    if int(props.get("cluster_size", 0)) < 1:
        problems.append("cluster_size must be at least 1")
    policies = props.get("policies") or {}
    if "provisioner" not in policies:
        problems.append("policies: the 'provisioner' policy is required (later runs authenticate with it)")
    names = [app["name"] for app in props.get("app_roles") or []]
    problems += [
        f"app role {name!r}: the name is reserved for the platform's own role"
        for name in names
        if name in RESERVED_AWS_ROLES
    ]
    problems += [
        f"app role {name!r} is listed more than once"
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    try:
        problems += _configuration_problems(desired(props), policies)
        problems += vault_break_glass.problems(props.get("break_glass"), break_glass_max_ttl(props), policies)
    except (KeyError, ValueError) as error:
        problems.append(f"inputs: {error}")
    if problems:
        raise BootstrapError("the Vault bootstrap's inputs are invalid:\n  - " + "\n  - ".join(problems))


def _recovery_problems(props: Mapping[str, Any]) -> list[str]:
    shares, threshold = int(props.get("recovery_shares", 5)), int(props.get("recovery_threshold", 3))
    if not 1 <= threshold <= shares <= 255:
        return [
            f"recovery_threshold {threshold} / recovery_shares {shares}: need 1 <= threshold <= shares <= 255"
        ]
    if shares > 1 and threshold == 1:
        return ["recovery_threshold must be greater than one when there are several shares"]
    pgp_keys = props.get("recovery_pgp_keys") or []
    if pgp_keys and len(pgp_keys) != shares:
        return [f"recovery_pgp_keys: {len(pgp_keys)} keys for {shares} shares (one key per share, in order)"]
    return []


def _configuration_problems(config: Mapping[str, Any], policies: Mapping[str, str]) -> list[str]:
    bound = [
        (f"{SECTION_NAMES[kind]} {name}", policy)
        for kind in ("aws_roles", "approle_roles")
        for name, role in sorted(config[kind].items())
        for policy in role["token_policies"]
        if not (kind == "aws_roles" and vault_break_glass.protected_binding(name, policy))
    ]
    problems = [
        f"{role}: token policy {policy!r} is not among the policies written"
        for role, policy in bound
        if policy not in policies and policy != "default"
    ]
    problems += [
        f"{role}: token policy {policy!r} is not one the provisioner may bind on later runs "
        f"({', '.join(BINDABLE_POLICIES)})"
        for role, policy in bound
        if not bindable(policy)
    ]
    ci = config["approle_roles"]["ci"]
    if not ci["token_policies"]:
        problems.append("ci_approle.token_policies: name the policies CI tokens get")
    if ci["secret_id_num_uses"] < 1:
        problems.append(
            "ci_approle.secret_id_num_uses must be at least 1 (0 lets a secret ID log in forever)"
        )
    if not 0 < ci["secret_id_ttl"] <= duration_seconds(CI_SECRET_ID_TTL[1]):
        problems.append(
            f"ci_approle.secret_id_ttl must be between 1s and {CI_SECRET_ID_TTL[1]} (0 never expires)"
        )
    pilot = config["autopilot"]
    if pilot["cleanup_dead_servers"] and pilot["min_quorum"] < 3:
        problems.append(
            "autopilot: min_quorum must be at least 3 when cleanup_dead_servers is on (Vault's rule)"
        )
    if pilot["cleanup_dead_servers"] and pilot["dead_server_last_contact_threshold"] < 60:
        problems.append("autopilot: dead_server_last_contact_threshold must be at least 1m (Vault's rule)")
    return problems
