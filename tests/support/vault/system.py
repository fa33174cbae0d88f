"""The ``sys/`` endpoints: seal/init/health/leader, mounts, auth methods, audit devices, policies, leases,
capabilities and integrated storage (Raft).

References: api-docs/system/{health,init,seal-status,unseal,leader,mounts,auth,audit,policy,policies,leases,
capabilities-self}, api-docs/system/storage/{raft,raftautopilot}; http/sys_health.go and http/sys_init.go for
the status-code and validation logic; vault/logical_system.go for which paths need ``sudo``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import TYPE_CHECKING

from tests.support.vault.backend import MountEntry, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    DEFAULT_LEASE_TTL,
    VAULT_VERSION,
    JSONDict,
    Request,
    Response,
    VaultHTTPError,
    as_bool,
    bad_request,
    envelope,
    no_content,
    not_found,
    ok,
    parse_duration,
    raw_json,
    rfc3339,
)
from tests.support.vault.policy import ACL, PolicyParseError, parse_policy
from tests.support.vault.state import UNIMPLEMENTED_AUTH_METHODS, UNIMPLEMENTED_SECRET_ENGINES

if TYPE_CHECKING:
    from tests.support.vault.state import VaultState
    from tests.support.vault.tokens import TokenEntry

BUILD_DATE = "2024-09-25T14:22:00Z"
SEALED = "Vault is sealed"
#: sys paths reachable without a token (and, except where noted, while sealed).
UNAUTHENTICATED = frozenset({"health", "seal-status", "init", "unseal", "leader"})
#: sys paths that need ``sudo`` (vault/logical_system.go PathsSpecial.Root), as globs under ``sys/``.
SUDO_PATHS = (
    "auth/*",
    "audit",
    "audit/*",
    "remount",
    "rotate",
    "seal",
    "step-down",
    "leases",
    "leases/lookup/*",
    "leases/revoke-prefix/*",
    "leases/revoke-force/*",
    "raw",
    "raw/*",
    "config/auditing/*",
    "plugins/catalog/*",
)
AUDIT_TYPES = frozenset({"file", "syslog", "socket"})


def needs_sudo(rel: str) -> bool:
    for pattern in SUDO_PATHS:
        if pattern.endswith("*"):
            if rel.startswith(pattern[:-1]):
                return True
        elif rel.rstrip("/") == pattern:
            return True
    return False


# --- seal and initialisation ------------------------------------------------------------------------------


def _validate_seal_config(shares: int, threshold: int, pgp_keys: list[str]) -> str | None:
    """vault/seal_config.go ``SealConfig.Validate``."""
    if shares < 1:
        return "shares must be at least one"
    if threshold < 1:
        return "threshold must be at least one"
    if shares > 1 and threshold == 1:
        return "threshold must be greater than one for multiple shares"
    if shares > 255:
        return "shares must be less than 256"
    if threshold > 255:
        return "threshold must be less than 256"
    if threshold > shares:
        return "threshold cannot be larger than shares"
    if pgp_keys and len(pgp_keys) != shares:
        return "count mismatch between number of provided PGP keys and number of shares"
    for key in pgp_keys:
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as exc:
            return f"error decoding given PGP key: {exc}"
    return None


def _encode_shares(shares: list[bytes], pgp_keys: list[str]) -> tuple[list[str], list[str]]:
    """Hex and base64 forms; with PGP keys, an opaque stand-in for each share "encrypted" to its key."""
    if pgp_keys:
        shares = [
            b"pgp-encrypted:" + hashlib.sha256(key.encode() + share).digest()
            for key, share in zip(pgp_keys, shares, strict=True)
        ]
    return [s.hex() for s in shares], [base64.b64encode(s).decode() for s in shares]


class SystemBackend:
    """Handles every ``sys/...`` request; ``rel`` is the path after ``sys/``."""

    def __init__(self, state: VaultState) -> None:
        self.state = state

    # --- status documents --------------------------------------------------------------------------------

    def seal_status(self) -> JSONDict:
        state = self.state
        seal = state.seal
        status: JSONDict = {
            "type": seal.seal_type,
            "initialized": state.initialized,
            "sealed": state.sealed,
            "t": seal.threshold,
            "n": seal.shares,
            "progress": len(state.unseal_progress),
            "nonce": state.unseal_nonce,
            "version": VAULT_VERSION,
            "build_date": BUILD_DATE,
            "migration": False,
            "recovery_seal": seal.auto_unseal,
            "storage_type": "raft",
        }
        if not state.sealed:
            status["cluster_name"] = state.cluster_name
            status["cluster_id"] = state.cluster_id
        return status

    def health(self, request: Request) -> Response:
        """http/sys_health.go ``getSysHealth``: status code by state, overridable per query parameter."""
        state = self.state
        query = request.query
        flags: dict[str, bool] = {}
        for name in ("standbyok", "perfstandbyok"):
            if name in query:
                try:
                    flags[name] = as_bool(query[name][0])
                except VaultHTTPError:
                    return Response(400, {"errors": []})
        codes = {
            "uninitcode": 501,
            "sealedcode": 503,
            "standbycode": 429,
            "activecode": 200,
            "drsecondarycode": 472,
            "performancestandbycode": 473,
        }
        for name in codes:
            if name in query:
                try:
                    codes[name] = int(query[name][0])
                except ValueError:
                    return Response(400, {"errors": []})
        code = codes["activecode"]
        if not state.initialized:
            code = codes["uninitcode"]
        elif state.sealed:
            code = codes["sealedcode"]
        elif state.dr_secondary:
            code = codes["drsecondarycode"]
        elif state.performance_standby:
            if not flags.get("perfstandbyok"):
                code = codes["performancestandbycode"]
        elif state.standby and not flags.get("standbyok"):
            code = codes["standbycode"]
        body: JSONDict = {
            "initialized": state.initialized,
            "sealed": state.sealed,
            "standby": state.standby or state.performance_standby,
            "performance_standby": state.performance_standby,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "secondary" if state.dr_secondary else "disabled",
            "server_time_utc": int(state.clock.now()),
            "version": VAULT_VERSION,
        }
        if not state.sealed:
            body["cluster_name"] = state.cluster_name
            body["cluster_id"] = state.cluster_id
        if request.method == "HEAD":
            return Response(code, None, headers={"Content-Type": "application/json"})
        return raw_json(code, body)

    def note_status_poll(self) -> None:
        """An auto-unseal node finishes unsealing after a configured number of status polls."""
        state = self.state
        if (
            state.initialized
            and state.sealed
            and state.seal.auto_unseal
            and state.auto_unseal_polls_needed > 0
        ):
            state.auto_unseal_polls_seen += 1
            if state.auto_unseal_polls_seen >= state.auto_unseal_polls_needed:
                state.sealed = False
                state.auto_unseal_polls_needed = 0

    def initialize(self, request: Request) -> Response:
        """http/sys_init.go ``handleSysInitPut`` + ``validateInitParameters``."""
        state = self.state
        body = request.body

        def count(name: str) -> int:
            value = body.get(name)
            return int(value) if value else 0

        def key_list(name: str) -> list[str]:
            value = body.get(name)
            return [str(v) for v in value] if isinstance(value, list) else []

        secret_shares, secret_threshold = count("secret_shares"), count("secret_threshold")
        stored_shares = count("stored_shares")
        pgp_keys = key_list("pgp_keys")
        recovery_shares, recovery_threshold = count("recovery_shares"), count("recovery_threshold")
        recovery_pgp_keys = key_list("recovery_pgp_keys")
        barrier_flags = bool(secret_shares or secret_threshold or stored_shares or pgp_keys)
        recovery_flags = bool(recovery_shares or recovery_threshold or recovery_pgp_keys)
        if state.seal.auto_unseal and barrier_flags:
            raise bad_request("parameters not specific to auto unseal seals present")
        if not state.seal.auto_unseal and recovery_flags:
            raise bad_request("parameters specific to auto unseal seals present")
        if state.initialized:
            raise bad_request("Vault is already initialized")
        if state.seal.auto_unseal:
            problem = _validate_seal_config(recovery_shares, recovery_threshold, recovery_pgp_keys)
            if problem:
                raise bad_request(f"invalid recovery configuration: {problem}")
            shares, threshold, pgp = recovery_shares, recovery_threshold, recovery_pgp_keys
        else:
            problem = _validate_seal_config(secret_shares, secret_threshold, pgp_keys)
            if problem:
                raise bad_request(f"invalid seal configuration: {problem}")
            shares, threshold, pgp = secret_shares, secret_threshold, pgp_keys
        keys = [secrets.token_bytes(33) for _ in range(shares)]
        state.seal.shares, state.seal.threshold, state.seal.keys = shares, threshold, keys
        state.initialized = True
        root = state.tokens.create(policies=["root"], path="auth/token/root", display_name="root")
        state.root_token = root.id
        hex_keys, b64_keys = _encode_shares(keys, pgp)
        response: JSONDict = {"keys": [], "keys_base64": [], "root_token": root.id}
        if state.seal.auto_unseal:
            response["recovery_keys"], response["recovery_keys_base64"] = hex_keys, b64_keys
            if state.auto_unseal_polls_needed <= 0:
                state.sealed = False
            state.auto_unseal_polls_seen = 0
        else:
            response["keys"], response["keys_base64"] = hex_keys, b64_keys
            state.sealed = True
        return raw_json(200, response)

    def unseal(self, request: Request) -> Response:
        state = self.state
        body = request.body
        if not state.initialized:
            raise bad_request("Vault is not initialized")
        if as_bool(body.get("reset"), False):
            state.unseal_progress = []
            state.unseal_nonce = ""
            return raw_json(200, self.seal_status())
        key_text = str(body.get("key") or "")
        if not key_text:
            raise bad_request("'key' must be specified in request body as JSON, or 'reset' set to true")
        if not state.sealed:
            return raw_json(200, self.seal_status())
        if state.seal.auto_unseal:
            raise bad_request(
                "vault test server: sys/unseal with recovery keys (seal migration) is not implemented"
            )
        key: bytes | None = None
        try:
            key = bytes.fromhex(key_text)
        except ValueError:
            try:
                key = base64.b64decode(key_text, validate=True)
            except (binascii.Error, ValueError):
                raise bad_request("'key' must be a valid hex or base64 string") from None
        if key not in state.seal.keys:
            raise bad_request("vault test server: that key is not one of the unseal keys issued at init")
        if not state.unseal_progress:
            state.unseal_nonce = secrets.token_hex(16)
        if key not in state.unseal_progress:
            state.unseal_progress.append(key)
        if len(state.unseal_progress) >= state.seal.threshold:
            state.sealed = False
            state.unseal_progress = []
            state.unseal_nonce = ""
        return raw_json(200, self.seal_status())

    def leader(self) -> Response:
        state = self.state
        if state.sealed:
            raise VaultHTTPError(503, SEALED)
        active = not state.standby and not state.performance_standby
        leader_address = state.api_address if active else state.leader_api_address
        return raw_json(
            200,
            {
                "ha_enabled": True,
                "is_self": active,
                "active_time": rfc3339(state.active_time) if active else "0001-01-01T00:00:00Z",
                "leader_address": leader_address,
                "leader_cluster_address": leader_address.replace(":8200", ":8201") if leader_address else "",
                "performance_standby": state.performance_standby,
                "performance_standby_last_remote_wal": 0,
                "raft_committed_index": state.raft.index,
                "raft_applied_index": state.raft.index,
            },
        )

    # --- dispatch ----------------------------------------------------------------------------------------

    def handle(self, request: Request, rel: str, operation: str, token: TokenEntry | None) -> Response:
        state = self.state
        method = request.method
        write = operation in {"create", "update"}
        if rel == "health":
            if method not in {"GET", "HEAD"}:
                raise VaultHTTPError(405)
            self.note_status_poll()
            return self.health(request)
        if rel == "seal-status":
            if method != "GET":
                raise VaultHTTPError(405)
            self.note_status_poll()
            return raw_json(200, self.seal_status())
        if rel == "init":
            if method == "GET":
                return raw_json(200, {"initialized": state.initialized})
            if method in {"PUT", "POST"}:
                return self.initialize(request)
            raise VaultHTTPError(405)
        if rel == "unseal":
            if method not in {"PUT", "POST"}:
                raise VaultHTTPError(405)
            return self.unseal(request)
        if rel == "leader":
            if method != "GET":
                raise VaultHTTPError(405)
            return self.leader()
        if rel == "seal":
            if not write:
                raise VaultHTTPError(405)
            state.sealed = True
            state.unseal_progress = []
            return no_content()
        if rel == "step-down":
            if not write:
                raise VaultHTTPError(405)
            state.standby = True
            return no_content()
        head, _, rest = rel.partition("/")
        if head == "mounts":
            return self._mounts(request, rest, operation)
        if head == "auth":
            return self._auth(request, rest, operation)
        if head == "audit":
            return self._audit(request, rest, operation)
        if head == "policy":
            return self._legacy_policy(request, rest, operation)
        if head == "policies" and rest.startswith("acl"):
            return self._acl_policy(request, rest[len("acl") :].lstrip("/"), operation)
        if head == "leases":
            return self._leases(request, rest, operation)
        if rel == "capabilities-self":
            return self._capabilities_self(request, token)
        if head == "storage" and rest.startswith("raft/"):
            return self._raft(request, rest[len("raft/") :], operation)
        raise unsupported_path()

    # --- mounts ------------------------------------------------------------------------------------------

    def _mount_table(self, *, auth: bool) -> JSONDict:
        table = self.state.auth_mounts if auth else self.state.mounts
        return {path: entry.describe(auth=auth) for path, entry in sorted(table.items())}

    def _legacy_response(self, data: JSONDict) -> Response:
        """sys list endpoints also copy their data to the top level of the body (Vault's legacy format)."""
        return Response(200, {**data, **envelope(data, mount_type="system")})

    def _mounts(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        if not rest:
            if operation != "read":
                raise unsupported_operation()
            return self._legacy_response(self._mount_table(auth=False))
        tune = rest.endswith("/tune")
        path = (rest[: -len("/tune")] if tune else rest).strip("/") + "/"
        entry = state.mounts.get(path)
        if tune:
            if entry is None:
                raise bad_request(f"cannot fetch sysview for path {path!r}".replace("'", '"'))
            return self._tune(request, entry, operation)
        if operation == "read":
            if entry is None:
                raise bad_request(f"No secret engine mount at {path}")
            return ok(entry.describe(auth=False), mount_type="system")
        if operation == "delete":
            if entry is not None and entry.type in {"system", "cubbyhole", "identity"}:
                raise bad_request(f"cannot unmount {path!r}".replace("'", '"'))
            if entry is not None:
                state.mounts.pop(path)
                state.backends.pop(path, None)
                for lease_id in [lid for lid, lease in state.leases.items() if lease.mount_path == path]:
                    state.revoke_lease(lease_id)
            return no_content()
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        mount_type = str(request.param("type", "") or "")
        if not mount_type:
            raise bad_request("backend type must be specified as a string")
        for existing in state.mounts:
            if path.startswith(existing) or existing.startswith(path):
                raise bad_request(f"path is already in use at {existing}")
        if (
            mount_type not in {"kv", "kv-v2", "kv-v1", "database"}
            and mount_type not in UNIMPLEMENTED_SECRET_ENGINES
        ):
            raise bad_request(f"plugin not found in the catalog: {mount_type}")
        config = request.param("config") or {}
        options = request.param("options")
        state.enable_mount(
            path,
            mount_type,
            str(request.param("description", "") or ""),
            options=options if isinstance(options, dict) else None,
            config=self._mount_config(config if isinstance(config, dict) else {}),
            local=as_bool(request.param("local"), False),
            seal_wrap=as_bool(request.param("seal_wrap"), False),
        )
        return no_content()

    @staticmethod
    def _mount_config(config: JSONDict) -> JSONDict:
        result: JSONDict = {}
        for name in ("default_lease_ttl", "max_lease_ttl"):
            if name in config:
                result[name] = parse_duration(config[name], name)
        if "force_no_cache" in config:
            result["force_no_cache"] = as_bool(config["force_no_cache"])
        return result

    def _tune(self, request: Request, entry: MountEntry, operation: str) -> Response:
        if operation == "read":
            data: JSONDict = {
                "default_lease_ttl": int(entry.config.get("default_lease_ttl") or DEFAULT_LEASE_TTL),
                "max_lease_ttl": int(entry.config.get("max_lease_ttl") or DEFAULT_LEASE_TTL),
                "force_no_cache": bool(entry.config.get("force_no_cache", False)),
                "description": entry.description,
            }
            if entry.options is not None:
                data["options"] = dict(entry.options)
            return self._legacy_response(data)
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        entry.config.update(self._mount_config(request.body))
        if "description" in request.body:
            entry.description = str(request.body["description"])
        options = request.body.get("options")
        if isinstance(options, dict) and entry.type == "kv" and "version" in options:
            entry.options = {**(entry.options or {}), "version": str(options["version"])}
        return no_content()

    # --- auth methods ------------------------------------------------------------------------------------

    def _auth(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        if not rest:
            if operation != "read":
                raise unsupported_operation()
            return self._legacy_response(self._mount_table(auth=True))
        tune = rest.endswith("/tune")
        path = (rest[: -len("/tune")] if tune else rest).strip("/") + "/"
        entry = state.auth_mounts.get(path)
        if tune:
            if entry is None:
                raise bad_request(f'cannot fetch sysview for path "auth/{path}"')
            return self._tune(request, entry, operation)
        if operation == "read":
            if entry is None:
                raise bad_request(f"No auth engine at {path}")
            return ok(entry.describe(auth=True), mount_type="system")
        if operation == "delete":
            if entry is not None and entry.type == "token":
                raise bad_request("token credential backend cannot be disabled")
            if entry is not None:
                state.auth_mounts.pop(path)
                state.backends.pop("auth/" + path, None)
                for token in list(state.tokens.by_id.values()):
                    if token.path.startswith("auth/" + path):
                        state.tokens.revoke(token.id)
            return no_content()
        if operation not in {"create", "update"}:
            raise unsupported_operation()
        method_type = str(request.param("type", "") or "")
        if not method_type:
            raise bad_request("backend type must be specified as a string")
        if method_type == "token":
            raise bad_request("token credential backend cannot be instantiated")
        for existing in state.auth_mounts:
            if path.startswith(existing) or existing.startswith(path):
                raise bad_request(f"path is already in use at auth/{existing}")
        if method_type not in {"approle", "aws"} and method_type not in UNIMPLEMENTED_AUTH_METHODS:
            raise bad_request(f"plugin not found in the catalog: {method_type}")
        config = request.param("config") or {}
        state.enable_auth(
            path,
            method_type,
            str(request.param("description", "") or ""),
            config=self._mount_config(config if isinstance(config, dict) else {}),
            local=as_bool(request.param("local"), False),
            seal_wrap=as_bool(request.param("seal_wrap"), False),
        )
        return no_content()

    # --- audit devices -----------------------------------------------------------------------------------

    def _audit(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        if not rest:
            if operation != "read":
                raise unsupported_operation()
            return self._legacy_response(
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

    def _acl_policy(self, request: Request, name: str, operation: str) -> Response:
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
        return self._write_or_delete_policy(request, name, operation, field="policy")

    def _legacy_policy(self, request: Request, name: str, operation: str) -> Response:
        state = self.state
        name = name.strip("/").lower()
        if not name:
            if operation not in {"read", "list"}:
                raise unsupported_operation()
            names = sorted([*state.policies, "root"])
            return self._legacy_response({"policies": names, "keys": names})
        if operation == "read":
            policy = state.policies.get(name)
            if name == "root":
                return self._legacy_response({"name": "root", "rules": ""})
            if policy is None:
                raise not_found()
            return self._legacy_response({"name": name, "rules": policy.text})
        return self._write_or_delete_policy(request, name, operation, field="rules")

    def _write_or_delete_policy(self, request: Request, name: str, operation: str, *, field: str) -> Response:
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
        if text is None and field == "rules":
            text = request.param("rules")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("'policy' parameter not supplied or empty")
        try:
            state.policies[name] = parse_policy(name, text)
        except PolicyParseError as exc:
            raise bad_request(f"failed to parse policy: {exc}") from None
        return no_content()

    # --- leases ------------------------------------------------------------------------------------------

    def _leases(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        lease_id = str(request.param("lease_id", "") or request.param("url_lease_id", "") or "")
        if rest == "lookup":
            if operation not in {"create", "update"}:
                raise unsupported_operation()
            lease = state.live_lease(lease_id)
            if lease is None:
                raise bad_request("invalid lease")
            now = state.clock.now()
            return ok(
                {
                    "id": lease.id,
                    "issue_time": rfc3339(lease.issue_time),
                    "expire_time": rfc3339(lease.expire_at),
                    "last_renewal": rfc3339(lease.last_renewal) or None,
                    "renewable": lease.renewable,
                    "ttl": max(0, int(lease.expire_at - now)),
                },
                mount_type="system",
            )
        if rest.startswith("lookup/"):
            if operation != "list":
                raise unsupported_operation()
            prefix = rest[len("lookup/") :]
            prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
            keys = sorted(
                {
                    lid[len(prefix) :].split("/")[0] + ("/" if "/" in lid[len(prefix) :] else "")
                    for lid in state.leases
                    if lid.startswith(prefix)
                }
            )
            if not keys:
                raise not_found()
            return ok({"keys": keys}, mount_type="system")
        if rest == "revoke":
            if operation not in {"create", "update"}:
                raise unsupported_operation()
            if not lease_id:
                raise bad_request("lease_id must be specified")
            state.revoke_lease(lease_id)
            return no_content()
        if rest == "renew":
            if operation not in {"create", "update"}:
                raise unsupported_operation()
            lease = state.live_lease(lease_id)
            if lease is None:
                raise bad_request("lease not found")
            if not lease.renewable:
                raise bad_request("lease is not renewable")
            now = state.clock.now()
            increment = parse_duration(request.param("increment"), "increment") or lease.ttl
            lease.expire_at = min(now + increment, lease.max_expire_at)
            lease.last_renewal = now
            ttl = max(0, int(lease.expire_at - now))
            return Response(200, envelope(None, lease_id=lease.id, lease_duration=ttl, renewable=True))
        raise unsupported_path()

    # --- capabilities ------------------------------------------------------------------------------------

    def _capabilities_self(self, request: Request, token: TokenEntry | None) -> Response:
        assert token is not None
        paths = request.param("paths") or request.param("path") or []
        if isinstance(paths, str):
            paths = [p.strip() for p in paths.split(",") if p.strip()]
        acl = ACL(self.state.policies_for(token), root=token.is_root)
        data: JSONDict = {}
        for path in paths:
            caps = sorted(acl.capabilities(str(path).lstrip("/")))
            data[str(path)] = caps
        if len(paths) == 1:
            data["capabilities"] = data[str(paths[0])]
        return self._legacy_response(data)

    # --- integrated storage ------------------------------------------------------------------------------

    def _raft(self, request: Request, rest: str, operation: str) -> Response:
        state = self.state
        raft = state.raft
        if rest == "configuration":
            if operation != "read":
                raise unsupported_operation()
            return ok(raft.configuration(), mount_type="system")
        if rest == "remove-peer":
            if operation not in {"create", "update"}:
                raise unsupported_operation()
            server_id = str(request.param("server_id", "") or "")
            if not server_id:
                raise bad_request("no server id provided")
            raft.remove_peer(server_id)
            return no_content()
        if rest == "autopilot/state":
            if operation != "read":
                raise unsupported_operation()
            return ok(raft.autopilot_state(state.clock.now()), mount_type="system")
        if rest == "autopilot/configuration":
            if operation == "read":
                return ok(raft.describe_autopilot_config(), mount_type="system")
            if operation in {"create", "update"}:
                raft.update_autopilot_config(request.body)
                return no_content()
            raise unsupported_operation()
        if rest == "snapshot":
            if operation == "read":
                return Response(200, state.snapshot(), content_type="application/octet-stream")
            if operation in {"create", "update"}:
                return self._restore(request, force=False)
            raise unsupported_operation()
        if rest == "snapshot-force":
            if operation not in {"create", "update"}:
                raise unsupported_operation()
            return self._restore(request, force=True)
        raise unsupported_path()

    def _restore(self, request: Request, *, force: bool) -> Response:
        state = self.state
        try:
            document = state.read_snapshot(request.raw_body)
        except ValueError as exc:
            raise VaultHTTPError(500, str(exc)) from None
        if not force and document.get("seal_fingerprint") != state.seal_fingerprint():
            kind = (
                "a different set of unseal keys" if not state.seal.auto_unseal else "a different autoseal key"
            )
            raise bad_request(
                f"could not verify hash file, possibly the snapshot is using {kind}; "
                "use the snapshot-force API to bypass this check"
            )
        state.restore(document)
        return no_content()
