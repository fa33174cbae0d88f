"""The contract between the router and the things mounted in it (secrets engines and auth methods)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tests.support.vault.core import (
    UNSUPPORTED_OPERATION,
    UNSUPPORTED_PATH,
    JSONDict,
    Request,
    Response,
    VaultHTTPError,
)

if TYPE_CHECKING:
    from tests.support.vault.state import VaultState
    from tests.support.vault.tokens import TokenEntry


@dataclass
class MountEntry:
    """One row of ``sys/mounts`` or ``sys/auth`` (``path`` has a trailing slash, e.g. ``"secret/"``)."""

    path: str
    type: str
    description: str = ""
    accessor: str = ""
    uuid: str = ""
    config: JSONDict = field(default_factory=dict)
    options: JSONDict | None = None
    local: bool = False
    seal_wrap: bool = False
    external_entropy_access: bool = False

    def describe(self, *, auth: bool) -> JSONDict:
        config = {
            "default_lease_ttl": int(self.config.get("default_lease_ttl", 0)),
            "max_lease_ttl": int(self.config.get("max_lease_ttl", 0)),
            "force_no_cache": bool(self.config.get("force_no_cache", False)),
        }
        if auth:
            config["token_type"] = self.config.get("token_type", "default-service")
        return {
            "accessor": self.accessor,
            "config": config,
            "description": self.description,
            "external_entropy_access": self.external_entropy_access,
            "local": self.local,
            "options": self.options,
            "plugin_version": "",
            "running_plugin_version": "",
            "running_sha256": "",
            "seal_wrap": self.seal_wrap,
            "type": self.type,
            "uuid": self.uuid,
        }

    def to_json(self) -> JSONDict:
        return {
            "path": self.path,
            "type": self.type,
            "description": self.description,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "config": dict(self.config),
            "options": dict(self.options) if self.options is not None else None,
            "local": self.local,
            "seal_wrap": self.seal_wrap,
            "external_entropy_access": self.external_entropy_access,
        }


@dataclass
class RequestContext:
    """What a backend sees: the request, the caller's token and the path relative to the mount."""

    request: Request
    state: VaultState
    token: TokenEntry | None
    mount: MountEntry
    mount_prefix: str  # "secret/" or "auth/approle/"
    rel: str  # path below the mount, no leading slash
    operation: str  # read | list | create | update | delete | patch

    def param(self, name: str, default: Any = None) -> Any:
        return self.request.param(name, default)


class Backend:
    """Base class: by default everything under the mount is an unsupported path (404), as in Vault."""

    type_name: ClassVar[str] = ""
    #: Paths (relative to the mount) that need ``sudo`` on top of the operation's capability.
    sudo_paths: ClassVar[tuple[str, ...]] = ()

    def __init__(self, state: VaultState, mount: MountEntry) -> None:
        self.state = state
        self.mount = mount

    @property
    def prefix(self) -> str:
        return self.mount.path

    def handle(self, ctx: RequestContext) -> Response:
        raise VaultHTTPError(404, UNSUPPORTED_PATH)

    def exists(self, ctx: RequestContext) -> bool | None:
        """Existence check for POST/PUT: True -> update, False -> create, None -> no check (update)."""
        return None

    def is_unauthenticated(self, rel: str) -> bool:
        return False

    def export(self) -> JSONDict:
        return {}


class UnimplementedBackend(Backend):
    """A mount type Vault has but this server does not implement: every request is a 404 that says so."""

    def handle(self, ctx: RequestContext) -> Response:
        raise VaultHTTPError(
            404,
            multierror_unimplemented(self.mount.type, ctx.mount_prefix + ctx.rel),
        )


def multierror_unimplemented(mount_type: str, path: str) -> str:
    return f"vault test server: the {mount_type!r} backend is not implemented (request path {path!r})"


def unsupported_operation() -> VaultHTTPError:
    return VaultHTTPError(405, UNSUPPORTED_OPERATION)


def unsupported_path() -> VaultHTTPError:
    return VaultHTTPError(404, UNSUPPORTED_PATH)
