"""`VaultDatabaseEngine`: Vault's database secrets engine over the platform's PostgreSQL, through Vault.

The deployer cannot reach the private RDS instance, but Vault can, so everything happens through Vault's
API; no SQL client runs here. The management user is made without anyone learning its password:

1. Read the RDS master credentials from the secret RDS manages (Secrets Manager, on the deployer's AWS
   credentials); they are never written to state, only handed to Vault for a moment.
2. Configure a temporary connection `<connection>-bootstrap` with them, and a bootstrap role whose
   creation statement (one idempotent DO block) creates the application groups and `vault_admin`
   (LOGIN CREATEROLE, ADMIN OPTION on the two groups only) with the password Vault generates for it.
3. Read that role's credentials once: the password is `vault_admin`'s. Configure the real connection
   with it and immediately `rotate-root`, so only Vault knows `vault_admin`'s password from then on.
4. Revoke the bootstrap lease and delete the bootstrap role and connection: Vault keeps no master
   credentials, and RDS keeps rotating the master password on its own schedule without breaking Vault.
   (Configuring Vault with the master user and rotating it would fight RDS's managed rotation, which
   resets the master password every 7 days by default, and would lose the break-glass credential.)

Then the application roles are written and kept as declared: re-running, or `update` after a `refresh`
that found a changed role, rewrites it. A re-bootstrap happens only when the database itself changes
(host, database name, management user, bootstrap SQL) or the `rebootstrap` trigger text changes.

The provisioner token needs (templates/vault-policies/provisioner.hcl grants it): `sys/mounts/<mount>`
create/read; `<mount>/config/*` and `<mount>/roles/*` create/read/update/delete;
`<mount>/creds/<connection>-bootstrap` read; `<mount>/rotate-root/<connection>` update;
`sys/leases/revoke` update.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from providers import common, database_errors
from providers.common import plain

PLUGIN = "postgresql-database-plugin"
# Vault hashes passwords before they reach PostgreSQL, so no plaintext password is ever in a statement log.
SCRAM = "scram-sha-256"  # Vault's password_authentication: hash before sending
BOOTSTRAP_TTL = "5m"
TIMEOUT_S = 10
RETRY_TOTAL = 5
RETRY_BACKOFF_S = 0.5
# Inputs whose change means a different database (or different bootstrap SQL): make vault_admin again.
REBOOTSTRAP_KEYS = ("host", "port", "database", "management_user", "bootstrap_statements", "rebootstrap")
STATE_KEYS = (
    "address",
    "ca_pem",
    "token",
    "mount",
    "connection",
    "host",
    "port",
    "database",
    "ssl_mode",
    "ssl_root_cert",
    "management_user",
    "master_secret_arn",
    "region",
    "bootstrap_statements",
    "roles",
    "rebootstrap",
)


class DatabaseEngineError(RuntimeError):
    """Configuring Vault's database engine failed; the message says what happened and what to do next."""


def connection_url(props: Mapping[str, Any]) -> str:
    """The templated DSN Vault connects with; `{{username}}`/`{{password}}` let rotate-root take effect."""
    options = {"sslmode": props["ssl_mode"]}
    if props.get("ssl_root_cert"):
        options["sslrootcert"] = props["ssl_root_cert"]  # a path on the Vault nodes (pgx reads it there)
    return (
        f"postgresql://{{{{username}}}}:{{{{password}}}}@{props['host']}:{int(props['port'])}/"
        f"{quote(props['database'])}?{urlencode(options, safe='/')}"
    )


def _explain(error: Exception, doing: str, props: Mapping[str, Any]) -> DatabaseEngineError:
    """A Vault, database or network failure as an instruction."""
    import hvac.exceptions as vault_errors  # noqa: PLC0415 - imported in the provider host only

    if isinstance(error, (vault_errors.InvalidRequest, vault_errors.InternalServerError)):
        text = "; ".join(getattr(error, "errors", None) or [str(error)])
        explained = database_errors.explain(text, doing, props)
        if explained:
            return DatabaseEngineError(f"could not {doing}: {explained}")
        if "error verifying" in text:
            return DatabaseEngineError(
                f"Vault could not connect to PostgreSQL at {props['host']}:{int(props['port'])} to {doing} "
                f"({text}); check that the database security group admits the Vault nodes on 5432 and that "
                f"the RDS CA bundle is at {props.get('ssl_root_cert') or '(none given)'} on every Vault node"
            )
    message = common.explain_vault_error(error, address=props["address"], doing=doing, timeout=TIMEOUT_S)
    return DatabaseEngineError(message or f"could not {doing}: {type(error).__name__}: {error}")


