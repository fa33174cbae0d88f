"""A real OpenBao server as the tests meet it: the session's dev server behind a per-test fault proxy,
with a path prefix no other test uses and the few helpers tests need (policies, tokens, faults)."""

from __future__ import annotations

from dataclasses import dataclass

import hvac

from tests.support.openbao import OpenBaoDevServer
from tests.support.proxy_faults import RequestRecord
from tests.support.vault_proxy import FaultProxy


@dataclass
class RealVault:
    """`url` goes through the proxy (faults apply); `direct_url` reaches the server itself."""

    server: OpenBaoDevServer
    proxy: FaultProxy
    prefix: str

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def direct_url(self) -> str:
        return self.server.addr

    @property
    def root_token(self) -> str:
        return self.server.root_token

    def client(self, token: str | None = None) -> hvac.Client:
        """A client through the proxy (root token by default)."""
        return hvac.Client(url=self.url, token=token or self.root_token, timeout=10)

    def root(self) -> hvac.Client:
        """A root client straight to the server, unaffected by injected faults."""
        return self.server.client()

    def put_policy(self, name: str, text: str) -> None:
        self.root().sys.create_or_update_acl_policy(name=name, policy=text)

    def create_token(self, policies: list[str], *, ttl: int = 3600, renewable: bool = True) -> str:
        auth = self.root().auth.token.create(policies=policies, ttl=f"{ttl}s", renewable=renewable)["auth"]
        return str(auth["client_token"])

    # --- faults (see tests/support/vault_proxy.py) ---

    def fail_next(self, count: int = 1, *, status: int = 503, path_prefix: str | None = None) -> None:
        self.proxy.fail_next(count, status=status, path_prefix=path_prefix)

    def drop_next(self, count: int = 1, *, path_prefix: str | None = None) -> None:
        self.proxy.drop_next(count, path_prefix=path_prefix)

    def add_latency(
        self, seconds: float, *, path_prefix: str | None = None, count: int | None = None
    ) -> None:
        self.proxy.add_latency(seconds, path_prefix=path_prefix, count=count)

    def seal(self) -> None:
        self.proxy.sealed = True

    def unseal(self) -> None:
        self.proxy.sealed = False

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.proxy.request_log
