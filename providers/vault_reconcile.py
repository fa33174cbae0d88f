"""Read Vault's configuration in the canonical form of `vault_config`, and make it match what is wanted.

`live_view` reads only what the wanted document names (plus nothing else), so its digest equals the
wanted digest exactly when Vault is in step. `reconcile` writes only what differs, audit devices first (so
every later write, the first run's root token's included, is audited), then in dependency order (policies
before the roles that name them), so a re-run against a configured cluster writes nothing.
It never disables an audit device, a secrets engine or an auth method: a device with other options or a
mount of another type is reported as an instruction instead (the provisioner may not disable them, by
design, and neither should an automated run: audit continuity and stored data come first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import vault_break_glass
from providers.common import BootstrapError
from providers.vault_config import AUTOPILOT_DURATIONS, PROTECTED_POLICIES, duration_seconds


def _read(client: Any, path: str) -> dict[str, Any] | None:
    """GET a logical path; None for 404."""
    import hvac.exceptions as vault_errors  # noqa: PLC0415

    try:
        answer = client.read(path)
    except vault_errors.InvalidPath:
        return None
    if not isinstance(answer, dict):
        return None
    data = answer.get("data")
    return data if isinstance(data, dict) else None


def _table(client: Any, path: str) -> dict[str, Any]:
    """A sys list endpoint (mounts, auth, audit) as {path: entry}."""
    answer = client.read(path) or {}
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


def _pick_aws_role(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "auth_type": data.get("auth_type"),
        "bound_iam_principal_arn": sorted(data.get("bound_iam_principal_arn") or []),
        "resolve_aws_unique_ids": bool(data.get("resolve_aws_unique_ids")),
        "token_policies": sorted(data.get("token_policies") or []),
        "token_ttl": duration_seconds(data.get("token_ttl")),
        "token_max_ttl": duration_seconds(data.get("token_max_ttl")),
        "token_no_default_policy": bool(data.get("token_no_default_policy")),
    }


def _pick_approle(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "bind_secret_id": bool(data.get("bind_secret_id")),
        "secret_id_ttl": duration_seconds(data.get("secret_id_ttl")),
        "secret_id_num_uses": int(data.get("secret_id_num_uses") or 0),
        "secret_id_bound_cidrs": sorted(data.get("secret_id_bound_cidrs") or []),
        "token_bound_cidrs": sorted(data.get("token_bound_cidrs") or []),
        "token_policies": sorted(data.get("token_policies") or []),
        "token_ttl": duration_seconds(data.get("token_ttl")),
        "token_max_ttl": duration_seconds(data.get("token_max_ttl")),
        "token_no_default_policy": bool(data.get("token_no_default_policy")),
    }


def _pick_token_role(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "allowed_policies": sorted(data.get("allowed_policies") or []),
        "disallowed_policies": sorted(data.get("disallowed_policies") or []),
        "orphan": bool(data.get("orphan")),
        "renewable": bool(data.get("renewable")),
        "token_explicit_max_ttl": duration_seconds(data.get("token_explicit_max_ttl")),
        "token_period": duration_seconds(data.get("token_period")),
        "token_type": str(data.get("token_type") or ""),
        "token_no_default_policy": bool(data.get("token_no_default_policy")),
    }


def _pick_autopilot(data: Mapping[str, Any]) -> dict[str, Any]:
    view = {name: duration_seconds(data.get(name)) for name in AUTOPILOT_DURATIONS}
    view["cleanup_dead_servers"] = bool(data.get("cleanup_dead_servers"))
    view["min_quorum"] = int(data.get("min_quorum") or 0)
    view["max_trailing_logs"] = int(data.get("max_trailing_logs") or 0)
    return view


def live_view(client: Any, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The live configuration, in the wanted document's shape (None where something is missing)."""
    audit = _table(client, "sys/audit")
    mounts = _table(client, "sys/mounts")
    auths = _table(client, "sys/auth")
    view: dict[str, Any] = {
        "policies": {},
        "audit": {},
        "mounts": {},
        "auth": {},
        "aws_client": {},
        "aws_roles": {},
        "approle_roles": {},
        "token_roles": {},
        "autopilot": _pick_autopilot(_read(client, "sys/storage/raft/autopilot/configuration") or {}),
    }
    for name in wanted["policies"]:
        policy = _read(client, f"sys/policies/acl/{name}")
        view["policies"][name] = str(policy.get("policy", "")).strip() if policy else None
    for path, device in wanted["audit"].items():
        entry = audit.get(path)
        view["audit"][path] = (
            {
                "type": entry.get("type"),
                "options": {key: (entry.get("options") or {}).get(key) for key in device["options"]},
            }
            if entry
            else None
        )
    for path in wanted["mounts"]:
        entry = mounts.get(path)
        view["mounts"][path] = (
            {"type": entry.get("type"), "version": str((entry.get("options") or {}).get("version", "1"))}
            if entry
            else None
        )
    for path in wanted["auth"]:
        entry = auths.get(path)
        view["auth"][path] = {"type": entry.get("type")} if entry else None
    aws_mounted = (view["auth"].get("aws/") or {}).get("type") == "aws"
    approle_mounted = (view["auth"].get("approle/") or {}).get("type") == "approle"
    client_config = _read(client, "auth/aws/config/client") if aws_mounted else None
    view["aws_client"] = {
        key: str((client_config or {}).get(key) or "")
        for key in ("iam_server_id_header_value", "sts_endpoint", "sts_region")
    }
    for name in wanted["aws_roles"]:
        role = _read(client, f"auth/aws/role/{name}") if aws_mounted else None
        view["aws_roles"][name] = _pick_aws_role(role) if role else None
    for name in wanted["approle_roles"]:
        role = _read(client, f"auth/approle/role/{name}") if approle_mounted else None
        view["approle_roles"][name] = _pick_approle(role) if role else None
    view["token_roles"] = token_roles_view(client, wanted.get("token_roles") or {})
    return view


