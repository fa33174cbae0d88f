"""A small Vault HTTP client for the operator tools: status codes kept, tokens never shown.

hvac raises on the non-200 answers that matter here (sys/health's 429 for a standby, 503 sealed), so the
tools speak HTTP directly through one `requests` session per address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import requests

DEFAULT_TIMEOUT_S = 10.0


class VaultHttpError(RuntimeError):
    """Vault could not be reached or refused a request the tool cannot do without."""


@dataclass
class Answer:
    """One response: status, parsed JSON body (or {}), and the errors Vault listed."""

    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> dict[str, Any]:
        data = self.body.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def errors(self) -> str:
        return "; ".join(str(error) for error in self.body.get("errors") or []) or f"HTTP {self.status}"


@dataclass
class VaultHttp:
    """Requests to one Vault address (`https://host:8200`), with a token for the calls that need one."""

    addr: str
    token: str = field(default="", repr=False)
    ca_cert: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.addr = self.addr.rstrip("/")
        # A standby answers with a redirect to the active node for what it cannot serve; follow none of
        # them silently: the tools decide where a request goes.
        self.session.max_redirects = 0

    @property
    def _verify(self) -> str | bool:
        # Passed on every request: a session-level setting loses to REQUESTS_CA_BUNDLE in the environment.
        return self.ca_cert or True

    def with_token(self, token: str) -> VaultHttp:
        return VaultHttp(self.addr, token, self.ca_cert, self.timeout_s)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: BinaryIO | bytes | None = None,
        timeout_s: float | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"X-Vault-Token": self.token} if self.token else {}
        try:
            response = self.session.request(
                method,
                f"{self.addr}/v1/{path.lstrip('/')}",
                json=json,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout_s or self.timeout_s,
                allow_redirects=False,
                verify=self._verify,
            )
        except requests.RequestException as error:
            raise VaultHttpError(f"cannot reach Vault at {self.addr}: {type(error).__name__}") from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return Answer(response.status_code, body if isinstance(body, dict) else {})

    def get(self, path: str, **params: str) -> Answer:
        return self.request("GET", path, params=params or None)

    def list(self, path: str) -> Answer:
        return self.request("LIST", path)

    def post(self, path: str, payload: Any = None) -> Answer:
        return self.request("POST", path, json=payload)

    @contextmanager
    def stream(self, path: str, timeout_s: float) -> Iterator[requests.Response]:
        """A streamed GET (raft snapshots); the caller reads `iter_content`."""
        headers = {"X-Vault-Token": self.token} if self.token else {}
        try:
            response = self.session.get(
                f"{self.addr}/v1/{path.lstrip('/')}",
                headers=headers,
                timeout=timeout_s,
                stream=True,
                allow_redirects=False,
                verify=self._verify,
            )
        except requests.RequestException as error:
            raise VaultHttpError(f"cannot reach Vault at {self.addr}: {type(error).__name__}") from None
        try:
            yield response
        finally:
            response.close()

    def health(self) -> Answer:
        """sys/health, answering 200 on standbys too so the body is always there."""
        return self.get("sys/health", standbyok="true", perfstandbyok="true")

    def close(self) -> None:
        self.session.close()
