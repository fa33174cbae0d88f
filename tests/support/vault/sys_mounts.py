"""``sys/mounts``, ``sys/auth``, ``sys/audit``, ``sys/policy`` and ``sys/policies/acl``.

References: api-docs/system/{mounts,auth,audit,policy,policies}.  List endpoints answer in Vault's legacy
format: the table under ``data`` and copied to the top level of the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.support.vault.backend import MountEntry, unsupported_operation
from tests.support.vault.core import (
    DEFAULT_LEASE_TTL,
    JSONDict,
    Request,
    Response,
    as_bool,
    bad_request,
    envelope,
    no_content,
    not_found,
    ok,
    parse_duration,
)
from tests.support.vault.policy import PolicyParseError, parse_policy
from tests.support.vault.state import UNIMPLEMENTED_AUTH_METHODS, UNIMPLEMENTED_SECRET_ENGINES

if TYPE_CHECKING:
    from tests.support.vault.state import VaultState

AUDIT_TYPES = frozenset({"file", "syslog", "socket"})
IMPLEMENTED_SECRET_ENGINES = frozenset({"kv", "kv-v2", "kv-v1"})
IMPLEMENTED_AUTH_METHODS = frozenset({"approle", "aws"})
BUILTIN_MOUNTS = frozenset({"system", "cubbyhole", "identity"})


def legacy_response(data: JSONDict) -> Response:
    """sys list endpoints also copy their data to the top level of the body (Vault's legacy format)."""
    return Response(200, {**data, **envelope(data, mount_type="system")})


def mount_config(config: JSONDict) -> JSONDict:
    result: JSONDict = {}
    for name in ("default_lease_ttl", "max_lease_ttl"):
        if name in config:
            result[name] = parse_duration(config[name], name)
    if "force_no_cache" in config:
        result["force_no_cache"] = as_bool(config["force_no_cache"])
    return result


class MountsAPI:
    """Secrets engines (``auth=False``) and auth methods (``auth=True``) share one mount-table API."""

    def __init__(self, state: VaultState) -> None:
        self.state = state

    def mounts(self, request: Request, rest: str, operation: str) -> Response:
        return self._table_request(request, rest, operation, auth=False)

    def auth(self, request: Request, rest: str, operation: str) -> Response:
        return self._table_request(request, rest, operation, auth=True)

    def _table(self, *, auth: bool) -> dict[str, MountEntry]:
        return self.state.auth_mounts if auth else self.state.mounts

    def _table_request(self, request: Request, rest: str, operation: str, *, auth: bool) -> Response:
        table = self._table(auth=auth)
        if not rest:
            if operation != "read":
                raise unsupported_operation()
            return legacy_response({path: entry.describe(auth=auth) for path, entry in sorted(table.items())})
        tune = rest.endswith("/tune")
        path = (rest[: -len("/tune")] if tune else rest).strip("/") + "/"
        entry = table.get(path)
        shown = f"auth/{path}" if auth else path
        if tune:
            if entry is None:
                raise bad_request(f'cannot fetch sysview for path "{shown}"')
            return self._tune(request, entry, operation)
        if operation == "read":
            if entry is None:
                raise bad_request(
                    f"No auth engine at {path}" if auth else f"No secret engine mount at {path}"
                )
            return ok(entry.describe(auth=auth), mount_type="system")
        if operation == "delete":
            if entry is not None:
                self._disable(path, entry, auth=auth)
            return no_content()
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        self._enable(request, path, auth=auth)
        return no_content()

    def _enable(self, request: Request, path: str, *, auth: bool) -> None:
        state = self.state
        kind = str(request.param("type", "") or "")
        if not kind:
            raise bad_request("backend type must be specified as a string")
        if auth and kind == "token":
            raise bad_request("token credential backend cannot be instantiated")
        for existing in self._table(auth=auth):
            if path.startswith(existing) or existing.startswith(path):
                raise bad_request(f"path is already in use at {'auth/' if auth else ''}{existing}")
        implemented, unimplemented = (
            (IMPLEMENTED_AUTH_METHODS, UNIMPLEMENTED_AUTH_METHODS)
            if auth
            else (IMPLEMENTED_SECRET_ENGINES, UNIMPLEMENTED_SECRET_ENGINES)
        )
        if kind not in implemented and kind not in unimplemented:
            raise bad_request(f"plugin not found in the catalog: {kind}")
        config = request.param("config") or {}
        common: dict[str, Any] = {
            "config": mount_config(config if isinstance(config, dict) else {}),
            "local": as_bool(request.param("local"), False),
            "seal_wrap": as_bool(request.param("seal_wrap"), False),
        }
        description = str(request.param("description", "") or "")
        if auth:
            state.enable_auth(path, kind, description, **common)
        else:
            options = request.param("options")
            state.enable_mount(
                path, kind, description, options=options if isinstance(options, dict) else None, **common
            )

    def _disable(self, path: str, entry: MountEntry, *, auth: bool) -> None:
        state = self.state
        if auth:
            if entry.type == "token":
                raise bad_request("token credential backend cannot be disabled")
            state.auth_mounts.pop(path)
            state.backends.pop("auth/" + path, None)
            for token in list(state.tokens.by_id.values()):
                if token.path.startswith("auth/" + path):
                    state.tokens.revoke(token.id)
            return
        if entry.type in BUILTIN_MOUNTS:
            raise bad_request(f'cannot unmount "{path}"')
        state.mounts.pop(path)
        state.backends.pop(path, None)

    @staticmethod
    def _tune(request: Request, entry: MountEntry, operation: str) -> Response:
        if operation == "read":
            data: JSONDict = {
                "default_lease_ttl": int(entry.config.get("default_lease_ttl") or DEFAULT_LEASE_TTL),
                "max_lease_ttl": int(entry.config.get("max_lease_ttl") or DEFAULT_LEASE_TTL),
                "force_no_cache": bool(entry.config.get("force_no_cache", False)),
                "description": entry.description,
            }
            if entry.options is not None:
                data["options"] = dict(entry.options)
            return legacy_response(data)
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        entry.config.update(mount_config(request.body))
        if "description" in request.body:
            entry.description = str(request.body["description"])
        options = request.body.get("options")
        if isinstance(options, dict) and entry.type == "kv" and "version" in options:
            entry.options = {**(entry.options or {}), "version": str(options["version"])}
        return no_content()

    # --- audit devices -----------------------------------------------------------------------------------

    def audit(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        if not rest:
            if operation != "read":
                raise unsupported_operation()
            return legacy_response(
                {path: dict(device) for path, device in sorted(state.audit_devices.items())}
            )
        path = rest.strip("/") + "/"
        if operation == "delete":
            state.audit_devices.pop(path, None)
            return no_content()
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        device_type = str(request.param("type", "") or "")
        if device_type not in AUDIT_TYPES:
            raise bad_request(f'unknown backend type: "{device_type}"')
        if path in state.audit_devices:
            raise bad_request("path already in use")
        raw_options = request.param("options") or {}
        options = {str(k): str(v) for k, v in raw_options.items()} if isinstance(raw_options, dict) else {}
        if device_type == "file" and not (options.get("file_path") or options.get("path")):
            raise bad_request("file_path is required")
        if device_type == "socket" and not options.get("address"):
            raise bad_request("address is required")
        state.audit_devices[path] = {
            "type": device_type,
            "description": str(request.param("description", "") or ""),
            "options": options,
            "local": as_bool(request.param("local"), False),
            "path": path,
        }
        return no_content()

    # --- policies ----------------------------------------------------------------------------------------

    def acl_policies(self, request: Request, rest: str, operation: str) -> Response:
        """``sys/policies/acl[/:name]`` (``rest`` is what follows ``policies/``)."""
        kind, _, name = rest.partition("/")
        if kind != "acl":
            raise not_found()
        state = self.state
        name = name.strip("/").lower()
        if not name:
            if operation != "list":
                raise unsupported_operation()
            return ok({"keys": sorted([*state.policies, "root"])}, mount_type="system")
        if operation == "read":
            if name == "root":
                return ok({"name": "root", "policy": ""}, mount_type="system")
            policy = state.policies.get(name)
            if policy is None:
                raise not_found()
            return ok({"name": name, "policy": policy.text}, mount_type="system")
        return self._write_or_delete_policy(request, name, operation, legacy=False)

    def legacy_policies(self, request: Request, rest: str, operation: str) -> Response:
        """``sys/policy[/:name]``: the pre-0.9 policy API that hvac's ``create_or_update_policy`` uses."""
        state = self.state
        name = rest.strip("/").lower()
        if not name:
            if operation not in {"read", "list"}:
                raise unsupported_operation()
            names = sorted([*state.policies, "root"])
            return legacy_response({"policies": names, "keys": names})
        if operation == "read":
            if name == "root":
                return legacy_response({"name": "root", "rules": ""})
            policy = state.policies.get(name)
            if policy is None:
                raise not_found()
            return legacy_response({"name": name, "rules": policy.text})
        return self._write_or_delete_policy(request, name, operation, legacy=True)

    def _write_or_delete_policy(
        self, request: Request, name: str, operation: str, *, legacy: bool
    ) -> Response:
        state = self.state
        if operation == "delete":
            if name in {"root", "default"}:
                raise bad_request(f'cannot delete "{name}" policy')
            state.policies.pop(name, None)
            return no_content()
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        if name == "root":
            raise bad_request('cannot update "root" policy')
        text = request.param("policy")
        if text is None and legacy:
            text = request.param("rules")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("'policy' parameter not supplied or empty")
        try:
            state.policies[name] = parse_policy(name, text)
        except PolicyParseError as exc:
            raise bad_request(f"failed to parse policy: {exc}") from None
        return no_content()
