"""A Vault session: one token, renewed before it expires, re-acquired once on 403, and KV v2 reads.

Renewal happens inline before a call once a third of the token's TTL is left (and, when the client runs
its renewer, in the background). A renewal that the server caps (the token reached its max TTL) or refuses
leads to a fresh login when the auth method can log in again. A 403 on a read is checked against the
token itself (lookup-self): a dead token means log in again and retry once; a live token means the policy
denies the path, which is `AccessDenied` at once. Every request has a timeout, so a revoked token or a
hung server never blocks a caller for longer than that.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import hvac
import hvac.exceptions
import requests

from candlefish_secrets.async_http import AsyncGetter, AsyncHttpError
from candlefish_secrets.auth import Login, VaultAuth, login_from_auth
from candlefish_secrets.errors import (
    AccessDenied,
    AuthenticationFailed,
    ConfigurationError,
    SecretNotFound,
    SecretsError,
    VaultUnavailable,
)

T = TypeVar("T")
log = logging.getLogger("candlefish_secrets")
RENEW_FRACTION = 1 / 3  # renew once this fraction of the TTL is left
DEFAULT_POOL_SIZE = 64  # keep-alive connections to Vault; size it to the threads that read at once


@dataclass(frozen=True)
class KvRead:
    """One KV v2 read: the data (as Vault returned it), its version and when it was written (epoch s)."""

    data: dict[str, Any] = field(repr=False)
    version: int
    created_epoch: float | None


@dataclass(frozen=True)
class TokenState:
    """What `status` shows about the session's token (never the token itself)."""

    method: str
    display_name: str
    policies: tuple[str, ...]
    ttl_s: float | None  # None: never expires
    renewable: bool
    logins: int
    renewals: int