def master_credentials(props: Mapping[str, Any]) -> tuple[str, str]:
    """The RDS master username and password from the secret RDS manages; held only in memory."""
    client = common.aws_client("secretsmanager", props["region"])
    arn = props["master_secret_arn"]
    try:
        secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    except Exception as error:
        code = common.aws_error_code(error)
        if code == "ResourceNotFoundException":
            raise DatabaseEngineError(
                f"the RDS master secret {arn} does not exist (yet); re-run once the instance is available"
            ) from None
        if code in {"AccessDeniedException", "AccessDenied"}:
            raise DatabaseEngineError(
                f"the deployer may not read the RDS master secret {arn}; it needs "
                "secretsmanager:GetSecretValue on it and kms:Decrypt on the secrets key via Secrets Manager"
            ) from None
        if type(error).__name__ in common.AWS_UNREACHABLE:
            raise DatabaseEngineError(f"could not reach Secrets Manager to read {arn}; re-run") from None
        raise DatabaseEngineError(f"reading the RDS master secret {arn} failed: {code or error}") from None
    return str(secret["username"]), str(secret["password"])


class VaultDatabaseEngineProvider(ResourceProvider):
    """CRUD for the database engine. Holds no clients: each call makes its own (the provider is pickled)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._vault(props, "configure the database secrets engine") as client:
            mounted = self._mount(client, props)
            live = self._read_connection(client, props)
            if live is None or live.get("username") != props["management_user"]:
                self._bootstrap(client, props)
            else:
                self._configure(client, props)  # adopted: vault_admin already works, keep its password
            self._reconcile_roles(client, props, previous={})
        return CreateResult(id_=_id(props), outs=_outs(props, mounted=mounted))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("mount", "connection") if olds.get(key) != news.get(key)]
        # A new provisioner token counts too: state must carry it, or refresh and delete would present the old
        # one. The update it causes re-applies the (idempotent) roles.
        changes = bool(replaces) or any(
            _comparable(olds.get(key)) != _comparable(news.get(key)) for key in STATE_KEYS
        )
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        rebootstrap = any(_comparable(olds.get(k)) != _comparable(news.get(k)) for k in REBOOTSTRAP_KEYS)
        with self._vault(news, "update the database secrets engine") as client:
            if rebootstrap or self._read_connection(client, news) is None:
                self._bootstrap(client, news)
            else:
                self._configure(client, news)
            self._reconcile_roles(client, news, previous=olds.get("roles") or {})
        return UpdateResult(outs=_outs(news, mounted=bool(olds.get("mounted"))))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report what Vault has now (roles as they are live); never writes."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        outs = dict(props)
        problems: list[str] = []
        with self._vault(props, "read the database secrets engine") as client:
            live = self._read_connection(client, props)
            if live is None:
                problems.append(f"connection {props['connection']} is missing")
            elif live.get("username") != props["management_user"]:
                problems.append(
                    f"connection {props['connection']} no longer logs in as {props['management_user']}"
                )
            roles = {}
            for name in props.get("roles") or {}:
                try:
                    answer = client.secrets.database.read_role(name, mount_point=props["mount"])["data"]
                except vault_errors.InvalidPath:
                    problems.append(f"role {name} is missing")
                    continue
                roles[name] = _role_state(answer)
                if roles[name] != _comparable(props["roles"][name]):
                    problems.append(f"role {name} differs from its declaration")
        outs["roles"] = roles
        outs["drift"] = "; ".join(problems)
        return ReadResult(id_=id_, outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Stop issuing credentials: delete the roles, then the connection, so Vault forgets vault_admin.

        The engine stays mounted (the provisioner never disables engines) and vault_admin stays in the
        database. Logins already issued stop working at their VALID UNTIL (24 h at most). To drop them at
        once, revoke them BEFORE this runs (`vault lease revoke -prefix database/creds/`): once the
        connection is gone Vault cannot revoke them (a real server answers "failed to find entry for
        connection"), the logins stay in PostgreSQL, and only `vault lease revoke -force -prefix` clears
        the leases (the mount cannot be disabled until then).
        """
        with self._vault(props, "remove the database roles and connection") as client:
            database = client.secrets.database
            for name in props.get("roles") or {}:
                database.delete_role(name, mount_point=props["mount"])
            database.delete_connection(props["connection"], mount_point=props["mount"])

    # --- steps --------------------------------------------------------------------------------------------

    @contextmanager
    def _vault(self, props: Mapping[str, Any], doing: str) -> Iterator[Any]:
        problems = database_errors.input_problems(props)
        if problems:
            raise DatabaseEngineError(f"cannot {doing}: " + "; ".join(problems))
        try:
            # Every write here is safe to repeat (a repeated bootstrap or rotate-root converges), so all
            # methods are retried.
            with common.vault_client(
                props["address"],
                props.get("ca_pem") or "",
                plain(props["token"]),
                timeout=TIMEOUT_S,
                retry_total=RETRY_TOTAL,
                backoff=RETRY_BACKOFF_S,
            ) as client:
                yield client
        except DatabaseEngineError:
            raise
        except Exception as error:
            raise _explain(error, doing, props) from None

    @staticmethod
    def _mount(client: Any, props: Mapping[str, Any]) -> bool:
        """Mount the engine; True if this call mounted it, False if a database mount was already there."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        mount = props["mount"]
        try:
            client.sys.enable_secrets_engine(
                backend_type="database",
                path=mount,
                description="Short-lived PostgreSQL credentials for platform applications",
            )
        except vault_errors.InvalidRequest as error:
            if "already in use" not in str(error):
                raise
            existing = client.adapter.get(f"/v1/sys/mounts/{mount}")
            kind = (existing.get("data") or existing).get("type")
            if kind != "database":
                raise DatabaseEngineError(
                    f"{mount}/ is already mounted as a {kind} engine, not database"
                ) from None
            return False
        return True

    @staticmethod
    def _read_connection(client: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        try:
            answer = client.secrets.database.read_connection(props["connection"], mount_point=props["mount"])
        except vault_errors.InvalidPath:
            return None
        return dict(answer["data"].get("connection_details") or {})

    @staticmethod
    def _configure(client: Any, props: Mapping[str, Any], **credentials: str) -> None:
        """Write the connection; without credentials Vault keeps the password it already holds."""
        client.secrets.database.configure(
            name=props["connection"],
            plugin_name=PLUGIN,
            mount_point=props["mount"],
            verify_connection=True,
            allowed_roles=sorted(props.get("roles") or {}),
            connection_url=connection_url(props),
            password_authentication=SCRAM,
            **credentials,
        )

    def _bootstrap(self, client: Any, props: Mapping[str, Any]) -> None:
        """Create (or reset) the management user through Vault, then let only Vault know its password."""
        database = client.secrets.database
        mount = props["mount"]
        bootstrap = f"{props['connection']}-bootstrap"
        master_user, master_password = master_credentials(props)
        lease_id: str | None = None
        try:
            database.configure(
                name=bootstrap,
                plugin_name=PLUGIN,
                mount_point=mount,
                verify_connection=True,
                allowed_roles=[bootstrap],
                connection_url=connection_url(props),
                username=master_user,
                password=master_password,
                password_authentication=SCRAM,
            )
            database.create_role(
                name=bootstrap,
                db_name=bootstrap,
                creation_statements=list(props["bootstrap_statements"]),
                default_ttl=BOOTSTRAP_TTL,
                max_ttl=BOOTSTRAP_TTL,
                mount_point=mount,
            )
            issued = database.generate_credentials(bootstrap, mount_point=mount)
            lease_id = issued["lease_id"]
            self._configure(
                client, props, username=props["management_user"], password=issued["data"]["password"]
            )
            database.rotate_root_credentials(props["connection"], mount_point=mount)
        except Exception:
            self._remove_bootstrap(client, mount, bootstrap, lease_id, quiet=True)
            raise
        self._remove_bootstrap(client, mount, bootstrap, lease_id, quiet=False)

    @staticmethod
    def _remove_bootstrap(
        client: Any, mount: str, bootstrap: str, lease_id: str | None, *, quiet: bool
    ) -> None:
        """Revoke the bootstrap lease, drop its role and the connection holding the master credentials."""
        try:
            if lease_id:
                client.sys.revoke_lease(lease_id)
            client.secrets.database.delete_role(bootstrap, mount_point=mount)
            client.secrets.database.delete_connection(bootstrap, mount_point=mount)
        except Exception as error:
            if quiet:
                return  # the original failure is the one to report; the next run cleans up again
            raise DatabaseEngineError(
                f"vault_admin is set up, but removing {mount}/config/{bootstrap} (it holds the RDS master "
                f"credentials) failed: {type(error).__name__}; delete it with `vault delete "
                f"{mount}/config/{bootstrap}` or re-run `pulumi up`"
            ) from None

    @staticmethod
    def _reconcile_roles(client: Any, props: Mapping[str, Any], *, previous: Mapping[str, Any]) -> None:
        """Write every declared role that is missing or differs; delete roles no longer declared."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        database = client.secrets.database
        mount = props["mount"]
        wanted = props.get("roles") or {}
        for name, role in wanted.items():
            try:
                live = _role_state(database.read_role(name, mount_point=mount)["data"])
            except vault_errors.InvalidPath:
                live = None
            if live != _comparable(role):
                database.create_role(
                    name=name,
                    db_name=props["connection"],
                    creation_statements=list(role["creation_statements"]),
                    revocation_statements=list(role["revocation_statements"]),
                    default_ttl=int(role["default_ttl"]),
                    max_ttl=int(role["max_ttl"]),
                    mount_point=mount,
                )
        for name in set(previous) - set(wanted):
            database.delete_role(name, mount_point=mount)


