"""Pytest fixtures for the Vault test server.

Register with ``pytest_plugins = ["tests.support.vault_fixtures"]``.

- ``vault_server``: a fresh, initialised, unsealed, active server per test (auto-unseal, KV v2 ``secret/``).
- ``vault_client``: an ``hvac.Client`` holding that server's root token.
- ``vault_server_factory``: builds servers in other states, e.g.
  ``vault_server_factory(sealed=True, seal_type="shamir")``, and stops them all afterwards.
- ``vault_server_session``: one server for the session, for read-mostly tests that need no isolation.
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
