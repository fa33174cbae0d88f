"""The HTTP side of the Vault test server and its public Python API, ``VaultTestServer``."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.support.vault.core import (
    Clock,
    Request,
    Response,
    VaultHTTPError,
    multierror,
)
from tests.support.vault.faults import FaultInjector, RequestLog, RequestRecord
from tests.support.vault.policy import parse_policy
from tests.support.vault.router import Router
from tests.support.vault.state import VaultState

if TYPE_CHECKING:
    import hvac

    from tests.support.vault.auth_aws import IamIdentity

RAW_BODY_PATHS = ("sys/storage/raft/snapshot", "sys/storage/raft/snapshot-force")


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so ``stop`` can close them and join every thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: VaultTestServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        self.connections_accepted = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="vault-test-server-conn",
            daemon=True,
        )
        with self._conn_lock:
            self._connections.add(request)
            self._conn_threads.add(thread)
            self.connections_accepted += 1
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except OSError:
            pass  # the client went away, or stop() closed the socket
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._connections.discard(request)
                self._conn_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None

    def close_connections(self, timeout: float = 2.0) -> None:
        with self._conn_lock:
            connections = list(self._connections)
            threads = list(self._conn_threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; don't wait for delayed ACKs
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every HTTP method (GET, PUT, LIST, PATCH, TRACE ...) reaches _serve; Vault decides what is allowed.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in {b"\r\n", b"\n", b""}:
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        owner = self.server.owner
        started = time.perf_counter()
        split = urlsplit(self.path)
        raw_body = self._read_body()
        method = self.command.upper()
        path = split.path[len("/v1/") :] if split.path.startswith("/v1/") else split.path
        while "//" in path:
            path = path.replace("//", "/")
        delay, fault = owner.faults.take(path, method)
        if delay:
            time.sleep(delay)
        accessor: str | None = None
        if fault is not None and fault.kind == "drop":
            owner.log.add(
                RequestRecord(method, path, None, 0, "drop", (time.perf_counter() - started) * 1000)
            )
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None:
            response = Response(fault.status, {"errors": [fault.error_message(path)]})
        elif not split.path.startswith("/v1/"):
            response = Response(404, {"errors": []})
        else:
            try:
                request = self._build_request(method, path, split.query, raw_body)
                response, accessor = owner.router.dispatch(request)
            except VaultHTTPError as exc:
                body = exc.body if exc.body is not None else {"errors": exc.errors}
                response = Response(exc.status, body)
            except Exception as exc:  # a bug in the test server: surface it, and to the test too
                owner.internal_errors.append(repr(exc))
                response = Response(
                    500, {"errors": [multierror(f"vault test server internal error: {exc!r}")]}
                )
        # Recorded before the answer goes out: a client that has its answer always finds the request logged.
        owner.log.add(
            RequestRecord(
                method,
                path,
                accessor,
                response.status,
                f"fail:{fault.status}" if fault is not None else None,
                (time.perf_counter() - started) * 1000,
            )
        )
        self._write(response, method)

    def _build_request(self, method: str, path: str, query_string: str, raw_body: bytes) -> Request:
        headers = {name.title(): value for name, value in self.headers.items()}
        body: dict[str, Any] = {}
        if raw_body.strip() and path not in RAW_BODY_PATHS:
            try:
                parsed = json.loads(raw_body)
            except ValueError as exc:
                raise VaultHTTPError(400, f"failed to parse JSON input: {exc}") from None
            if not isinstance(parsed, dict):
                raise VaultHTTPError(
                    400,
                    "failed to parse JSON input: json: cannot unmarshal "
                    f"{type(parsed).__name__} into Go value of type map[string]interface {{}}",
                )
            body = parsed
        token = headers.get("X-Vault-Token")
        authorization = headers.get("Authorization", "")
        if not token and authorization.lower().startswith("bearer "):
            token = authorization[len("bearer ") :].strip()
        return Request(
            method=method,
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            body=body,
            raw_body=raw_body,
            headers=headers,
            token=token or None,
        )

    def _write(self, response: Response, method: str) -> None:
        if isinstance(response.body, bytes):
            payload = response.body
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        if response.status != 204:
            if payload or response.status >= 400:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", "0" if method == "HEAD" else str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if payload and method != "HEAD" and response.status != 204:
            self.wfile.write(payload)
        self.wfile.flush()


class VaultTestServer:
    """A local HTTP server that answers like HashiCorp Vault for the endpoints this project uses.

    It exists so tests can drive real ``hvac`` clients over real HTTP.  It is NOT Vault and must never stand
    in for Vault outside tests: nothing is encrypted, nothing persists, and only a documented subset of the
    API is implemented (everything else answers 404 with an ``errors`` body).

    Parameters mirror the states a node can be in: ``initialized``/``sealed``, ``seal_type`` (``"awskms"``
    or another auto-unseal type, or ``"shamir"``), ``standby``/``performance_standby``/``dr_secondary``.
    With an auto-unseal seal, ``auto_unseal_polls`` makes the node stay sealed for that many
    ``sys/seal-status``/``sys/health`` polls after init (or after start, when it starts initialised).
    """

    def __init__(
        self,
        *,
        initialized: bool = True,
        sealed: bool = False,
        standby: bool = False,
        performance_standby: bool = False,
        dr_secondary: bool = False,
        seal_type: str = "awskms",
        key_shares: int = 5,
        key_threshold: int = 3,
        auto_unseal_polls: int = 0,
        kv_mount: str | None = "secret",
        clock: Clock | None = None,
        node_id: str = "vault-0",
        leader_address: str = "https://vault-active.example.internal:8200",
    ) -> None:
        self.clock = clock or Clock()
        self.state = VaultState(
            clock=self.clock,
            seal_type=seal_type,
            node_id=node_id,
            cluster_address=f"{node_id}.example.internal:8201",
            kv_mount=kv_mount,
        )
        self.state.standby = standby
        self.state.performance_standby = performance_standby
        self.state.dr_secondary = dr_secondary
        self.state.leader_api_address = leader_address
        self.state.auto_unseal_polls_needed = auto_unseal_polls
        self.router = Router(self.state)
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.internal_errors: list[str] = []
        self._unseal_keys: list[str] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        if initialized:
            self._initialize(key_shares, key_threshold, sealed=sealed)

    def _initialize(self, shares: int, threshold: int, *, sealed: bool) -> None:
        field = "recovery" if self.state.seal.auto_unseal else "secret"
        request = Request(
            method="PUT",
            path="sys/init",
            query={},
            body={f"{field}_shares": shares, f"{field}_threshold": threshold},
            raw_body=b"",
            headers={},
            token=None,
        )
        with self.state.lock:
            response = self.router.system.initialize(request)
            assert isinstance(response.body, dict)
            keys = response.body.get("keys_base64") or response.body.get("recovery_keys_base64") or []
            self._unseal_keys = [str(key) for key in keys]
            if sealed:
                self.state.sealed = True
                self.state.auto_unseal_polls_needed = 0  # stays sealed until unseal() (or sys/unseal keys)
            elif not self.state.seal.auto_unseal:
                self.state.sealed = False  # a booted Shamir node that an operator already unsealed
            # auto-unseal and not sealed: initialize() applied auto_unseal_polls already

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> VaultTestServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._httpd = _HTTPServer(self)
        self.state.api_address = self.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="vault-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> VaultTestServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far (keep-alive clients reuse one)."""
        return self._httpd.connections_accepted if self._httpd is not None else 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def root_token(self) -> str | None:
        return self.state.root_token

    @property
    def unseal_keys(self) -> list[str]:
        """Base64 unseal keys (Shamir) or recovery keys (auto-unseal) from the init done at construction."""
        return list(self._unseal_keys)

    def client(self, token: str | None = None, **kwargs: Any) -> hvac.Client:
        import hvac

        return hvac.Client(url=self.url, token=token if token is not None else self.root_token, **kwargs)

    # --- node state --------------------------------------------------------------------------------------

    def seal(self) -> None:
        with self.state.lock:
            self.state.sealed = True
            self.state.unseal_progress = []

    def unseal(self) -> None:
        with self.state.lock:
            if not self.state.initialized:
                raise RuntimeError("cannot unseal an uninitialised node")
            self.state.sealed = False
            self.state.unseal_progress = []

    def step_down(self) -> None:
        """Become a standby (as ``sys/step-down`` does); ``promote`` makes the node active again."""
        with self.state.lock:
            self.state.standby = True

    def promote(self) -> None:
        with self.state.lock:
            self.state.standby = False
            self.state.performance_standby = False
            self.state.active_time = self.clock.now()

    def set_performance_standby(self, value: bool = True) -> None:
        with self.state.lock:
            self.state.performance_standby = value

    def set_dr_secondary(self, value: bool = True) -> None:
        with self.state.lock:
            self.state.dr_secondary = value

    # --- raft --------------------------------------------------------------------------------------------

    def add_raft_peer(
        self, node_id: str, address: str | None = None, *, voter: bool = True, healthy: bool = True
    ) -> None:
        with self.state.lock:
            self.state.raft.add_peer(
                node_id,
                address or f"{node_id}.example.internal:8201",
                voter=voter,
                healthy=healthy,
                now=self.clock.now(),
            )

    def remove_raft_peer(self, node_id: str) -> bool:
        with self.state.lock:
            return self.state.raft.remove_peer(node_id)

    def set_raft_peer_health(self, node_id: str, healthy: bool, *, last_contact_seconds: float = 0.0) -> None:
        with self.state.lock:
            peer = self.state.raft.find(node_id)
            if peer is None:
                raise KeyError(node_id)
            peer.healthy = healthy
            peer.last_contact_seconds = last_contact_seconds

    def set_expected_raft_peers(self, count: int | None) -> None:
        """How many peers the cluster should have; autopilot reports unhealthy while it has fewer."""
        with self.state.lock:
            self.state.raft.expected_peers = count

    # --- auth and engines --------------------------------------------------------------------------------

    def register_iam_identity(
        self,
        access_key_id: str,
        arn: str,
        *,
        user_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> IamIdentity:
        """Declare what STS answers for ``access_key_id``; a ``secret_access_key`` also checks signatures."""
        return self.state.register_iam_identity(
            access_key_id, arn, user_id=user_id, secret_access_key=secret_access_key
        )

    def set_iam_lookups_allowed(self, allowed: bool) -> None:
        """Whether Vault's own AWS credentials may call iam:GetRole/GetUser (resolve_aws_unique_ids)."""
        with self.state.lock:
            self.state.iam_lookups_allowed = allowed

    def set_per_element_list_matching(self, enabled: bool = True) -> None:
        """Match list parameters element by element against policies' allowed and denied values, as Vault
        1.21 and later do (docs/concepts/policies "List parameter evaluation"); off, a list is matched as
        a whole, as in Vault 1.20 and earlier."""
        with self.state.lock:
            self.state.per_element_list_matching = enabled

    def put_policy(self, name: str, text: str) -> None:
        with self.state.lock:
            self.state.policies[name] = parse_policy(name, text)

    def create_token(self, policies: list[str], *, ttl: int = 3600, renewable: bool = True) -> str:
        """Mint a token without going through HTTP (adds ``default``); returns its id."""
        with self.state.lock:
            entry = self.state.tokens.create(
                policies=[*policies, "default"],
                path="auth/token/create",
                display_name="token-test",
                ttl=ttl,
                renewable=renewable,
            )
            return entry.id

    # --- faults and the request log ----------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 503, path_prefix: str | None = None) -> None:
        self.faults.fail_next(count, status=status, path_prefix=path_prefix)

    def drop_next(self, count: int = 1, *, path_prefix: str | None = None) -> None:
        self.faults.drop_next(count, path_prefix=path_prefix)

    def add_latency(
        self, seconds: float, *, path_prefix: str | None = None, count: int | None = None
    ) -> None:
        self.faults.add_latency(seconds, path_prefix=path_prefix, count=count)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.log.records()

    def clear_request_log(self) -> None:
        self.log.clear()
