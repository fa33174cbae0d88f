"""A fault-injecting HTTP proxy in front of a real OpenBao server, for what a healthy server never does.

Requests are forwarded unchanged to the upstream server (TLS verified against its CA when it has one)
and its answers returned unchanged, except where a test asked for a fault:

- `fail_next(n, status=..., path_prefix=...)`: answer with that status and a Vault-style `errors` body
  (429 rate limit, 5xx, 412) without reaching the server;
- `drop_next(n)`: close the connection without an answer (a reset);
- `add_latency(seconds)`: delay before forwarding (client timeouts);
- `aws_auth`: an `AwsAuthStandIn` answering the AWS auth paths OpenBao lacks (and listing `aws/` in
  `sys/auth`), with access decided by the real server;
- `seal_after_init(polls)`: sys/health sealed for that many polls after a successful sys/init (an
  auto-unseal that is slow or never finishes); `rewrite(path, change)`: alter a real JSON answer (e.g.
  autopilot reporting a peer unhealthy);
- `sealed = True`: answer as a sealed node does (sys/health 503, or the `sealedcode` the caller asked
  for, with a sealed node's fields; sys/seal-status `sealed: true`; everything else 503 "Vault is
  sealed") while the real server stays unsealed.

`request_log` records method, path (no query values, bodies or tokens), status and the injected fault.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import requests

from tests.support.aws_auth_standin import AwsAuthStandIn
from tests.support.proxy_faults import FaultInjector, RequestLog, RequestRecord

# Headers passed through in each direction (hop-by-hop and length headers are the proxy's own business).
FORWARDED_REQUEST_HEADERS = ("X-Vault-Token", "Content-Type", "X-Vault-Request", "X-Vault-Wrap-TTL", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Retry-After", "Location")
SEALED_ERROR = "Vault is sealed"
SEALED_HEALTH_CODE = 503  # sys/health's default code for a sealed node (Vault's API docs, sys/health)
# sys/seal-status fields only an unsealed node reports (it knows its cluster once its keyring is open).
UNSEALED_ONLY_FIELDS = ("cluster_name", "cluster_id", "build_date")
# How often the serving thread checks for stop() (socketserver's default of 0.5 s is paid at every stop).
STOP_POLL_S = 0.05


class FaultProxy:
    """A loopback proxy to `upstream`; start() binds a free port, `url` is what clients use."""

    def __init__(self, upstream: str, *, ca_cert: str | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.sealed = False
        self.sealed_after_init: int | None = None  # polls answered sealed once sys/init succeeded
        self.rewrites: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.aws_auth: AwsAuthStandIn | None = None
        self._session = requests.Session()
        self._session.verify = ca_cert or True
        self._initialised = False
        self._poll_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def with_aws_auth(self, minter_token: str | None = None) -> FaultProxy:
        """Serve the AWS auth method's paths from a stand-in (OpenBao has none); see AwsAuthStandIn.
        `minter_token` (root) mints the tokens its logins return."""
        self.aws_auth = AwsAuthStandIn(self.upstream, minter_token, self._session.verify)
        return self

    def start(self) -> FaultProxy:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_S},
            name="vault-fault-proxy",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._session.close()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- test controls ---

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        path_prefix: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        self.faults.fail_next(count, status=status, path_prefix=path_prefix, method=method, message=message)

    def drop_next(self, count: int = 1, *, path_prefix: str | None = None) -> None:
        self.faults.drop_next(count, path_prefix=path_prefix)

    def add_latency(
        self, seconds: float, *, path_prefix: str | None = None, count: int | None = None
    ) -> None:
        self.faults.add_latency(seconds, path_prefix=path_prefix, count=count)

    def seal_after_init(self, polls: int) -> None:
        """Once sys/init succeeds, answer the next `polls` sys/health requests as a sealed node: an
        auto-unseal that takes that long (or, with a large number, never completes)."""
        self.sealed_after_init = polls

    def rewrite(self, path: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Pass the real server's JSON answer for `path` through `change` (a state it cannot be put in)."""
        self.rewrites[path] = change

    def clear(self) -> None:
        self.faults.clear()
        self.log.clear()
        self.rewrites.clear()
        self.sealed = False
        self.sealed_after_init = None

    @property
    def request_log(self) -> list[RequestRecord]:
        return self.log.records()

    # --- answering ---

    def sealed_answer(self, path: str, query: str) -> tuple[int, dict[str, Any]]:
        """What a sealed node answers (checked against a really sealed server in
        tests/test_vault_parity_real.py): sys/health 503 unless `sealedcode` asks otherwise, with the
        fields a sealed node still reports; sys/seal-status 200 with `sealed: true`; the rest 503."""
        if path == "sys/health":
            asked = parse_qs(query).get("sealedcode", [""])[0]
            status = int(asked) if asked.isdigit() else SEALED_HEALTH_CODE
            upstream = self._upstream_json("sys/health?standbyok=true&perfstandbyok=true")
            return status, {
                "initialized": True,
                "sealed": True,
                "standby": True,
                "replication_performance_mode": "unknown",
                "replication_dr_mode": "unknown",
                "server_time_utc": int(time.time()),
                "version": upstream.get("version", ""),
            }
        if path == "sys/seal-status":
            upstream = self._upstream_json("sys/seal-status")
            kept = {key: value for key, value in upstream.items() if key not in UNSEALED_ONLY_FIELDS}
            return 200, {**kept, "sealed": True, "progress": 0, "nonce": ""}
        return 503, {"errors": [SEALED_ERROR]}

    def take_sealed_poll(self) -> bool:
        with self._poll_lock:
            if not self._initialised or not self.sealed_after_init:
                return False
            self.sealed_after_init -= 1
            return True

    def _upstream_json(self, target: str) -> dict[str, Any]:
        answer = self._session.get(f"{self.upstream}/v1/{target}", timeout=10, verify=self._session.verify)
        return _json(answer.content)

    def forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> requests.Response:
        return self._session.request(
            method,
            f"{self.upstream}{target}",
            headers=headers,
            data=body or None,
            timeout=60,
            allow_redirects=False,
            verify=self._session.verify,  # explicit: REQUESTS_CA_BUNDLE in the environment would win
        )


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _with_aws_mount(content: bytes, aws_auth: AwsAuthStandIn) -> bytes:
    """`sys/auth` as the real server listed it, plus the stand-in's `aws/` once it is enabled."""
    if not aws_auth.enabled:
        return content
    listing = json.loads(content)
    listing.setdefault("data", {})["aws/"] = aws_auth.mount_entry()
    listing["aws/"] = aws_auth.mount_entry()
    return json.dumps(listing).encode()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The status line and headers go out in one write and the body in another: with Nagle's algorithm
        # the body then waits for the client's delayed ACK (about 40 ms on Linux) on every kept-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _serve(self) -> None:
            began = time.monotonic()
            method = self.command
            path = self.path.split("?", 1)[0].removeprefix("/v1/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            delay, fault = proxy.faults.take(path, method)
            if delay:
                time.sleep(delay)
            label: str | None = None
            if fault is not None and fault.kind == "drop":
                proxy.log.add(RequestRecord(method, path, None, 0, "drop", 0.0))
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None:
                status = fault.status
                payload: dict[str, Any] = {"errors": [fault.error_message(path)]}
                label = f"fail:{fault.status}"
                self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
            elif proxy.sealed or (path == "sys/health" and proxy.take_sealed_poll()):
                status, payload = proxy.sealed_answer(path, self.path.partition("?")[2])
                label = "sealed"
                self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
            elif proxy.aws_auth is not None and proxy.aws_auth.handles(path):
                token = self.headers.get("X-Vault-Token") or ""
                operation = "LIST" if "list=true" in self.path else method
                status, reply = proxy.aws_auth.answer(operation, path, token, _json(body))
                label = "aws-auth-stand-in"
                content = json.dumps(reply).encode() if reply is not None else b""
                self._send(status, content, {"Content-Type": "application/json"} if reply is not None else {})
            else:
                headers = {
                    name: self.headers[name] for name in FORWARDED_REQUEST_HEADERS if self.headers.get(name)
                }
                answer = proxy.forward(method, self.path, headers, body)
                status, content = answer.status_code, answer.content
                if proxy.aws_auth is not None and path == "sys/auth" and method == "GET" and status == 200:
                    content = _with_aws_mount(content, proxy.aws_auth)
                if path == "sys/init" and method == "PUT" and status == 200:
                    proxy._initialised = True
                if path in proxy.rewrites and status == 200:
                    content = json.dumps(proxy.rewrites[path](_json(content))).encode()
                kept = {
                    name: answer.headers[name]
                    for name in FORWARDED_RESPONSE_HEADERS
                    if name in answer.headers
                }
                self._send(status, content, kept)
            proxy.log.add(RequestRecord(method, path, None, status, label, (time.monotonic() - began) * 1000))

        def _send(self, status: int, content: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_LIST = _serve

    return Handler
