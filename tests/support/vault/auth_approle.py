"""The AppRole auth method (api-docs/auth/approle)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.vault.backend import Backend, RequestContext, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    JSONDict,
    Response,
    VaultHTTPError,
    as_bool,
    as_int,
    bad_request,
    new_uuid,
    no_content,
    not_found,
    ok,
    parse_duration,
    string_list,
)
from tests.support.vault.tokens import issue_login_token

INVALID_CREDENTIALS = "invalid role or secret ID"


def token_fields(ctx: RequestContext, existing: JSONDict) -> JSONDict:
    """Vault's common ``token_*`` role fields (tokenutil), accepting the deprecated aliases too."""
    legacy: list[str] = list(existing.get("_legacy", []))

    def pick(name: str, alias: str | None) -> Any:
        if ctx.request.has(name):
            return ctx.param(name)
        if alias and ctx.request.has(alias):
            if alias not in legacy:
                legacy.append(alias)
            return ctx.param(alias)
        return existing.get(name)

    return {
        "token_policies": [p.lower() for p in string_list(pick("token_policies", "policies"))],
        "token_ttl": parse_duration(pick("token_ttl", "ttl"), "token_ttl"),
        "token_max_ttl": parse_duration(pick("token_max_ttl", "max_ttl"), "token_max_ttl"),
        "token_period": parse_duration(pick("token_period", "period"), "token_period"),
        "token_explicit_max_ttl": parse_duration(
            pick("token_explicit_max_ttl", None), "token_explicit_max_ttl"
        ),
        "token_num_uses": as_int(pick("token_num_uses", None), "token_num_uses"),
        "token_no_default_policy": as_bool(pick("token_no_default_policy", None)),
        "token_type": str(pick("token_type", None) or "default"),
        "token_bound_cidrs": string_list(pick("token_bound_cidrs", "bound_cidrs")),
        "_legacy": legacy,
    }


def describe_token_fields(role: JSONDict) -> JSONDict:
    data = {name: role[name] for name in role if name.startswith("token_")}
    legacy_map = {"policies": "token_policies", "ttl": "token_ttl", "max_ttl": "token_max_ttl"}
    legacy_map.update({"period": "token_period", "bound_cidrs": "token_bound_cidrs"})
    for alias in role.get("_legacy", []):
        data[alias] = role[legacy_map[alias]]
    return data


