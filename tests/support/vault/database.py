"""The database secrets engine (api-docs/secret/databases, builtin/logical/database/path_creds_create.go).

No database is contacted: ``verify_connection`` consults ``VaultState.database_reachable`` (a test switch),
credentials are generated locally, and every issued/revoked credential is recorded in ``issued`` so a test
can assert on what Vault would have run (the creation/revocation statements with ``{{name}}`` filled in).
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.vault.backend import Backend, RequestContext, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    DEFAULT_LEASE_TTL,
    JSONDict,
    Response,
    as_bool,
    bad_request,
    envelope,
    internal_error,
    no_content,
    not_found,
    ok,
    parse_duration,
    string_list,
)

KNOWN_PLUGINS = frozenset(
    {
        "postgresql-database-plugin",
        "mysql-database-plugin",
        "mysql-aurora-database-plugin",
        "mysql-rds-database-plugin",
        "mysql-legacy-database-plugin",
        "mssql-database-plugin",
        "redis-database-plugin",
        "redis-elasticache-database-plugin",
        "mongodb-database-plugin",
        "redshift-database-plugin",
    }
)
#: Connection fields never returned on read (Vault strips them from connection_details).
SECRET_CONNECTION_FIELDS = frozenset({"password", "private_key"})
CONNECTION_FIELDS = (
    "connection_url",
    "username",
    "password",
    "password_authentication",
    "max_open_connections",
    "max_idle_connections",
    "max_connection_lifetime",
    "username_template",
    "disable_escaping",
    "tls_ca",
    "tls_certificate",
    "private_key",
)


@dataclass
class IssuedCredential:
    """What Vault would have executed against the database for one dynamic credential."""

    lease_id: str
    role: str
    db_name: str
    username: str
    creation_statements: list[str]
    revocation_statements: list[str]
    revoked: bool = False
    statements_run: list[str] = field(default_factory=list)


def _render(statements: list[str], username: str, password: str, expiration: str) -> list[str]:
    return [
        s.replace("{{name}}", username)
        .replace("{{username}}", username)
        .replace("{{password}}", password)
        .replace("{{expiration}}", expiration)
        for s in statements
    ]


def _statements(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def generate_password() -> str:
    """20 characters with Vault's default policy classes (upper, lower, digit, dash); fake test material."""
    alphabet = string.ascii_letters + string.digits
    body = [secrets.choice(alphabet) for _ in range(16)]
    return "A1a-" + "".join(body)


