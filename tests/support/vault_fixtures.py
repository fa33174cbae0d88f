"""Pytest fixtures for the Vault test server (register with ``pytest_plugins = ["tests.support.vault_fixtures"]``).

``vault_server`` is a fresh, initialised, unsealed, active server per test (auto-unseal, KV v2 at ``secret/``);
``vault_client`` is an ``hvac.Client`` holding its root token.  ``vault_server_factory`` builds servers in
other states (``vault_server_factory(sealed=True, seal_type="shamir")``) and stops them all afterwards.
``vault_server_session`` is one server shared by a whole session, for read-mostly tests that do not care
about isolation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import hvac
import pytest

from tests.support.vault_server import VaultTestServer


@pytest.fixture
def vault_server_factory() -> Iterator[Callable[..., VaultTestServer]]:
    servers: list[VaultTestServer] = []

    def build(**kwargs: Any) -> VaultTestServer:
        server = VaultTestServer(**kwargs).start()
        servers.append(server)
        return server

    yield build
    for server in servers:
        server.stop()


@pytest.fixture
def vault_server() -> Iterator[VaultTestServer]:
    server = VaultTestServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.internal_errors, f"the Vault test server hit its own bugs: {server.internal_errors}"


@pytest.fixture(scope="session")
def vault_server_session() -> Iterator[VaultTestServer]:
    server = VaultTestServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def vault_client(vault_server: VaultTestServer) -> Iterator[hvac.Client]:
    client = vault_server.client()
    try:
        yield client
    finally:
        client.adapter.close()
