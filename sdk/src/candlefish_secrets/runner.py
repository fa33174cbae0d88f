"""`run`: start a command with the references in its environment resolved (like `op run`, `chamber exec`).

By default the process `exec`s into the command: nothing is left to supervise, the command gets this
process's PID, signals and exit status directly. With `--supervise` it stays as the parent instead (for
process managers that watch the PID they started, or to report how the command ended): every signal it
can catch is forwarded to the command, and it exits with the command's code, or 128+N when signal N
killed it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from candlefish_secrets.cli import (
    EXIT_CANNOT_EXECUTE,
    EXIT_COMMAND_NOT_FOUND,
    EXIT_SIGNAL_BASE,
    EXIT_USAGE,
    add_client_options,
    environ,
)
from candlefish_secrets.cli_commands import client_from_args
from candlefish_secrets.dotenv import read_env_file

# Signals that cannot be caught, or that concern this process rather than the command.
_NOT_FORWARDED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="run a command with references resolved in its environment",
        description="candlefish-secrets run --env-file .env.production -- CMD [ARGS...]",
    )
    run.add_argument("--env-file", action="append", default=[], help="env file(s) to add (later ones win)")
    run.add_argument(
        "--supervise", action="store_true", help="stay as the parent and forward signals instead of exec"
    )
    add_client_options(run)
    run.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    command = list(args.command_line)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("candlefish-secrets: error: run needs a command after --", file=sys.stderr)
        return EXIT_USAGE
    merged = environ()
    for path in args.env_file:
        merged.update(read_env_file(path))
    with client_from_args(args) as client:
        resolved = client.resolve_env(merged)
    if args.supervise:
        return supervise(command, resolved)
    return exec_command(command, resolved)


def exec_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Replace this process with `command`; returns only when it could not be started."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], list(command), dict(env))  # noqa: S606 - running the user's command is the point
    except OSError as error:
        return _cannot_start(command[0], error)
    return EXIT_CANNOT_EXECUTE  # pragma: no cover - execvpe does not return


def _cannot_start(program: str, error: OSError) -> int:
    """Report a command that could not be started, with the shell's exit codes (127, 126)."""
    if isinstance(error, FileNotFoundError):
        print(f"candlefish-secrets: error: {program}: command not found", file=sys.stderr)
        return EXIT_COMMAND_NOT_FOUND
    print(f"candlefish-secrets: error: {program}: cannot execute ({error.strerror})", file=sys.stderr)
    return EXIT_CANNOT_EXECUTE


def supervise(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `command` as a child, forward every catchable signal, and exit as it did."""
    try:
        child = subprocess.Popen(list(command), env=dict(env))  # noqa: S603 - the user's command
    except OSError as error:
        return _cannot_start(command[0], error)

    def forward(number: int, _frame: Any) -> None:
        if child.poll() is None:
            child.send_signal(number)

    previous = {}
    for number in signal.valid_signals():
        if number in _NOT_FORWARDED:
            continue
        try:
            previous[number] = signal.signal(number, forward)
        except (OSError, ValueError):
            continue  # not catchable on this platform
    try:
        while True:
            try:
                code = child.wait()
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
                continue
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return EXIT_SIGNAL_BASE - code if code < 0 else code