class DatabaseBackend(Backend):
    type_name = "database"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: dict[str, JSONDict] = {}
        self.roles: dict[str, JSONDict] = {}
        self.issued: list[IssuedCredential] = []
        self.root_rotations: dict[str, int] = {}

    def exists(self, ctx: RequestContext) -> bool | None:
        api, _, name = ctx.rel.partition("/")
        if api == "config":
            return name in self.connections
        if api == "roles":
            return name in self.roles
        return None

    def handle(self, ctx: RequestContext) -> Response:
        api, _, name = ctx.rel.partition("/")
        op = ctx.operation
        name = name.rstrip("/")
        if api in {"config", "roles"} and op == "list":
            table = self.connections if api == "config" else self.roles
            if not table:
                raise not_found()
            return ok({"keys": sorted(table)}, mount_type="database")
        if not name:
            raise unsupported_path()
        if api == "config":
            return self._config(ctx, name)
        if api == "roles":
            return self._role(ctx, name)
        if api == "creds":
            if op != "read":
                raise unsupported_operation()
            return self._creds(ctx, name)
        if api == "rotate-root":
            if op not in {"create", "update"}:
                raise unsupported_operation()
            return self._rotate_root(name)
        if api == "reset":
            if op not in {"create", "update"}:
                raise unsupported_operation()
            self._connection(name)
            return no_content()
        raise unsupported_path()

    # --- connections -------------------------------------------------------------------------------------

    def _connection(self, name: str) -> JSONDict:
        connection = self.connections.get(name)
        if connection is None:
            raise internal_error(f'failed to find entry for connection with name: "{name}"')
        return connection

    def _config(self, ctx: RequestContext, name: str) -> Response:
        op = ctx.operation
        if op == "read":
            connection = self.connections.get(name)
            if connection is None:
                raise not_found()
            details = {
                k: v for k, v in connection["connection_details"].items() if k not in SECRET_CONNECTION_FIELDS
            }
            return ok(
                {
                    "allowed_roles": list(connection["allowed_roles"]),
                    "connection_details": details,
                    "password_policy": connection["password_policy"],
                    "plugin_name": connection["plugin_name"],
                    "plugin_version": "",
                    "root_credentials_rotate_statements": list(connection["root_rotation_statements"]),
                    "verify_connection": connection["verify_connection"],
                },
                mount_type="database",
            )
        if op == "delete":
            self.connections.pop(name, None)
            return no_content()
        if op not in {"create", "update"}:
            raise unsupported_operation()
        existing = self.connections.get(name, {})
        plugin = str(ctx.param("plugin_name", existing.get("plugin_name", "")) or "")
        if not plugin:
            raise bad_request("empty plugin name")
        if plugin not in KNOWN_PLUGINS:
            raise bad_request(f"error creating database object: plugin {plugin!r} not found in the catalog")
        details = dict(existing.get("connection_details", {}))
        for key in CONNECTION_FIELDS:
            if ctx.request.has(key):
                details[key] = ctx.param(key)
        verify = as_bool(ctx.param("verify_connection"), True)
        if verify and not self.state.database_reachable:
            host = urlsplit(
                str(details.get("connection_url", "")).replace("{{username}}:{{password}}@", "")
            ).netloc
            raise bad_request(
                "error creating database object: error verifying - ping: "
                f"dial tcp {host or 'database'}: connect: connection refused"
            )
        self.connections[name] = {
            "plugin_name": plugin,
            "connection_details": details,
            "allowed_roles": string_list(ctx.param("allowed_roles", existing.get("allowed_roles"))),
            "root_rotation_statements": _statements(
                ctx.param("root_rotation_statements", existing.get("root_rotation_statements"))
            ),
            "password_policy": str(ctx.param("password_policy", existing.get("password_policy", "")) or ""),
            "verify_connection": verify,
        }
        url = str(details.get("connection_url", ""))
        password = details.get("password")
        if password and str(password) in url and "{{password}}" not in url:
            warning = (
                "Password found in connection_url, use a templated url to enable root rotation and prevent "
                "read access to password information."
            )
            return Response(200, envelope(None, warnings=[warning], mount_type="database"))
        return no_content()

    def _rotate_root(self, name: str) -> Response:
        """path_rotate_credentials.go: a new password for the configured user, stored; only Vault knows it."""
        details = self._connection(name)["connection_details"]
        for required in ("username", "password"):
            if not details.get(required):
                raise internal_error(f"unable to rotate root credentials: no {required} in configuration")
        details["password"] = generate_password()
        self.root_rotations[name] = self.root_rotations.get(name, 0) + 1
        return no_content()

    # --- roles -------------------------------------------------------------------------------------------

    def _role(self, ctx: RequestContext, name: str) -> Response:
        op = ctx.operation
        if op == "read":
            role = self.roles.get(name)
            if role is None:
                raise not_found()
            return ok(
                {
                    "db_name": role["db_name"],
                    "default_ttl": role["default_ttl"],
                    "max_ttl": role["max_ttl"],
                    "creation_statements": list(role["creation_statements"]),
                    "revocation_statements": list(role["revocation_statements"]),
                    "rollback_statements": list(role["rollback_statements"]),
                    "renew_statements": list(role["renew_statements"]),
                    "credential_type": "password",
                },
                mount_type="database",
            )
        if op == "delete":
            self.roles.pop(name, None)
            return no_content()
        if op not in {"create", "update"}:
            raise unsupported_operation()
        existing = self.roles.get(name, {})
        db_name = str(ctx.param("db_name", existing.get("db_name", "")) or "")
        if not db_name:
            raise bad_request("empty database name attribute")
        creation = _statements(ctx.param("creation_statements", existing.get("creation_statements")))
        if not creation:
            raise bad_request("empty creation statements")
        default_ttl = parse_duration(ctx.param("default_ttl", existing.get("default_ttl")), "default_ttl")
        max_ttl = parse_duration(ctx.param("max_ttl", existing.get("max_ttl")), "max_ttl")
        if max_ttl and default_ttl > max_ttl:
            raise bad_request("ttl cannot be greater than max_ttl")
        self.roles[name] = {
            "db_name": db_name,
            "default_ttl": default_ttl,
            "max_ttl": max_ttl,
            "creation_statements": creation,
            "revocation_statements": _statements(
                ctx.param("revocation_statements", existing.get("revocation_statements"))
            ),
            "rollback_statements": _statements(
                ctx.param("rollback_statements", existing.get("rollback_statements"))
            ),
            "renew_statements": _statements(ctx.param("renew_statements", existing.get("renew_statements"))),
        }
        return no_content()

    # --- credentials -------------------------------------------------------------------------------------

    def _creds(self, ctx: RequestContext, name: str) -> Response:
        role = self.roles.get(name)
        if role is None:
            raise bad_request(f"unknown role: {name}")
        connection = self._connection(role["db_name"])
        allowed = connection["allowed_roles"]
        if "*" not in allowed and not any(_glob(pattern, name) for pattern in allowed):
            raise internal_error(f'"{name}" is not an allowed role')
        ttl = role["default_ttl"] or int(self.mount.config.get("default_lease_ttl") or 0) or DEFAULT_LEASE_TTL
        max_ttl = role["max_ttl"] or int(self.mount.config.get("max_lease_ttl") or 0) or DEFAULT_LEASE_TTL
        ttl = min(ttl, max_ttl)
        display = re.sub(r"[^a-z0-9]", "", (ctx.token.display_name if ctx.token else "token").lower())[:8]
        now = self.state.clock.now()
        username = f"v-{display}-{name[:8]}-{secrets.token_hex(10)}-{int(now)}"[:63]
        password = generate_password()
        lease = self.state.create_lease(
            path=f"{ctx.mount_prefix}creds/{name}",
            ttl=ttl,
            max_ttl=max_ttl,
            renewable=True,
            token=ctx.token,
            mount_path=self.mount.path,
            internal={"username": username, "role": name, "db_name": role["db_name"]},
        )
        expiration = str(int(now + ttl))
        self.issued.append(
            IssuedCredential(
                lease_id=lease.id,
                role=name,
                db_name=role["db_name"],
                username=username,
                creation_statements=_render(role["creation_statements"], username, "<password>", expiration),
                revocation_statements=_render(role["revocation_statements"], username, "", expiration),
            )
        )
        return Response(
            200,
            envelope(
                {"username": username, "password": password},
                lease_id=lease.id,
                lease_duration=ttl,
                renewable=True,
                mount_type="database",
            ),
        )

    def revoke_lease(self, lease_internal: JSONDict) -> None:
        for credential in self.issued:
            if credential.username == lease_internal.get("username") and not credential.revoked:
                credential.revoked = True
                credential.statements_run = list(credential.revocation_statements)

    # --- snapshots ---------------------------------------------------------------------------------------

    def export(self) -> JSONDict:
        return {
            "connections": self.connections,
            "roles": self.roles,
            "issued": [asdict(item) for item in self.issued],
            "root_rotations": self.root_rotations,
        }

    def load(self, data: JSONDict) -> None:
        self.connections = data.get("connections", {})
        self.roles = data.get("roles", {})
        self.issued = [IssuedCredential(**item) for item in data.get("issued", [])]
        self.root_rotations = data.get("root_rotations", {})


def _glob(pattern: str, value: str) -> bool:
    """Vault's ``strutil.GlobbedStringsMatch``: a leading and/or trailing ``*`` wildcard."""
    if pattern == value:
        return True
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return pattern[1:-1] in value
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return False