def token_roles_view(client: Any, names: Any) -> dict[str, Any]:
    """The named token roles as Vault holds them, in canonical form (None for a missing one)."""
    view: dict[str, Any] = {}
    for name in names:
        role = _read(client, f"auth/token/roles/{name}")
        view[name] = _pick_token_role(role) if role else None
    return view


def reconcile(
    client: Any,
    wanted: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    retired_policies: list[str],
    retired_aws_roles: list[str],
    admin: Any | None = None,
) -> list[str]:
    """Write what differs; delete roles and policies this resource managed before and no longer wants.
    `admin`, when given, writes the protected policies (`PROTECTED_POLICIES`) instead of `client`.

    Returns what was changed, as short sentences (names only).
    """
    changed = _audit(client, wanted, live)
    for name in differing_policies(wanted, live):
        writer = admin if admin is not None and name in PROTECTED_POLICIES else client
        writer.sys.create_or_update_acl_policy(name=name, policy=wanted["policies"][name])
        changed.append(f"wrote policy {name}")
    changed += _mounts(client, wanted, live)
    changed += _roles(client, wanted, live, admin or client)
    if live["autopilot"] != wanted["autopilot"]:
        pilot = dict(wanted["autopilot"])
        for name in AUTOPILOT_DURATIONS:
            pilot[name] = f"{pilot[name]}s"
        client.write_data("sys/storage/raft/autopilot/configuration", data=pilot)
        changed.append("set the autopilot configuration")
    for name in retired_aws_roles:
        if name not in wanted["aws_roles"]:
            protected = name in vault_break_glass.PROTECTED_AWS_ROLES
            (admin or client if protected else client).delete(f"auth/aws/role/{name}")
            changed.append(f"deleted AWS auth role {name}")
    for name in retired_policies:
        if name not in wanted["policies"]:
            client.sys.delete_acl_policy(name=name)
            changed.append(f"deleted policy {name}")
    return changed


def differing_policies(
    wanted: Mapping[str, Any], live: Mapping[str, Any], among: tuple[str, ...] | None = None
) -> list[str]:
    """The wanted policies (of `among`, if given) whose live text differs or which are missing."""
    return [
        name
        for name, text in wanted["policies"].items()
        if (among is None or name in among) and live["policies"].get(name) != text
    ]