class AppRoleBackend(Backend):
    type_name = "approle"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles: dict[str, JSONDict] = {}
        # secret_id -> {role, accessor, created, ttl, num_uses, metadata}
        self.secret_ids: dict[str, JSONDict] = {}

    def is_unauthenticated(self, rel: str) -> bool:
        return rel == "login"

    def exists(self, ctx: RequestContext) -> bool | None:
        parts = ctx.rel.split("/")
        if len(parts) == 2 and parts[0] == "role":
            return parts[1] in self.roles
        return None

    def handle(self, ctx: RequestContext) -> Response:
        if ctx.rel == "login":
            if ctx.operation not in {"create", "update"}:
                raise unsupported_operation()
            return self._login(ctx)
        parts = ctx.rel.rstrip("/").split("/")
        if parts == ["role"]:
            if ctx.operation != "list":
                raise unsupported_operation()
            if not self.roles:
                raise not_found()
            return ok({"keys": sorted(self.roles)}, mount_type="approle")
        if len(parts) < 2 or parts[0] != "role":
            raise unsupported_path()
        name = parts[1]
        if len(parts) == 2:
            return self._role(ctx, name)
        role = self.roles.get(name)
        if role is None:
            if ctx.operation == "read":
                raise not_found()
            raise bad_request(f'role "{name}" does not exist')
        return self._role_subpath(ctx, name, role, "/".join(parts[2:]))

    def _role_subpath(self, ctx: RequestContext, name: str, role: JSONDict, sub: str) -> Response:
        op = ctx.operation
        write = op in {"create", "update"}
        if sub == "role-id" and op == "read":
            return ok({"role_id": role["role_id"]}, mount_type="approle")
        if sub == "role-id" and write:
            new_id = str(ctx.param("role_id", "") or "")
            if not new_id:
                raise bad_request("missing role_id")
            role["role_id"] = new_id
            return no_content()
        if sub == "secret-id" and op == "list":
            accessors = sorted(e["accessor"] for e in self._live_secret_ids() if e["role"] == name)
            if not accessors:
                raise not_found()
            return ok({"keys": accessors}, mount_type="approle")
        if sub in {"secret-id", "custom-secret-id"} and write:
            return self._generate_secret_id(ctx, name, role, custom=sub == "custom-secret-id")
        if sub in {"role-id", "secret-id", "custom-secret-id"}:
            raise unsupported_operation()
        raise unsupported_path()

    # --- roles -------------------------------------------------------------------------------------------

    def _role(self, ctx: RequestContext, name: str) -> Response:
        op = ctx.operation
        if op == "read":
            stored = self.roles.get(name)
            if stored is None:
                raise not_found()
            role = stored
            data = {
                "bind_secret_id": role["bind_secret_id"],
                "local_secret_ids": role["local_secret_ids"],
                "secret_id_bound_cidrs": role["secret_id_bound_cidrs"],
                "secret_id_num_uses": role["secret_id_num_uses"],
                "secret_id_ttl": role["secret_id_ttl"],
            }
            data.update(describe_token_fields(role))
            return ok(data, mount_type="approle")
        if op == "delete":
            if self.roles.pop(name, None) is not None:
                self.secret_ids = {k: v for k, v in self.secret_ids.items() if v["role"] != name}
            return no_content()
        if op not in {"create", "update"}:
            raise unsupported_operation()
        existing = self.roles.get(name, {})
        updated: JSONDict = {
            "role_id": existing.get("role_id") or str(ctx.param("role_id", "") or "") or new_uuid(),
            "bind_secret_id": as_bool(ctx.param("bind_secret_id", existing.get("bind_secret_id")), True),
            "local_secret_ids": as_bool(
                ctx.param("local_secret_ids", existing.get("local_secret_ids")), False
            ),
            "secret_id_bound_cidrs": string_list(
                ctx.param("secret_id_bound_cidrs", existing.get("secret_id_bound_cidrs"))
            ),
            "secret_id_num_uses": as_int(
                ctx.param("secret_id_num_uses", existing.get("secret_id_num_uses")), "secret_id_num_uses"
            ),
            "secret_id_ttl": parse_duration(
                ctx.param("secret_id_ttl", existing.get("secret_id_ttl")), "secret_id_ttl"
            ),
        }
        updated.update(token_fields(ctx, existing))
        if (
            not updated["bind_secret_id"]
            and not updated["secret_id_bound_cidrs"]
            and not updated["token_bound_cidrs"]
        ):
            raise bad_request("at least one constraint should be enabled on the role")
        self.roles[name] = updated
        return no_content()

    # --- secret ids --------------------------------------------------------------------------------------

    def _live_secret_ids(self) -> list[JSONDict]:
        now = self.state.clock.now()
        live = []
        for secret_id, entry in list(self.secret_ids.items()):
            if entry["ttl"] and now >= entry["created"] + entry["ttl"]:
                del self.secret_ids[secret_id]
                continue
            live.append(entry)
        return live

    def _generate_secret_id(
        self, ctx: RequestContext, name: str, role: JSONDict, *, custom: bool
    ) -> Response:
        secret_id = str(ctx.param("secret_id", "") or "") if custom else new_uuid()
        if custom and not secret_id:
            raise bad_request("missing secret_id")
        metadata_raw = ctx.param("metadata")
        metadata: dict[str, str] = {}
        if isinstance(metadata_raw, str) and metadata_raw:
            try:
                metadata = {str(k): str(v) for k, v in json.loads(metadata_raw).items()}
            except (ValueError, AttributeError):
                raise bad_request("failed to parse metadata: expected a JSON object of strings") from None
        elif isinstance(metadata_raw, dict):
            metadata = {str(k): str(v) for k, v in metadata_raw.items()}
        ttl = parse_duration(ctx.param("ttl"), "ttl") or role["secret_id_ttl"]
        num_uses = as_int(ctx.param("num_uses"), "num_uses") or role["secret_id_num_uses"]
        entry = {
            "role": name,
            "accessor": new_uuid(),
            "created": self.state.clock.now(),
            "ttl": ttl,
            "num_uses": num_uses,
            "metadata": metadata,
        }
        self.secret_ids[secret_id] = entry
        return ok(
            {
                "secret_id": secret_id,
                "secret_id_accessor": entry["accessor"],
                "secret_id_ttl": ttl,
                "secret_id_num_uses": num_uses,
            },
            mount_type="approle",
        )

    # --- login -------------------------------------------------------------------------------------------

    def _login(self, ctx: RequestContext) -> Response:
        role_id = str(ctx.param("role_id", "") or "").strip()
        if not role_id:
            # A plain error from the login handler: Vault answers 500 without the multierror wrapper.
            raise VaultHTTPError(500, "missing role_id")
        match = [(name, role) for name, role in self.roles.items() if role["role_id"] == role_id]
        if not match:
            raise bad_request(INVALID_CREDENTIALS)
        name, role = match[0]
        metadata = {"role_name": name}
        if role["bind_secret_id"]:
            secret_id = str(ctx.param("secret_id", "") or "")
            self._live_secret_ids()
            entry = self.secret_ids.get(secret_id)
            if entry is None or entry["role"] != name:
                raise bad_request(INVALID_CREDENTIALS)
            if entry["num_uses"]:
                entry["num_uses"] -= 1
                if entry["num_uses"] == 0:
                    del self.secret_ids[secret_id]
            metadata.update(entry["metadata"])
        return issue_login_token(
            ctx,
            policies=role["token_policies"],
            no_default_policy=role["token_no_default_policy"],
            ttl=role["token_ttl"],
            max_ttl=role["token_max_ttl"] or role["token_explicit_max_ttl"],
            period=role["token_period"],
            num_uses=role["token_num_uses"],
            display_name="approle",
            metadata=metadata,
        )

    # --- snapshots ---------------------------------------------------------------------------------------

    def export(self) -> JSONDict:
        return {"roles": self.roles, "secret_ids": self.secret_ids}