class VaultSession:
    """A Vault address, an auth method and the token it produced; thread-safe."""

    def __init__(
        self,
        address: str,
        auth: VaultAuth,
        *,
        verify: bool | str = True,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        renew_in_background: bool = True,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        if pool_size < 1:
            raise ConfigurationError(f"pool_size={pool_size!r}: need at least 1 connection")
        self.address = address.rstrip("/")
        self._auth = auth
        self._clock = clock
        session, verify = _pooled(self.address, verify, pool_size)
        self._client = hvac.Client(url=self.address, verify=verify, timeout=timeout_s, session=session)
        # `aget` reads without a thread when no proxy stands between the client and Vault.
        self._async: AsyncGetter | None = (
            None if session.proxies else AsyncGetter(self.address, verify, timeout_s, pool_size)
        )
        self._token_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        # Synchronous reads go through `akv_read` on one event loop of the session's own (a daemon thread
        # made on first use): a thread's read then costs a hand-over instead of a requests/hvac call.
        self._io: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._io_lock = threading.Lock()
        self._timeout_s = timeout_s
        self._login_client = hvac.Client(url=self.address, verify=verify, timeout=timeout_s)
        # hvac falls back to $VAULT_TOKEN and ~/.vault-token; only the configured auth may supply a token.
        self._client.token = None
        self._login_client.token = None
        self._lock = threading.Lock()
        self._login: Login | None = None
        self._expires_at: float | None = None
        self._granted_ttl = 0
        self.logins = 0
        self.renewals = 0
        self._background = renew_in_background
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return f"VaultSession(address={self.address!r}, auth={self._auth!r})"

    # --- token lifecycle -----------------------------------------------------------------------------

    def _adopt(self, login: Login) -> None:
        self._login = login
        self._client.token = login.token
        self._granted_ttl = login.ttl_s
        self._expires_at = self._clock() + login.ttl_s if login.ttl_s > 0 else None
        if self._expires_at is not None and self._renewer is None and self._background:
            self._renewer = threading.Thread(
                target=self._renew_in_background, name="candlefish-secrets-renewer", daemon=True
            )
            self._renewer.start()

    def _renew_in_background(self) -> None:
        """Keep the token alive while the cache serves hits and no call reaches Vault."""
        while not self._closed.is_set():
            delay = self.seconds_until_renewal()
            if delay is None:
                return
            if self._closed.wait(max(delay, 1.0)):
                return
            try:
                self.ensure_token()
            except Exception as error:  # the next call retries and reports; never let the thread die
                log.warning("candlefish-secrets: background token renewal failed: %s", _describe(error))
                self._closed.wait(5.0)

    def _log_in(self) -> None:
        login = self._auth.login(self._login_client)
        self.logins += 1
        self._adopt(login)

    def _renew(self) -> bool:
        """Renew the token; False when the server refused it or capped it at its max TTL (log in again)."""
        increment = self._granted_ttl
        try:
            answer = self._client.auth.token.renew_self(increment=increment or None)
        except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
            return False
        renewed = login_from_auth(answer.get("auth"), self._auth.method)
        self.renewals += 1
        previous = self._login
        self._login = Login(
            token=renewed.token,
            ttl_s=renewed.ttl_s,
            renewable=renewed.renewable,
            policies=previous.policies if previous else renewed.policies,
            display_name=previous.display_name if previous else "",
        )
        self._expires_at = self._clock() + renewed.ttl_s if renewed.ttl_s > 0 else None
        # Vault grants the increment unless the token reached its max TTL: then it will not renew again.
        return renewed.ttl_s >= increment

    def ensure_token(self) -> None:
        """Log in if there is no token; renew (or log in again) once a third of its TTL is left."""
        login, expires_at = self._login, self._expires_at
        if login is not None and (
            expires_at is None or expires_at - self._clock() > self._granted_ttl * RENEW_FRACTION
        ):
            return  # the common case, decided without the lock
        with self._lock:
            if self._login is None:
                self._log_in()
                return
            if self._expires_at is None:
                return
            left = self._expires_at - self._clock()
            if left > self._granted_ttl * RENEW_FRACTION:
                return
            renewed = False
            if self._login.renewable and left > 0:
                try:
                    renewed = self._renew()
                except (requests.RequestException, hvac.exceptions.VaultDown) as error:
                    raise VaultUnavailable(
                        f"renewing the Vault token failed: {type(error).__name__}"
                    ) from None
            if not renewed and self._auth.can_relogin:
                self._log_in()

    def seconds_until_renewal(self) -> float | None:
        """How long the background renewer may sleep; None when the token never expires."""
        with self._lock:
            if self._expires_at is None:
                return None
            due = self._expires_at - self._granted_ttl * RENEW_FRACTION
            return max(0.0, due - self._clock())

    def relogin_after_denial(self, token_used: str | None) -> bool:
        """After a 403: True when the token was dead and a new login succeeded (retry the call once)."""
        with self._lock:
            current = self._login.token if self._login else None
            if current is not None and current != token_used:
                return True  # another thread already logged in again
            try:
                self._client.auth.token.lookup_self()
                return False  # the token is alive: the policy denies the path
            except hvac.exceptions.Forbidden:
                pass
            except (requests.RequestException, hvac.exceptions.VaultDown):
                return False
            if not self._auth.can_relogin:
                raise AuthenticationFailed(
                    f"the Vault token ({self._auth.method}) was revoked or expired and cannot be re-acquired"
                )
            self._log_in()
            return True

    def token_state(self) -> TokenState:
        self.ensure_token()
        with self._lock:
            login = self._login
            left = None if self._expires_at is None else max(0.0, self._expires_at - self._clock())
        assert login is not None
        return TokenState(
            self._auth.method,
            login.display_name,
            login.policies,
            left,
            login.renewable,
            self.logins,
            self.renewals,
        )

    # --- calls -----------------------------------------------------------------------------------------

    def call(self, what: str, operation: Callable[[hvac.Client], T]) -> T:
        """Run `operation` with a valid token, translating Vault's failures into the SDK's errors."""
        for attempt in (1, 2):
            try:
                self.ensure_token()
            except SecretsError as error:
                raise type(error)(f"{what}: {error}", reference=error.reference) from None
            except (requests.RequestException, hvac.exceptions.VaultDown) as error:
                raise VaultUnavailable(f"{what}: Vault unreachable ({type(error).__name__})") from None
            token_used = self._client.token
            try:
                return operation(self._client)
            except hvac.exceptions.Forbidden:
                if attempt == 1 and self.relogin_after_denial(token_used):
                    continue
                raise AccessDenied(f"{what}: permission denied") from None
            except hvac.exceptions.InvalidPath:
                raise SecretNotFound(f"{what}: not found") from None
            except hvac.exceptions.VaultDown:
                raise VaultUnavailable(f"{what}: Vault is sealed or has no active node") from None
            except (hvac.exceptions.InternalServerError, hvac.exceptions.RateLimitExceeded) as error:
                raise VaultUnavailable(f"{what}: Vault answered {type(error).__name__}") from None
            except hvac.exceptions.BadGateway:
                raise VaultUnavailable(f"{what}: Vault answered 502") from None
            except requests.RequestException as error:
                raise VaultUnavailable(f"{what}: Vault unreachable ({type(error).__name__})") from None
        raise AccessDenied(f"{what}: permission denied after logging in again")

    def kv_read(self, mount: str, path: str, version: int | None = None) -> KvRead:
        """Read a KV v2 secret (a deleted or destroyed version is SecretNotFound).

        A plain 200 is read on the session's event loop (`akv_read`); every other answer, and any problem
        on the way, is then read again through hvac, which turns it into the SDK's typed errors."""
        loop = self._io_loop()
        if loop is not None:
            pending = asyncio.run_coroutine_threadsafe(self._read_on_loop(mount, path, version), loop)
            try:
                answer = pending.result(timeout=2 * self._timeout_s + 1)
            except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError, RuntimeError):
                pending.cancel()
                answer = None
            if answer is not None:
                return answer
        where = f"vault://{path}" + (f"?version={version}" if version else "")

        def read(client: hvac.Client) -> Any:
            return client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=mount, version=version, raise_on_deleted_version=True
            )

        return _kv_result(where, self.call(where, read))

    def _io_loop(self) -> asyncio.AbstractEventLoop | None:
        """The session's event loop for synchronous reads, started on first use; None when `akv_read` is
        off (a proxy in the way) or the session is closed."""
        if self._async is None or self._closed.is_set():
            return None
        with self._io_lock:
            if self._io is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve, args=(loop,), name="candlefish-secrets-io", daemon=True
                )
                thread.start()
                self._io = (loop, thread)
            return self._io[0]

    async def _aensure_token(self) -> None:
        """`ensure_token` in one worker thread that every coroutine of this loop needing it awaits."""
        loop = asyncio.get_running_loop()
        for gone in [other for other in self._token_tasks if other.is_closed()]:
            del self._token_tasks[gone]
        pending = self._token_tasks.get(loop)
        if pending is None or pending.done():
            pending = self._token_tasks[loop] = loop.create_task(asyncio.to_thread(self.ensure_token))
        await asyncio.shield(pending)

    async def akv_read(self, mount: str, path: str, version: int | None = None) -> KvRead | None:
        """`kv_read` for a caller on an event loop: see `_read_on_loop`."""
        return await self._read_on_loop(mount, path, version)

    async def _read_on_loop(self, mount: str, path: str, version: int | None) -> KvRead | None:
        """`kv_read` on the running event loop, without a thread, when the answer is a plain 200 (a login
        or renewal that is due first runs in a thread). None in every other case (a proxy in the way, a
        failed login, any other status, a connection problem): the caller then makes the synchronous
        call, which handles each of them (re-login, typed errors, fallback) in one place."""
        if self._async is None:
            return None
        expires_at = self._expires_at
        if self._login is None or (
            expires_at is not None and expires_at - self._clock() <= self._granted_ttl * RENEW_FRACTION
        ):
            try:
                await self._aensure_token()
            except (SecretsError, requests.RequestException, hvac.exceptions.VaultError):
                return None
        token = self._client.token
        if token is None:
            return None
        target = f"/v1/{quote(mount)}/data/{quote(path)}" + (f"?version={version}" if version else "")
        try:
            status, body = await self._async.get(target, {"X-Vault-Token": token, "X-Vault-Request": "true"})
        except AsyncHttpError:
            return None
        if status != 200:
            return None
        where = f"vault://{path}" + (f"?version={version}" if version else "")
        try:
            return _kv_result(where, json.loads(body))
        except (ValueError, SecretNotFound):
            return None

    def kv_current_version(self, mount: str, path: str) -> int:
        """The secret's `current_version` from its metadata (no value crosses the wire)."""

        def read(client: hvac.Client) -> Any:
            return client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)

        answer = self.call(f"vault://{path} (metadata)", read)
        return int((answer.get("data") or {}).get("current_version") or 0)

    def health(self) -> dict[str, Any]:
        """`sys/health` without a token: initialized, sealed, standby, version."""
        try:
            response = self._login_client.sys.read_health_status(method="GET")
        except requests.RequestException as error:
            raise VaultUnavailable(f"Vault at {self.address} unreachable ({type(error).__name__})") from None
        if isinstance(response, dict):
            return response
        try:
            return dict(response.json())
        except ValueError:
            return {"status": response.status_code}

    def close(self) -> None:
        self._closed.set()
        with self._io_lock:
            io, self._io = self._io, None
        if io is not None:
            loop, thread = io
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
        if self._async is not None:
            self._async.close()
        self._client.adapter.close()
        self._login_client.adapter.close()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """Run `loop` until stopped, then close it (its connections are dropped with it)."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


def _pooled(address: str, verify: bool | str, connections: int) -> tuple[requests.Session, bool | str]:
    """A session keeping up to `connections` keep-alive connections, so concurrent readers reuse them
    instead of opening (and, past the pool's size, throwing away) a connection per request.

    What requests would look up in the environment on every request (`HTTPS_PROXY`/`NO_PROXY`, the CA
    bundle in `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`, `~/.netrc`) is decided once here instead: that lookup
    walks the whole environment twice per call and was a fifth of a Vault read's client time. A netrc
    entry never applies (Vault authenticates by token). Returns the session and the `verify` to use.
    """
    from requests.adapters import HTTPAdapter  # noqa: PLC0415

    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(address)
    if verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.verify = verify  # hvac takes a given session's `verify` over its own argument
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(pool_connections=1, pool_maxsize=connections))
    return session, verify


def _kv_result(where: str, answer: Any) -> KvRead:
    body = answer.get("data") or {}
    metadata = body.get("metadata") or {}
    data = body.get("data")
    if data is None:
        raise SecretNotFound(f"{where}: the version is deleted or destroyed")
    return KvRead(dict(data), int(metadata.get("version") or 0), _epoch(metadata.get("created_time")))


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, SecretsError) else type(error).__name__


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    from datetime import datetime  # noqa: PLC0415

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
