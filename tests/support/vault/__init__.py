"""An in-process HTTP server that follows HashiCorp Vault's documented HTTP API, for tests.

Tests drive real ``hvac`` clients over real HTTP against it.  It is NOT a substitute for Vault anywhere
else: no encryption, no persistence, a subset of the API.  See ``VaultTestServer``.
"""

from tests.support.vault.core import Clock
from tests.support.vault.faults import FaultInjector, RequestRecord
from tests.support.vault.server import VaultTestServer

__all__ = ["Clock", "FaultInjector", "RequestRecord", "VaultTestServer"]