def _role_state(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The declared fields of a role as Vault reports them."""
    return {
        "creation_statements": list(answer.get("creation_statements") or []),
        "revocation_statements": list(answer.get("revocation_statements") or []),
        "default_ttl": int(answer.get("default_ttl") or 0),
        "max_ttl": int(answer.get("max_ttl") or 0),
    }


def _comparable(value: Any) -> Any:
    """Lists and tuples, and ints given as strings, compare as the same value; secret wrappers are ignored."""
    value = plain(value)
    if isinstance(value, Mapping):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    return value


def _id(props: Mapping[str, Any]) -> str:
    return f"{props['mount']}/config/{props['connection']}"


def _outs(props: Mapping[str, Any], *, mounted: bool) -> dict[str, Any]:
    """State: the inputs (the token stays secret, as it came in) and whether this resource mounted the engine.

    Nothing here is a database password: the master credentials and vault_admin's first password were
    only ever in memory.
    """
    outs = {key: props.get(key) for key in STATE_KEYS}
    outs["mounted"] = mounted
    outs["drift"] = ""
    return outs


class VaultDatabaseEngine(pulumi.dynamic.Resource, module="candlefish", name="VaultDatabaseEngine"):
    """The database engine at `mount`, one PostgreSQL connection managed by `management_user`, and roles."""

    mounted: pulumi.Output[bool]
    drift: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        address: pulumi.Input[str],
        ca_pem: pulumi.Input[str],
        token: pulumi.Input[str],
        host: pulumi.Input[str],
        port: pulumi.Input[int],
        database: str,
        master_secret_arn: pulumi.Input[str],
        region: str,
        bootstrap_statements: list[str],
        roles: Mapping[str, Mapping[str, Any]],
        management_user: str = "vault_admin",
        mount: str = "database",
        connection: str = "postgres",
        ssl_mode: str = "verify-full",
        ssl_root_cert: str = "",
        rebootstrap: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "address": address,
            "ca_pem": ca_pem,
            "token": pulumi.Output.secret(token),
            "mount": mount,
            "connection": connection,
            "host": host,
            "port": port,
            "database": database,
            "ssl_mode": ssl_mode,
            "ssl_root_cert": ssl_root_cert,
            "management_user": management_user,
            "master_secret_arn": master_secret_arn,
            "region": region,
            "bootstrap_statements": bootstrap_statements,
            "roles": {name: dict(role) for name, role in roles.items()},
            "rebootstrap": rebootstrap,
            "mounted": None,
            "drift": None,
        }
        super().__init__(VaultDatabaseEngineProvider(), name, props, opts)
