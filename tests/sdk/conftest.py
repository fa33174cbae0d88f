"""Helpers shared by the SDK's tests: clients on the real OpenBao dev server, unique paths, waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from candlefish_secrets import SecretsClient, TokenAuth
from candlefish_secrets.cache import SecretCache
from candlefish_secrets.vault import VaultSession


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.01)


@pytest.fixture
def kv_path() -> str:
    """A KV path no other test uses on the shared dev server."""
    return f"candlefish/sdk-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bao_sdk(openbao_dev) -> Iterator[Callable[..., SecretsClient]]:
    """Build SDK clients on the session's OpenBao dev server (root token unless `auth` is given)."""
    made: list[SecretsClient] = []

    def build(auth=None, *, cache: SecretCache | None = None, **session_options) -> SecretsClient:
        session = VaultSession(openbao_dev.addr, auth or TokenAuth(openbao_dev.root_token), **session_options)
        client = SecretsClient(vault=session, cache=cache or SecretCache())
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
