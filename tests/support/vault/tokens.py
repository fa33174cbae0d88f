"""The token store and the ``auth/token/`` endpoints (api-docs/auth/token).

Service tokens only (``hvs.`` prefix, as Vault 1.10+ issues them).  TTLs are measured on the server's
``Clock``; an expired or revoked token is refused with 403 and Vault's ``permission denied`` /
``invalid token`` errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from tests.support.vault.backend import Backend, RequestContext, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    DEFAULT_LEASE_TTL,
    JSONDict,
    Response,
    as_bool,
    as_int,
    bad_request,
    no_content,
    ok,
    parse_duration,
    rfc3339,
    string_list,
)
from tests.support.vault.policy import ACL

if TYPE_CHECKING:
    from tests.support.vault.state import VaultState


def new_token_id() -> str:
    return "hvs." + secrets.token_urlsafe(18)


def new_accessor() -> str:
    return secrets.token_urlsafe(18)[:24]


@dataclass
class TokenEntry:
    id: str
    accessor: str
    policies: list[str]
    path: str
    display_name: str
    creation_time: float
    ttl: int  # creation TTL in seconds; 0 means no expiry
    expire_at: float | None
    max_expire_at: float | None
    explicit_max_ttl: int = 0
    period: int = 0
    renewable: bool = True
    num_uses: int = 0
    orphan: bool = False
    parent: str | None = None
    meta: dict[str, str] | None = None
    last_renewal: float | None = None
    entity_id: str = ""
    token_type: str = "service"
    children: list[str] = field(default_factory=list)

    @property
    def is_root(self) -> bool:
        return "root" in self.policies

    def remaining_ttl(self, now: float) -> int:
        if self.expire_at is None:
            return 0
        return max(0, int(self.expire_at - now))

    def auth_block(self, now: float) -> JSONDict:
        return {
            "client_token": self.id,
            "accessor": self.accessor,
            "policies": list(self.policies),
            "token_policies": list(self.policies),
            "identity_policies": None,
            "metadata": dict(self.meta) if self.meta else None,
            "lease_duration": self.remaining_ttl(now),
            "renewable": self.renewable and self.expire_at is not None,
            "entity_id": self.entity_id,
            "token_type": self.token_type,
            "orphan": self.orphan,
            "mfa_requirement": None,
            "num_uses": self.num_uses,
        }

    def lookup_data(self, now: float, *, include_id: bool = True) -> JSONDict:
        data: JSONDict = {
            "accessor": self.accessor,
            "creation_time": int(self.creation_time),
            "creation_ttl": self.ttl,
            "display_name": self.display_name,
            "entity_id": self.entity_id,
            "expire_time": rfc3339(self.expire_at) or None,
            "explicit_max_ttl": self.explicit_max_ttl,
            "id": self.id if include_id else "",
            "issue_time": rfc3339(self.creation_time),
            "meta": dict(self.meta) if self.meta else None,
            "num_uses": self.num_uses,
            "orphan": self.orphan,
            "path": self.path,
            "policies": list(self.policies),
            "renewable": self.renewable and self.expire_at is not None,
            "ttl": self.remaining_ttl(now),
            "type": self.token_type,
        }
        if self.period:
            data["period"] = self.period
        if self.last_renewal is not None:
            data["last_renewal"] = rfc3339(self.last_renewal)
            data["last_renewal_time"] = int(self.last_renewal)
        return data


class TokenStore:
    """Tokens by id and accessor. All methods are called with the state lock held."""

    def __init__(self, state: VaultState) -> None:
        self.state = state
        self.by_id: dict[str, TokenEntry] = {}
        self.by_accessor: dict[str, str] = {}

    # --- lifecycle ---------------------------------------------------------------------------------------

    def create(
        self,
        *,
        policies: list[str],
        path: str,
        display_name: str,
        ttl: int = 0,
        explicit_max_ttl: int = 0,
        period: int = 0,
        renewable: bool = True,
        num_uses: int = 0,
        parent: TokenEntry | None = None,
        meta: dict[str, str] | None = None,
        token_id: str | None = None,
        max_ttl: int = 0,
    ) -> TokenEntry:
        now = self.state.clock.now()
        is_root = "root" in policies
        if period:
            ttl = period
        elif not ttl and not is_root:
            ttl = DEFAULT_LEASE_TTL
        limit = explicit_max_ttl or max_ttl or (0 if (period or is_root) else DEFAULT_LEASE_TTL)
        if limit and ttl > limit:
            ttl = limit
        entry = TokenEntry(
            id=token_id or new_token_id(),
            accessor=new_accessor(),
            policies=sorted(set(policies)),
            path=path,
            display_name=display_name,
            creation_time=now,
            ttl=ttl,
            expire_at=(now + ttl) if ttl else None,
            max_expire_at=(now + limit) if limit else None,
            explicit_max_ttl=explicit_max_ttl,
            period=period,
            renewable=renewable,
            num_uses=num_uses,
            orphan=parent is None,
            parent=parent.id if parent is not None else None,
            meta=meta,
        )
        self.by_id[entry.id] = entry
        self.by_accessor[entry.accessor] = entry.id
        if parent is not None:
            parent.children.append(entry.id)
        return entry

    def lookup(self, token_id: str | None) -> TokenEntry | None:
        """The live entry for ``token_id``; an expired token is revoked on sight and reported as absent."""
        if not token_id:
            return None
        entry = self.by_id.get(token_id)
        if entry is None:
            return None
        if entry.expire_at is not None and self.state.clock.now() >= entry.expire_at:
            self.revoke(entry.id)
            return None
        return entry

    def lookup_accessor(self, accessor: str) -> TokenEntry | None:
        token_id = self.by_accessor.get(accessor)
        return self.lookup(token_id) if token_id else None

    def revoke(self, token_id: str, *, orphan_children: bool = False) -> None:
        entry = self.by_id.pop(token_id, None)
        if entry is None:
            return
        self.by_accessor.pop(entry.accessor, None)
        for child in list(entry.children):
            if orphan_children:
                child_entry = self.by_id.get(child)
                if child_entry is not None:
                    child_entry.parent = None
                    child_entry.orphan = True
            else:
                self.revoke(child)
        if entry.parent and entry.parent in self.by_id:
            siblings = self.by_id[entry.parent].children
            if entry.id in siblings:
                siblings.remove(entry.id)

    def use(self, entry: TokenEntry) -> None:
        """Count one use of a limited-use token; the last use revokes it (after the request is served)."""
        if entry.num_uses > 0:
            entry.num_uses -= 1
            if entry.num_uses == 0:
                self.revoke(entry.id)

    def renew(self, entry: TokenEntry, increment: int) -> None:
        if not entry.renewable or entry.expire_at is None:
            raise bad_request("lease is not renewable")
        now = self.state.clock.now()
        ttl = entry.period or increment or entry.ttl
        new_expiry = now + ttl
        if entry.max_expire_at is not None:
            new_expiry = min(new_expiry, entry.max_expire_at)
        entry.expire_at = new_expiry
        entry.last_renewal = now

    # --- snapshots ---------------------------------------------------------------------------------------

    def export(self) -> list[JSONDict]:
        return [asdict(entry) for entry in self.by_id.values()]


def issue_login_token(
    ctx: RequestContext,
    *,
    policies: list[str],
    no_default_policy: bool,
    ttl: int,
    max_ttl: int,
    period: int,
    num_uses: int,
    display_name: str,
    metadata: dict[str, str],
) -> Response:
    """Mint the token a successful auth-method login returns (orphan, with Vault's ``auth`` block)."""
    token_policies = sorted(set(policies) | (set() if no_default_policy else {"default"}))
    entry = ctx.state.tokens.create(
        policies=token_policies,
        path=ctx.mount_prefix + ctx.rel,
        display_name=display_name,
        ttl=ttl,
        max_ttl=max_ttl,
        period=period,
        num_uses=num_uses,
        meta=metadata,
    )
    return ok(None, auth=entry.auth_block(ctx.state.clock.now()))


class TokenBackend(Backend):
    """``auth/token/``: create, lookup, renew and revoke service tokens."""

    type_name = "token"
    sudo_paths = ("revoke-orphan*", "accessors*")

    WRITE = frozenset({"create", "update"})
    READ_OR_WRITE = frozenset({"read", "create", "update"})

    def handle(self, ctx: RequestContext) -> Response:
        rel = ctx.rel.rstrip("/")
        routes: dict[str, tuple[frozenset[str], Callable[[RequestContext, str], Response]]] = {
            "create": (self.WRITE, self._create),
            "create-orphan": (self.WRITE, self._create),
            "lookup-self": (self.READ_OR_WRITE, self._lookup),
            "lookup": (self.READ_OR_WRITE, self._lookup),
            "lookup-accessor": (self.READ_OR_WRITE, self._lookup),
            "renew-self": (self.WRITE, self._renew),
            "renew": (self.WRITE, self._renew),
            "renew-accessor": (self.WRITE, self._renew),
            "revoke-self": (self.WRITE, self._revoke),
            "revoke": (self.WRITE, self._revoke),
            "revoke-accessor": (self.WRITE, self._revoke),
            "revoke-orphan": (self.WRITE, self._revoke),
            "accessors": (frozenset({"list"}), self._accessors),
        }
        route = routes.get(rel)
        if route is None:
            raise unsupported_path()
        operations, handler = route
        if ctx.operation not in operations:
            raise unsupported_operation()
        return handler(ctx, rel)

    def _target(self, ctx: RequestContext, rel: str) -> TokenEntry:
        """The token an endpoint acts on: the caller's (``-self``), by accessor, or by id in the body."""
        store = self.state.tokens
        if rel.endswith("-self"):
            assert ctx.token is not None
            return ctx.token
        if rel.endswith("-accessor"):
            target = store.lookup_accessor(str(ctx.param("accessor", "")))
            if target is None:
                raise bad_request("invalid accessor")
            return target
        target = store.lookup(str(ctx.param("token", "")))
        if target is None:
            raise bad_request("bad token" if rel == "lookup" else "invalid token")
        return target

    def _lookup(self, ctx: RequestContext, rel: str) -> Response:
        target = self._target(ctx, rel)
        return ok(target.lookup_data(self.state.clock.now(), include_id=not rel.endswith("-accessor")))

    def _renew(self, ctx: RequestContext, rel: str) -> Response:
        target = self._target(ctx, rel)
        self.state.tokens.renew(target, parse_duration(ctx.param("increment"), "increment"))
        block = target.auth_block(self.state.clock.now())
        if rel.endswith("-accessor"):
            block["client_token"] = ""
        return ok(None, auth=block)

    def _revoke(self, ctx: RequestContext, rel: str) -> Response:
        if rel in {"revoke", "revoke-orphan"}:
            # revoking an unknown token is not an error (the token is gone either way)
            target = self.state.tokens.lookup(str(ctx.param("token", "")))
            if target is None:
                return no_content()
        else:
            target = self._target(ctx, rel)
        self.state.tokens.revoke(target.id, orphan_children=rel == "revoke-orphan")
        return no_content()

    def _accessors(self, ctx: RequestContext, rel: str) -> Response:
        return ok({"keys": sorted(self.state.tokens.by_accessor)})

    def _create(self, ctx: RequestContext, rel: str) -> Response:
        orphan = rel == "create-orphan"
        parent = ctx.token
        assert parent is not None
        requested = string_list(ctx.param("policies"))
        no_default = as_bool(ctx.param("no_default_policy"), False)
        # token_store.go handleCreateCommon: root or sudo on the request path lifts the policy-subset rule
        # and is required for no_parent and for periodic tokens (create-orphan itself is plain ACL).
        sudo = parent.is_root or "sudo" in ACL(self.state.policies_for(parent)).capabilities(
            ctx.mount_prefix + ctx.rel
        )
        if not requested:
            policies = list(parent.policies)
        else:
            policies = [p.lower() for p in requested]
            if not sudo:
                allowed = set(parent.policies) | {"default"}
                if not set(policies) <= allowed:
                    raise bad_request("child policies must be subset of parent")
        if "root" in policies and not parent.is_root:
            raise bad_request("root tokens may not be created by a non-root token")
        if not no_default and "root" not in policies:
            policies = [*policies, "default"]
        if no_default:
            policies = [p for p in policies if p != "default"]
        warnings = [
            f'Policy "{name}" does not exist'
            for name in sorted(set(policies) - {"default", "root"})
            if name not in self.state.policies
        ]
        display = str(ctx.param("display_name", "") or "")
        display_name = f"token-{display}" if display else "token"
        meta_raw = ctx.param("meta")
        meta = {str(k): str(v) for k, v in meta_raw.items()} if isinstance(meta_raw, dict) else None
        no_parent = orphan or as_bool(ctx.param("no_parent"), False)
        custom_id = ctx.param("id")
        if custom_id is not None and not parent.is_root:
            raise bad_request("root or sudo privileges required to specify token id")
        if not orphan and as_bool(ctx.param("no_parent"), False) and not sudo:
            raise bad_request("root or sudo privileges required to create orphan token")
        period = parse_duration(ctx.param("period"), "period")
        if period and not sudo:
            raise bad_request("root or sudo privileges required to create periodic token")
        entry = self.state.tokens.create(
            policies=policies,
            path="auth/token/create-orphan" if orphan else "auth/token/create",
            display_name=display_name,
            ttl=parse_duration(ctx.param("ttl") or ctx.param("lease"), "ttl"),
            explicit_max_ttl=parse_duration(ctx.param("explicit_max_ttl"), "explicit_max_ttl"),
            period=period,
            renewable=as_bool(ctx.param("renewable"), True),
            num_uses=as_int(ctx.param("num_uses"), "num_uses"),
            parent=None if no_parent else parent,
            meta=meta,
            token_id=str(custom_id) if custom_id else None,
        )
        return ok(None, auth=entry.auth_block(self.state.clock.now()), warnings=warnings or None)

    def export(self) -> JSONDict:
        return {}