def protected_differences(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What differs among the settings the provisioner may not write, as (name, Vault path): the protected
    policies (by name alone), the break-glass token roles and the broker's AWS auth role."""
    found = [
        (name, f"sys/policies/acl/{name}") for name in differing_policies(wanted, live, PROTECTED_POLICIES)
    ]
    found += [
        (f"token role {name}", f"auth/token/roles/{name}")
        for name, role in (wanted.get("token_roles") or {}).items()
        if (live.get("token_roles") or {}).get(name) != role
    ]
    found += [
        (f"AWS auth role {name}", f"auth/aws/role/{name}")
        for name in vault_break_glass.PROTECTED_AWS_ROLES
        if name in wanted["aws_roles"] and live["aws_roles"].get(name) != wanted["aws_roles"][name]
    ]
    return found


def role_request(role: Mapping[str, Any]) -> dict[str, Any]:
    """A role as written to Vault: one token policy goes as a plain string. The provisioner policy's
    allowed_parameters accept that form on every Vault version; before 1.21 Vault matches a list as a whole,
    so a list is refused (several policies need Vault 1.21, or root)."""
    request = dict(role)
    policies = list(request.get("token_policies") or [])
    if len(policies) == 1:
        request["token_policies"] = policies[0]
    return request


def _audit(client: Any, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    changed = []
    for path, device in wanted["audit"].items():
        have = live["audit"].get(path)
        if have is None:
            client.sys.enable_audit_device(
                device_type=device["type"],
                path=path.rstrip("/"),
                description=f"candlefish {device['type']} audit log",
                options=device["options"],
            )
            changed.append(f"enabled audit device {path}")
        elif have != device:
            raise BootstrapError(
                f"audit device {path} exists with other settings than wanted ({device['type']} "
                f"{sorted(device['options'])}); the bootstrap never disables an audit device. With an admin "
                f"token: `vault audit disable {path}` then re-run `pulumi up` (the other device keeps "
                "auditing meanwhile)"
            )
    return changed


def _mounts(client: Any, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    changed = []
    for path, mount in wanted["mounts"].items():
        have = live["mounts"].get(path)
        if have is None:
            client.sys.enable_secrets_engine(
                backend_type=mount["type"],
                path=path.rstrip("/"),
                description="candlefish KV v2",
                options={"version": mount["version"]},
            )
            changed.append(f"mounted {mount['type']} v{mount['version']} at {path}")
        elif have["type"] != mount["type"]:
            raise BootstrapError(
                f"{path} is a {have['type']} mount, not {mount['type']}; the bootstrap never unmounts an "
                f"engine (its data would go). Move it with `vault secrets move {path} <other>/` and re-run"
            )
        elif have != mount:
            # KV v1 -> v2 is an in-place upgrade Vault performs on tune; it is never downgraded.
            client.sys.tune_mount_configuration(path=path.rstrip("/"), options={"version": mount["version"]})
            changed.append(f"upgraded {path} to kv v{mount['version']}")
    for path, method in wanted["auth"].items():
        have = live["auth"].get(path)
        if have is None:
            client.sys.enable_auth_method(
                method_type=method["type"], path=path.rstrip("/"), description=f"candlefish {method['type']}"
            )
            changed.append(f"enabled auth method {path}")
        elif have != method:
            raise BootstrapError(
                f"auth/{path} is a {have['type']} auth method, not {method['type']}; the bootstrap never "
                f"disables an auth method. Disable it by hand (`vault auth disable {path}`) and re-run"
            )
    return changed


def _roles(client: Any, wanted: Mapping[str, Any], live: Mapping[str, Any], admin: Any) -> list[str]:
    """Auth roles and token roles; `admin` writes the protected ones (the client itself when it may)."""
    changed = []
    if live["aws_client"] != wanted["aws_client"]:
        client.write_data("auth/aws/config/client", data=dict(wanted["aws_client"]))
        changed.append("configured the AWS auth client")
    for name, role in (wanted.get("token_roles") or {}).items():
        if (live.get("token_roles") or {}).get(name) != role:
            admin.write_data(f"auth/token/roles/{name}", data=dict(role))
            changed.append(f"wrote token role {name}")
    for name, role in wanted["aws_roles"].items():
        if live["aws_roles"].get(name) != role:
            writer = admin if name in vault_break_glass.PROTECTED_AWS_ROLES else client
            writer.write_data(f"auth/aws/role/{name}", data=role_request(role))
            changed.append(f"wrote AWS auth role {name}")
    for name, role in wanted["approle_roles"].items():
        if live["approle_roles"].get(name) != role:
            client.write_data(f"auth/approle/role/{name}", data=role_request(role))
            changed.append(f"wrote AppRole role {name}")
    return changed
