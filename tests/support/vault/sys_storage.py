"""``sys/leases/*``, ``sys/capabilities-self`` and ``sys/storage/raft/*``.

References: api-docs/system/{leases,capabilities-self}, api-docs/system/storage/{raft,raftautopilot} and
vault/logical_system_raft.go (204s, the snapshot-restore hash check and its error text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.support.vault.backend import unsupported_operation, unsupported_path
from tests.support.vault.core import (
    JSONDict,
    Request,
    Response,
    VaultHTTPError,
    bad_request,
    envelope,
    no_content,
    not_found,
    ok,
    parse_duration,
    rfc3339,
)
from tests.support.vault.policy import ACL
from tests.support.vault.sys_mounts import legacy_response

if TYPE_CHECKING:
    from tests.support.vault.state import VaultState
    from tests.support.vault.tokens import TokenEntry

Handler = Callable[[Request], Response]


def route(table: dict[str, dict[str, Handler]], rest: str, operation: str, request: Request) -> Response:
    """Dispatch on the sub-path, then on the operation (``write`` covers create and update)."""
    by_operation = table.get(rest)
    if by_operation is None:
        raise unsupported_path()
    handler = by_operation.get("write" if operation in {"create", "update"} else operation)
    if handler is None:
        raise unsupported_operation()
    return handler(request)


class StorageAPI:
    def __init__(self, state: VaultState) -> None:
        self.state = state
        self._leases: dict[str, dict[str, Handler]] = {
            "lookup": {"write": self._lease_lookup},
            "revoke": {"write": self._lease_revoke},
            "renew": {"write": self._lease_renew},
        }
        raft = state.raft
        self._raft: dict[str, dict[str, Handler]] = {
            "configuration": {"read": lambda _: ok(raft.configuration(), mount_type="system")},
            "remove-peer": {"write": self._remove_peer},
            "autopilot/state": {
                "read": lambda _: ok(raft.autopilot_state(state.clock.now()), mount_type="system")
            },
            "autopilot/configuration": {
                "read": lambda _: ok(raft.describe_autopilot_config(), mount_type="system"),
                "write": self._autopilot_write,
            },
            "snapshot": {
                "read": lambda _: Response(200, state.snapshot(), content_type="application/octet-stream"),
                "write": lambda request: self._restore(request, force=False),
            },
            "snapshot-force": {"write": lambda request: self._restore(request, force=True)},
        }

    # --- leases ------------------------------------------------------------------------------------------

    def leases(self, request: Request, rest: str, operation: str) -> Response:
        if rest.startswith("lookup/"):
            if operation != "list":
                raise unsupported_operation()
            return self._lease_list(rest[len("lookup/") :])
        return route(self._leases, rest, operation, request)

    @staticmethod
    def _lease_id(request: Request) -> str:
        return str(request.param("lease_id", "") or request.param("url_lease_id", "") or "")

    def _lease_lookup(self, request: Request) -> Response:
        lease = self.state.live_lease(self._lease_id(request))
        if lease is None:
            raise bad_request("invalid lease")
        return ok(
            {
                "id": lease.id,
                "issue_time": rfc3339(lease.issue_time),
                "expire_time": rfc3339(lease.expire_at),
                "last_renewal": rfc3339(lease.last_renewal) or None,
                "renewable": lease.renewable,
                "ttl": max(0, int(lease.expire_at - self.state.clock.now())),
            },
            mount_type="system",
        )

    def _lease_list(self, prefix: str) -> Response:
        prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
        keys: set[str] = set()
        for lease_id in self.state.leases:
            if lease_id.startswith(prefix):
                head, slash, _ = lease_id[len(prefix) :].partition("/")
                keys.add(head + slash)
        if not keys:
            raise not_found()
        return ok({"keys": sorted(keys)}, mount_type="system")

    def _lease_revoke(self, request: Request) -> Response:
        lease_id = self._lease_id(request)
        if not lease_id:
            raise bad_request("lease_id must be specified")
        self.state.revoke_lease(lease_id)
        return no_content()

    def _lease_renew(self, request: Request) -> Response:
        lease = self.state.live_lease(self._lease_id(request))
        if lease is None:
            raise bad_request("lease not found")
        if not lease.renewable:
            raise bad_request("lease is not renewable")
        now = self.state.clock.now()
        increment = parse_duration(request.param("increment"), "increment") or lease.ttl
        lease.expire_at = min(now + increment, lease.max_expire_at)
        lease.last_renewal = now
        ttl = max(0, int(lease.expire_at - now))
        return Response(200, envelope(None, lease_id=lease.id, lease_duration=ttl, renewable=True))

    # --- capabilities ------------------------------------------------------------------------------------

    def capabilities_self(self, request: Request, token: TokenEntry | None) -> Response:
        assert token is not None
        paths = request.param("paths") or request.param("path") or []
        if isinstance(paths, str):
            paths = [p.strip() for p in paths.split(",") if p.strip()]
        acl = ACL(self.state.policies_for(token), root=token.is_root)
        data: JSONDict = {str(path): sorted(acl.capabilities(str(path).lstrip("/"))) for path in paths}
        if len(paths) == 1:
            data["capabilities"] = data[str(paths[0])]
        return legacy_response(data)

    # --- integrated storage ------------------------------------------------------------------------------

    def raft(self, request: Request, rest: str, operation: str) -> Response:
        return route(self._raft, rest, operation, request)

    def _remove_peer(self, request: Request) -> Response:
        server_id = str(request.param("server_id", "") or "")
        if not server_id:
            raise bad_request("no server id provided")
        self.state.raft.remove_peer(server_id)
        return no_content()

    def _autopilot_write(self, request: Request) -> Response:
        self.state.raft.update_autopilot_config(request.body)
        return no_content()

    def _restore(self, request: Request, *, force: bool) -> Response:
        state = self.state
        try:
            document = state.read_snapshot(request.raw_body)
        except ValueError as exc:
            raise VaultHTTPError(500, str(exc)) from None
        if not force and document.get("seal_fingerprint") != state.seal_fingerprint():
            kind = "a different autoseal key" if state.seal.auto_unseal else "a different set of unseal keys"
            raise bad_request(
                f"could not verify hash file, possibly the snapshot is using {kind}; "
                "use the snapshot-force API to bypass this check"
            )
        state.restore(document)
        return no_content()
