"""Pytest fixtures for the real PostgreSQL (registered in tests/conftest.py `pytest_plugins`).

- `postgres_rds` (session): the server of tests/support/postgres.py, started once, with a TLS front
  (`.tls`, tests/support/postgres_tls.py) whose CA is `.tls.ca.ca_cert`. If it cannot start, every test
  using it fails with the reason; nothing is skipped.
- `postgres_database` (function): a fresh database owned by the master user, as RDS makes `DBName`.
  Afterwards it is dropped with every role a test created (the groups and logins of the bootstrap SQL
  are cluster-wide), so each test starts from a clean RDS-like server.

The start-up time is printed in pytest's terminal summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.support import loopback_ca
from tests.support.postgres import PostgresServer
from tests.support.postgres_tls import TlsFront

_started: list[PostgresServer] = []
_worker_lines: list[str] = []  # from pytest-xdist workers, on the controller


@dataclass(frozen=True)
class RdsDatabase:
    """A database on the session's server, owned by the master user."""

    server: PostgresServer
    name: str

    def dsn(self, **credentials: str) -> str:
        """Plain TCP to this database, as the master user unless `user`/`password` are given."""
        return self.server.dsn(self.name, **credentials)

    def tls_dsn(self, *, sslmode: str = "verify-full", **options: str) -> str:
        """Through the TLS front, verifying its certificate against the test CA."""
        assert self.server.tls is not None
        plain = conninfo_to_dict(self.dsn())
        plain.update(port=self.server.tls.port, sslmode=sslmode, sslrootcert=str(self.server.tls.ca.ca_cert))
        plain.update(options)
        return make_conninfo(**{key: str(value) for key, value in plain.items()})


@pytest.fixture(scope="session")
def postgres_rds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """The session's PostgreSQL with an RDS-like master user, and a TLS front."""
    server = PostgresServer()
    server.start()  # raises PostgresStartError with the reason: the tests using it fail, never skip
    server.baseline_roles = server.role_names()
    certificates = loopback_ca.issue(
        tmp_path_factory.mktemp("postgres-tls"), cert_file="postgres.pem", key_file="postgres-key.pem"
    )
    server.tls = TlsFront(server.port, certificates)
    _started.append(server)
    try:
        yield server
    finally:
        server.tls.stop()
        server.stop()


@pytest.fixture
def postgres_database(postgres_rds: PostgresServer) -> Iterator[RdsDatabase]:
    """A fresh database owned by the master user; it and every role made meanwhile go afterwards."""
    name = f"candlefish_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_rds.dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield RdsDatabase(postgres_rds, name)
    finally:
        postgres_rds.reset(drop_databases=[name])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, hand the start-up line to the controller, which prints the summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["postgres_startup_lines"] = _summary_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker finished; keep its start-up line for the summary."""
    _worker_lines.extend(getattr(node, "workeroutput", {}).get("postgres_startup_lines", []))


def _summary_lines() -> list[str]:
    return [
        f"postgres_rds: PostgreSQL started in {server.startup_seconds:.2f}s "
        f"(initdb, start, roles; running as {server.run_as.name if server.run_as else '?'})"
        for server in _started
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in [*_summary_lines(), *_worker_lines]:
        terminalreporter.write_line(line)
