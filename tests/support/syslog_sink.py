"""A local syslog socket for real OpenBao's `syslog` audit device, which refuses to be enabled when
nothing listens on /dev/log (OpenBao: "Unix syslog delivery error"). Production nodes have journald there.

If something already listens on /dev/log (a syslog daemon), it is left alone and `messages` stays empty.
Otherwise a datagram socket is bound there for the session (replacing a stale one an interrupted run
left), collects what arrives, and is removed at the end.
Binding /dev/log needs root (CI runs as root); elsewhere the fixture fails saying so.
/dev/log is one path for the whole machine: two test sessions at once (a developer's and CI's, or two
worktrees) share it. A session that found another's socket binds its own when that one goes away
(`ensure`, before every test that needs it), and removes /dev/log at the end only while it is still its own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

DEV_LOG = Path("/dev/log")


class SyslogSink:
    """A datagram socket at `path` (/dev/log for OpenBao; tests of the sink itself use a temporary path)."""

    def __init__(self, path: Path = DEV_LOG) -> None:
        self.path = path
        self.messages: list[str] = []
        self.owned = False
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._inode: int | None = None

    def start(self) -> SyslogSink:
        if self.path.exists() and _listening(self.path):
            return self
        if self.path == DEV_LOG and os.geteuid() != 0:
            raise RuntimeError(
                "the syslog audit device needs a syslog socket at /dev/log: run a syslog daemon or run the "
                "tests as root (CI does), so the test can bind one"
            )
        self.path.unlink(missing_ok=True)  # a socket left by an interrupted run: nothing listens on it
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(self.path))
        self._socket.settimeout(0.2)
        self._inode = self.path.stat().st_ino
        self.owned = True
        self._thread = threading.Thread(target=self._collect, name="syslog-sink", daemon=True)
        self._thread.start()
        return self

    def ensure(self) -> SyslogSink:
        """Something listens at the path: still this sink or another session's, else a new socket of ours."""
        if self.path.exists() and _listening(self.path):
            return self
        self.stop()
        return self.start()

    def _collect(self) -> None:
        sock = self._socket
        while sock is not None and self._socket is sock:
            with contextlib.suppress(TimeoutError, OSError):
                data = sock.recv(65536)
                self.messages.append(data.decode(errors="replace"))

    def stop(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.owned:
            with contextlib.suppress(FileNotFoundError):
                if self.path.stat().st_ino == self._inode:  # not another session's socket since
                    self.path.unlink()
            self.owned = False


def _listening(path: Path = DEV_LOG) -> bool:
    """Whether something receives at `path` (a daemon, or this session's sink)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


@contextlib.contextmanager
def syslog_sink() -> Iterator[SyslogSink]:
    sink = SyslogSink().start()
    try:
        yield sink
    finally:
        sink.stop()
