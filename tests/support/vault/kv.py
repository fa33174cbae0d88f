"""The KV secrets engine, version 2 (api-docs/secret/kv/kv-v2) and a minimal version 1.

Behaviour follows hashicorp/vault-plugin-secrets-kv: ``path_data.go`` (read/write/patch/delete, the
check-and-set texts, 404-with-metadata for deleted or destroyed versions), ``path_metadata.go`` and the
``AddVersion`` sliding window (``max_versions``: key setting, else mount config, else 10).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.vault.backend import Backend, RequestContext, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    JSONDict,
    Response,
    VaultHTTPError,
    as_bool,
    as_int,
    bad_request,
    envelope,
    format_go_duration,
    no_content,
    not_found,
    ok,
    parse_duration,
    rfc3339,
)

DEFAULT_MAX_VERSIONS = 10
CAS_MISMATCH = "check-and-set parameter did not match the current version"
CAS_REQUIRED = "check-and-set parameter required for this call"


@dataclass
class KVVersion:
    data: JSONDict | None
    created_time: float
    deletion_time: float | None = None
    destroyed: bool = False


@dataclass
class KVKey:
    created_time: float
    updated_time: float
    versions: dict[int, KVVersion] = field(default_factory=dict)
    current_version: int = 0
    oldest_version: int = 0
    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: int = 0
    custom_metadata: dict[str, str] | None = None

    def to_json(self) -> JSONDict:
        return {
            "created_time": self.created_time,
            "updated_time": self.updated_time,
            "versions": {
                str(n): {
                    "data": v.data,
                    "created_time": v.created_time,
                    "deletion_time": v.deletion_time,
                    "destroyed": v.destroyed,
                }
                for n, v in self.versions.items()
            },
            "current_version": self.current_version,
            "oldest_version": self.oldest_version,
            "max_versions": self.max_versions,
            "cas_required": self.cas_required,
            "delete_version_after": self.delete_version_after,
            "custom_metadata": self.custom_metadata,
        }


class KVBackend(Backend):
    type_name = "kv"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys: dict[str, KVKey] = {}
        self.v1: dict[str, JSONDict] = {}
        self.config: JSONDict = {"max_versions": 0, "cas_required": False, "delete_version_after": 0}

    @property
    def version(self) -> int:
        options = self.mount.options or {}
        return 2 if str(options.get("version", "1")) == "2" else 1

    # --- dispatch ----------------------------------------------------------------------------------------

    def exists(self, ctx: RequestContext) -> bool | None:
        if self.version == 1:
            return ctx.rel in self.v1
        api, _, key = ctx.rel.partition("/")
        if api in {"data", "metadata"}:
            return key in self.keys
        return None

    def _routes(self) -> dict[str, dict[str, Callable[[RequestContext, str], Response]]]:
        """API -> operation -> handler; ``write`` stands for create and update."""
        return {
            "data": {
                "read": self._read,
                "write": self._write,
                "delete": lambda _, key: self._delete_latest(key),
            },
            "metadata": {
                "list": lambda _, key: self._list(key),
                "read": lambda _, key: self._read_metadata(key),
                "write": self._write_metadata,
                "patch": self._patch_metadata,
                "delete": lambda _, key: self._delete_metadata(key),
            },
        }

    def handle(self, ctx: RequestContext) -> Response:
        if self.version == 1:
            return self._handle_v1(ctx)
        api, _, key = ctx.rel.partition("/")
        op = "write" if ctx.operation in {"create", "update"} else ctx.operation
        routes = self._routes().get(api)
        if routes is None or (op != "list" and (not key or key.endswith("/"))):
            raise unsupported_path()
        handler = routes.get(op)
        if handler is None:
            raise unsupported_operation()
        return handler(ctx, key)

    def _delete_metadata(self, path: str) -> Response:
        self.keys.pop(path, None)
        return no_content()

    # --- data --------------------------------------------------------------------------------------------

    def _deleted(self, version: KVVersion) -> bool:
        return version.deletion_time is not None and version.deletion_time <= self.state.clock.now()

    def _version_metadata(self, key: KVKey, number: int, version: KVVersion) -> JSONDict:
        return {
            "version": number,
            "created_time": rfc3339(version.created_time),
            "deletion_time": rfc3339(version.deletion_time),
            "destroyed": version.destroyed,
            "custom_metadata": dict(key.custom_metadata) if key.custom_metadata else None,
        }

    def _read(self, ctx: RequestContext, path: str) -> Response:
        key = self.keys.get(path)
        if key is None:
            raise not_found()
        number = as_int(ctx.param("version"), "version") or key.current_version
        version = key.versions.get(number)
        if version is None:
            raise not_found()
        data = {"data": None, "metadata": self._version_metadata(key, number, version)}
        if self._deleted(version) or version.destroyed:
            # path_data.go: RespondWithStatusCode(resp, req, 404) -- the full response, metadata included.
            raise VaultHTTPError(404, body=envelope(data, mount_type="kv"))
        data["data"] = copy.deepcopy(version.data)
        return ok(data, mount_type="kv")

    def _check_cas(self, ctx: RequestContext, key: KVKey) -> None:
        options = ctx.param("options")
        if isinstance(options, dict) and "cas" in options:
            try:
                cas = int(options["cas"])
            except (TypeError, ValueError):
                raise bad_request("error parsing check-and-set parameter") from None
            if cas != key.current_version:
                raise bad_request(CAS_MISMATCH)
        elif self.config["cas_required"] or key.cas_required:
            raise bad_request(CAS_REQUIRED)

    def _add_version(self, path: str, key: KVKey, data: JSONDict) -> Response:
        now = self.state.clock.now()
        after = key.delete_version_after or self.config["delete_version_after"]
        if key.delete_version_after and self.config["delete_version_after"]:
            after = min(key.delete_version_after, self.config["delete_version_after"])
        version = KVVersion(
            data=copy.deepcopy(data), created_time=now, deletion_time=(now + after) if after else None
        )
        key.current_version += 1
        key.versions[key.current_version] = version
        key.updated_time = now
        self.keys[path] = key
        max_versions = key.max_versions or self.config["max_versions"] or DEFAULT_MAX_VERSIONS
        if key.current_version - key.oldest_version >= max_versions:
            to_delete = key.current_version - max_versions
            for number in range(key.oldest_version, to_delete + 1):
                key.versions.pop(number, None)
            key.oldest_version = to_delete + 1
        meta = self._version_metadata(key, key.current_version, version)
        return ok(meta, mount_type="kv")

    def _write(self, ctx: RequestContext, path: str) -> Response:
        data = ctx.request.body.get("data")
        if not isinstance(data, dict):
            raise bad_request("no data provided")
        now = self.state.clock.now()
        key = self.keys.get(path) or KVKey(created_time=now, updated_time=now)
        self._check_cas(ctx, key)
        return self._add_version(path, key, data)

    def _delete_latest(self, path: str) -> Response:
        key = self.keys.get(path)
        if key is not None:
            latest = key.versions.get(key.current_version)
            if latest is not None and not latest.destroyed and not self._deleted(latest):
                latest.deletion_time = self.state.clock.now()
        return no_content()

    # --- metadata ----------------------------------------------------------------------------------------

    def _list(self, prefix: str) -> Response:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        children: set[str] = set()
        for path in self.keys:
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            head, slash, _ = rest.partition("/")
            children.add(head + "/" if slash else head)
        if not children:
            raise not_found()
        return ok({"keys": sorted(children)}, mount_type="kv")

    def _read_metadata(self, path: str) -> Response:
        key = self.keys.get(path)
        if key is None:
            raise not_found()
        versions = {
            str(n): {
                "created_time": rfc3339(v.created_time),
                "deletion_time": rfc3339(v.deletion_time),
                "destroyed": v.destroyed,
            }
            for n, v in sorted(key.versions.items())
        }
        return ok(
            {
                "cas_required": key.cas_required,
                "created_time": rfc3339(key.created_time),
                "current_version": key.current_version,
                "custom_metadata": dict(key.custom_metadata) if key.custom_metadata else None,
                "delete_version_after": format_go_duration(key.delete_version_after),
                "max_versions": key.max_versions,
                "oldest_version": key.oldest_version,
                "updated_time": rfc3339(key.updated_time),
                "versions": versions,
            },
            mount_type="kv",
        )

    @staticmethod
    def _custom_metadata(raw: Any) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise bad_request("custom_metadata validation failed: expected a map of strings")
        if len(raw) > 64:
            raise bad_request(
                "custom_metadata validation failed: payload must contain at most 64 keys, "
                f"provided {len(raw)}"
            )
        return {str(k): str(v) for k, v in raw.items() if v is not None}

    def _apply_metadata(self, ctx: RequestContext, key: KVKey) -> None:
        if ctx.request.has("max_versions"):
            key.max_versions = as_int(ctx.param("max_versions"), "max_versions")
        if ctx.request.has("cas_required"):
            key.cas_required = as_bool(ctx.param("cas_required"))
        if ctx.request.has("delete_version_after"):
            key.delete_version_after = parse_duration(
                ctx.param("delete_version_after"), "delete_version_after"
            )

    def _write_metadata(self, ctx: RequestContext, path: str) -> Response:
        fields = ("max_versions", "cas_required", "delete_version_after", "custom_metadata")
        if not any(ctx.request.has(name) for name in fields):
            return no_content()  # path_metadata.go "fast path": nothing to write, nothing created
        now = self.state.clock.now()
        key = self.keys.get(path) or KVKey(created_time=now, updated_time=now)
        self._apply_metadata(ctx, key)
        if ctx.request.has("custom_metadata"):
            key.custom_metadata = self._custom_metadata(ctx.param("custom_metadata"))
        self.keys[path] = key
        warnings = None
        if ctx.request.has("cas_required") and self.config["cas_required"] and not key.cas_required:
            warnings = [
                '"cas_required" set to false, but is mandated by backend config. This value will be ignored.'
            ]
        return Response(200, envelope(None, warnings=warnings)) if warnings else no_content()

    def _patch_metadata(self, ctx: RequestContext, path: str) -> Response:
        key = self.keys.get(path)
        if key is None:
            raise not_found()
        self._apply_metadata(ctx, key)
        if ctx.request.has("custom_metadata"):
            raw = ctx.param("custom_metadata")
            merged = dict(key.custom_metadata or {})
            if isinstance(raw, dict):
                for name, value in raw.items():
                    if value is None:
                        merged.pop(str(name), None)
                    else:
                        merged[str(name)] = str(value)
            key.custom_metadata = merged
        return no_content()

    # --- KV version 1 ------------------------------------------------------------------------------------

    def _handle_v1(self, ctx: RequestContext) -> Response:
        path = ctx.rel
        op = ctx.operation
        if op == "list":
            prefix = path if not path or path.endswith("/") else path + "/"
            children = {
                (rest.partition("/")[0] + "/") if "/" in rest else rest
                for rest in (p[len(prefix) :] for p in self.v1 if p.startswith(prefix))
            }
            if not children:
                raise not_found()
            return ok({"keys": sorted(children)}, mount_type="kv")
        if not path:
            raise unsupported_path()
        if op == "read":
            if path not in self.v1:
                raise not_found()
            return ok(copy.deepcopy(self.v1[path]), lease_duration=DEFAULT_V1_LEASE, mount_type="kv")
        if op in {"create", "update"}:
            if not ctx.request.body:
                raise bad_request("missing data fields")
            self.v1[path] = copy.deepcopy(ctx.request.body)
            return no_content()
        if op == "delete":
            self.v1.pop(path, None)
            return no_content()
        raise unsupported_operation()

    # --- snapshots ---------------------------------------------------------------------------------------

    def export(self) -> JSONDict:
        return {
            "config": dict(self.config),
            "keys": {path: key.to_json() for path, key in self.keys.items()},
            "v1": copy.deepcopy(self.v1),
        }


#: KV v1 reads carry the mount's default lease duration (768h) as a refresh hint.
DEFAULT_V1_LEASE = 768 * 3600
