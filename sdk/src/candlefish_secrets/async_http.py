"""A minimal HTTP/1.1 GET client on asyncio streams, for `aget`'s Vault reads without a thread per read.

Only what a KV v2 read needs: GET with headers, keep-alive connections kept per event loop, TLS with the
session's CA, bodies sized by Content-Length or chunked. It never follows redirects and never uses a
proxy (the session decides, at construction, to use it only when no proxy applies). Anything it cannot
handle is an `AsyncHttpError`; the caller then goes the synchronous way, which handles every case.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024  # Vault's own max_request_size default


class AsyncHttpError(Exception):
    """The request could not be made or its answer not read (no secret material in the message)."""


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class AsyncGetter:
    """GETs against one base URL, with up to `pool_size` idle keep-alive connections per event loop."""

    def __init__(self, base_url: str, verify: bool | str, timeout_s: float, pool_size: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc
        self.timeout_s = timeout_s
        self.pool_size = pool_size
        self._tls = parts.scheme == "https"
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None  # made on first use: a bad CA file fails the read, not here
        # Streams belong to the loop that opened them. A closed loop's are dropped on the next call, and
        # their transports close their sockets when collected (`asyncio.run` per call leaks nothing).
        self._idle: dict[asyncio.AbstractEventLoop, list[_Connection]] = {}

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) of `GET path`; AsyncHttpError when it cannot be made or read."""
        loop = asyncio.get_running_loop()
        for gone in [other for other in self._idle if other.is_closed()]:
            del self._idle[gone]
        idle = self._idle.setdefault(loop, [])
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host_header}", "Accept: application/json"]
        if any("\r" in text or "\n" in text for text in (path, *headers.values())):
            raise AsyncHttpError("a line break in the request line or a header")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        reused = bool(idle)
        connection = idle.pop() if idle else None
        try:
            if connection is None:
                connection = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port, ssl=self._context()), self.timeout_s
                )
            status, body, keep = await asyncio.wait_for(self._exchange(connection, request), self.timeout_s)
        except TimeoutError:  # before OSError, of which it is a subclass
            if connection is not None:
                connection[1].close()
            raise AsyncHttpError(f"no answer within {self.timeout_s:g}s") from None
        except (OSError, EOFError, asyncio.LimitOverrunError, ValueError) as error:
            if connection is not None:
                connection[1].close()
            if reused:  # the server closed an idle connection: try again (a new one once the idle are used)
                return await self.get(path, headers)
            raise AsyncHttpError(type(error).__name__) from None
        if keep and len(idle) < self.pool_size:
            idle.append(connection)
        else:
            connection[1].close()
        return status, body

    def _context(self) -> ssl.SSLContext | None:
        if self._tls and self._ssl is None:
            verify = self._verify
            context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
            if verify is False:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl = context
        return self._ssl

    async def _exchange(self, connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        reader, writer = connection
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise ValueError("header too large")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        version, code, *_ = status_line.split(" ", 2)
        fields: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        if "chunked" in fields.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in fields:
            length = int(fields["content-length"])
            if length > MAX_BODY_BYTES:
                raise ValueError("body too large")
            body = await reader.readexactly(length)
        else:
            raise ValueError("a body without a length")  # not something Vault sends
        keep = version == "HTTP/1.1" and fields.get("connection", "").lower() != "close"
        return int(code), body, keep

    def close(self) -> None:
        """Close every idle connection, each on its own loop (from any thread)."""
        for loop, connections in list(self._idle.items()):
            if loop.is_closed():
                continue
            for _, writer in connections:
                loop.call_soon_threadsafe(writer.close)
        self._idle.clear()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers from Vault: the empty line after the last chunk
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise ValueError("body too large")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
