"""The ``sys/`` endpoints: seal, init, health and leader here; the rest is dispatched to ``sys_mounts``
(mounts, auth methods, audit devices, policies) and ``sys_storage`` (leases, capabilities, Raft).

References: api-docs/system/{health,init,seal-status,unseal,leader}; http/sys_health.go and http/sys_init.go
for the status-code and validation logic; vault/logical_system.go for which paths need ``sudo``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.support.vault.backend import unsupported_path
from tests.support.vault.core import (
    VAULT_VERSION,
    JSONDict,
    Request,
    Response,
    VaultHTTPError,
    as_bool,
    bad_request,
    no_content,
    raw_json,
    rfc3339,
)
from tests.support.vault.sys_mounts import MountsAPI
from tests.support.vault.sys_storage import StorageAPI

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
HEALTH_CODES = {
    "uninitcode": 501,
    "sealedcode": 503,
    "standbycode": 429,
    "activecode": 200,
    "drsecondarycode": 472,
    "performancestandbycode": 473,
}


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
    """vault/seal_config.go ``SealConfig.Validate``: the first failing check's message, in Vault's order."""
    checks = (
        (shares < 1, "shares must be at least one"),
        (threshold < 1, "threshold must be at least one"),
        (shares > 1 and threshold == 1, "threshold must be greater than one for multiple shares"),
        (shares > 255, "shares must be less than 256"),
        (threshold > 255, "threshold must be less than 256"),
        (threshold > shares, "threshold cannot be larger than shares"),
        (
            bool(pgp_keys) and len(pgp_keys) != shares,
            "count mismatch between number of provided PGP keys and number of shares",
        ),
    )
    for failed, message in checks:
        if failed:
            return message
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
        self.mounts = MountsAPI(state)
        self.storage = StorageAPI(state)
        self._status_routes: dict[str, tuple[frozenset[str], Callable[[Request], Response]]] = {
            "health": (frozenset({"GET", "HEAD"}), self._health_route),
            "seal-status": (frozenset({"GET"}), self._seal_status_route),
            "init": (frozenset({"GET", "PUT", "POST"}), self._init_route),
            "unseal": (frozenset({"PUT", "POST"}), self.unseal),
            "leader": (frozenset({"GET"}), lambda _: self.leader()),
        }
        self._sections: dict[str, Callable[[Request, str, str], Response]] = {
            "mounts": self.mounts.mounts,
            "auth": self.mounts.auth,
            "audit": self.mounts.audit,
            "policy": self.mounts.legacy_policies,
            "policies": self.mounts.acl_policies,
            "storage": self._storage_route,
        }

    def _health_route(self, request: Request) -> Response:
        self.note_status_poll()
        return self.health(request)

    def _seal_status_route(self, request: Request) -> Response:
        self.note_status_poll()
        return raw_json(200, self.seal_status())

    def _init_route(self, request: Request) -> Response:
        if request.method == "GET":
            return raw_json(200, {"initialized": self.state.initialized})
        return self.initialize(request)

    def _storage_route(self, request: Request, rest: str, operation: str) -> Response:
        if not rest.startswith("raft/"):
            raise unsupported_path()
        return self.storage.raft(request, rest[len("raft/") :], operation)

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

    @staticmethod
    def _health_query(query: dict[str, list[str]]) -> tuple[dict[str, int], dict[str, bool]] | None:
        """Parse the overrides; ``None`` when a value is invalid (Vault answers 400 with no errors)."""
        flags: dict[str, bool] = {}
        codes = dict(HEALTH_CODES)
        try:
            for name in ("standbyok", "perfstandbyok"):
                if name in query:
                    flags[name] = as_bool(query[name][0])
            for name in codes:
                if name in query:
                    codes[name] = int(query[name][0])
        except (VaultHTTPError, ValueError):
            return None
        return codes, flags

    def health(self, request: Request) -> Response:
        """http/sys_health.go ``getSysHealth``: status code by state, overridable per query parameter."""
        state = self.state
        parsed = self._health_query(request.query)
        if parsed is None:
            return Response(400, {"errors": []})
        codes, flags = parsed
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

    def _init_parameters(self, body: JSONDict) -> tuple[int, int, list[str]]:
        """http/sys_init.go ``validateInitParameters``, then ``SealConfig.Validate``."""

        def count(name: str) -> int:
            value = body.get(name)
            return int(value) if value else 0

        def key_list(name: str) -> list[str]:
            value = body.get(name)
            return [str(v) for v in value] if isinstance(value, list) else []

        barrier = (count("secret_shares"), count("secret_threshold"), key_list("pgp_keys"))
        recovery = (count("recovery_shares"), count("recovery_threshold"), key_list("recovery_pgp_keys"))
        auto = self.state.seal.auto_unseal
        if auto and (any(barrier) or count("stored_shares")):
            raise bad_request("parameters not specific to auto unseal seals present")
        if not auto and any(recovery):
            raise bad_request("parameters specific to auto unseal seals present")
        if self.state.initialized:
            raise bad_request("Vault is already initialized")
        chosen = recovery if auto else barrier
        problem = _validate_seal_config(*chosen)
        if problem:
            raise bad_request(f"invalid {'recovery' if auto else 'seal'} configuration: {problem}")
        return chosen

    def initialize(self, request: Request) -> Response:
        """http/sys_init.go ``handleSysInitPut``: unseal or recovery keys, and the root token."""
        state = self.state
        shares, threshold, pgp = self._init_parameters(request.body)
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
        status_route = self._status_routes.get(rel)
        if status_route is not None:
            methods, handler = status_route
            if request.method not in methods:
                raise VaultHTTPError(405)
            return handler(request)
        if rel == "capabilities-self":
            return self.storage.capabilities_self(request, token)
        if rel in {"seal", "step-down"}:
            if operation not in {"create", "update"}:
                raise VaultHTTPError(405)
            if rel == "seal":
                self.state.sealed = True
                self.state.unseal_progress = []
            else:
                self.state.standby = True
            return no_content()
        head, _, rest = rel.partition("/")
        section = self._sections.get(head)
        if section is None:
            raise unsupported_path()
        return section(request, rest, operation)
