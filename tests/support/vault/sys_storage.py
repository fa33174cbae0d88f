"""``sys/capabilities-self`` and ``sys/storage/raft/*`` (the test server answers no ``sys/leases/*``).

References: api-docs/system/capabilities-self, api-docs/system/storage/{raft,raftautopilot} and
vault/logical_system_raft.go.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.support.vault.backend import unsupported_operation, unsupported_path
from tests.support.vault.core import (
    JSONDict,
    Request,
    Response,
    bad_request,
    no_content,
    ok,
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
            },
        }

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
