"""Request routing: seal gate, token check, ACL enforcement, then the ``sys/`` handler or a mounted backend.

Order follows Vault's request handling: unauthenticated status endpoints first; everything else answers
503 ``Vault is sealed`` while sealed; then the client token (403 when missing, revoked or expired); then the
ACL check on the full request path (403 ``permission denied``, ``sudo`` where Vault requires it, and the
winning pattern's parameter constraints on the request's fields); only then is the path routed, so an unknown
mount is a 404 for root but a 403 for everyone else.
"""

from __future__ import annotations

from tests.support.vault.backend import Backend, RequestContext
from tests.support.vault.core import (
    INVALID_TOKEN,
    PERMISSION_DENIED,
    POLICY_DENIED,
    Request,
    Response,
    VaultHTTPError,
)
from tests.support.vault.policy import ACL, parameters_allowed
from tests.support.vault.state import VaultState
from tests.support.vault.system import SEALED, UNAUTHENTICATED, SystemBackend, needs_sudo
from tests.support.vault.tokens import TokenEntry

MERGE_PATCH = "application/merge-patch+json"
#: Operations whose fields vault/acl.go checks against allowed, denied and required parameters.
PARAMETER_CHECKED = frozenset({"read", "create", "update", "patch"})


def operation_for(request: Request) -> str:
    """Map the HTTP method to Vault's logical operation (http/logical.go ``buildLogicalRequestNoAuth``)."""
    method = request.method
    if method == "GET":
        return "list" if request.query.get("list", [""])[0].lower() in {"true", "1"} else "read"
    if method == "LIST":
        return "list"
    if method in {"POST", "PUT"}:
        return "update"
    if method == "DELETE":
        return "delete"
    if method == "PATCH":
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != MERGE_PATCH:
            raise VaultHTTPError(
                415, f"PATCH requires Content-Type of {MERGE_PATCH}, provided {content_type or 'none'}"
            )
        return "patch"
    if method == "HEAD":
        return "read"
    raise VaultHTTPError(405)


def request_data(request: Request, operation: str) -> dict[str, object]:
    """The fields Vault's ACL sees: the JSON body of a write, the query string of a read (http/logical.go
    ``parseQuery``: one value as a string, several as a list)."""
    if operation != "read":
        return dict(request.body)
    return {name: values[0] if len(values) == 1 else list(values) for name, values in request.query.items()}


class Router:
    def __init__(self, state: VaultState) -> None:
        self.state = state
        self.system = SystemBackend(state)

    def dispatch(self, request: Request) -> tuple[Response, str | None]:
        """Serve one request under the state lock; returns the response and the caller's token accessor."""
        state = self.state
        with state.lock:
            path = request.path
            is_sys = path == "sys" or path.startswith("sys/")
            sys_rel = path[4:] if is_sys else ""
            if is_sys and sys_rel in UNAUTHENTICATED:
                return self.system.handle(request, sys_rel, "", None), None
            operation = operation_for(request)
            if request.method == "HEAD":
                raise VaultHTTPError(405)
            if not state.initialized or state.sealed:
                raise VaultHTTPError(503, SEALED)
            if operation == "list" and not path.endswith("/"):
                path += "/"
            routed = None if is_sys else state.backend_for(path)
            if routed is not None and routed[1].is_unauthenticated(path[len(routed[0]) :]):
                return self._route(request, path, operation, None, routed), None
            token = self._authenticate(request)
            accessor = token.accessor
            if not token.is_root:
                self._authorize(request, path, operation, token, routed)
            state.tokens.use(token)
            if is_sys:
                return self.system.handle(request, path[4:], operation, token), accessor
            return self._route(request, path, operation, token, routed), accessor

    def _authenticate(self, request: Request) -> TokenEntry:
        if not request.token:
            raise VaultHTTPError(403, PERMISSION_DENIED)
        token = self.state.tokens.lookup(request.token)
        if token is None:
            raise VaultHTTPError(403, INVALID_TOKEN)
        return token

    def _authorize(
        self,
        request: Request,
        path: str,
        operation: str,
        token: TokenEntry,
        routed: tuple[str, Backend] | None,
    ) -> None:
        acl = ACL(self.state.policies_for(token))
        capability = operation
        if (
            operation == "update"
            and routed is not None
            and routed[1].exists(self._context(request, path, operation, token, routed)) is False
        ):
            capability = "create"
        caps = acl.capabilities(path, listing=operation == "list")
        if capability not in caps:
            raise VaultHTTPError(403, POLICY_DENIED)
        permissions = acl.permissions(path, listing=operation == "list")
        if (
            capability in PARAMETER_CHECKED
            and permissions is not None
            and not parameters_allowed(
                permissions,
                request_data(request, operation),
                per_element=self.state.per_element_list_matching,
            )
        ):
            raise VaultHTTPError(403, POLICY_DENIED)
        sudo = False
        if path.startswith("sys/"):
            sudo = needs_sudo(path[4:])
        elif routed is not None:
            prefix, backend = routed
            rel = path[len(prefix) :]
            for pattern in backend.sudo_paths:
                if rel.startswith(pattern[:-1]) if pattern.endswith("*") else rel.rstrip("/") == pattern:
                    sudo = True
        if sudo and "sudo" not in caps:
            raise VaultHTTPError(403, POLICY_DENIED)

    def _context(
        self,
        request: Request,
        path: str,
        operation: str,
        token: TokenEntry | None,
        routed: tuple[str, Backend],
    ) -> RequestContext:
        prefix, backend = routed
        return RequestContext(
            request=request,
            state=self.state,
            token=token,
            mount=backend.mount,
            mount_prefix=prefix,
            rel=path[len(prefix) :],
            operation=operation,
        )

    def _route(
        self,
        request: Request,
        path: str,
        operation: str,
        token: TokenEntry | None,
        routed: tuple[str, Backend] | None,
    ) -> Response:
        if routed is None:
            raise VaultHTTPError(404, f'no handler for route "{path}". route entry not found.')
        ctx = self._context(request, path, operation, token, routed)
        backend = routed[1]
        if operation == "update" and backend.exists(ctx) is False:
            ctx.operation = "create"
        return backend.handle(ctx)
