"""The Vault test server: an HTTP server on 127.0.0.1 that answers like HashiCorp Vault's HTTP API.

It is for tests only and is NOT a substitute for Vault in production or anywhere else.  The implementation
lives in the ``tests.support.vault`` package; this module is the stable import path.
"""

from tests.support.vault import Clock, FaultInjector, RequestRecord, VaultTestServer

__all__ = ["Clock", "FaultInjector", "RequestRecord", "VaultTestServer"]
