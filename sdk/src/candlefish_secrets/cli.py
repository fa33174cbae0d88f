"""The `candlefish-secrets` command: get, env, run, rotate, status (and extensions such as break-glass).

Exit codes (the one place they are defined; every subcommand, extensions included, uses these):

| code | meaning |
| --- | --- |
| 0 | success |
| 1 | failed (a rotation that failed or timed out, an unexpected error) |
| 2 | usage or configuration error, malformed reference, a value that is not JSON |
| 3 | the secret is issued outside the platform: a manual-rotation notice went out (`rotate`) |
| 4 | secret, version, stage or field not found |
| 5 | access denied or Vault login refused |
| 6 | Vault or Secrets Manager unavailable (unreachable, sealed, timed out) |
| 126 | `run`: the command cannot be executed |
| 127 | `run`: the command was not found |
| 128+N | `run`: the command was killed by signal N |
| other | `run`: the command's own exit code |

Errors go to stderr (as one JSON object with `--json`); nothing prompts, so scripts and CI can use it.

Extensions: a module with `register(subparsers)` adds its own subcommands; each sets `handler` (a function
taking the parsed arguments and returning an exit code) with `set_defaults`. Modules listed in `EXTENSIONS`
are registered when they can be imported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from candlefish_secrets.errors import SecretsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MANUAL_ROTATION = 3
EXIT_NOT_FOUND = 4
EXIT_ACCESS_DENIED = 5
EXIT_UNAVAILABLE = 6
EXIT_CANNOT_EXECUTE = 126
EXIT_COMMAND_NOT_FOUND = 127
EXIT_SIGNAL_BASE = 128

# Subcommand modules, each with `register(subparsers)`. Built-ins first, then optional extensions.
BUILTINS = ("candlefish_secrets.cli_commands", "candlefish_secrets.runner", "candlefish_secrets.rotate")
EXTENSIONS = ("candlefish_secrets.cli_break_glass",)

Handler = Callable[[argparse.Namespace], int]


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand that reads secrets shares (also usable by extensions)."""
    parser.add_argument("--vault-addr", help="Vault address (default: $VAULT_ADDR)")
    parser.add_argument("--kv-mount", help="KV v2 mount of vault:// references (default: secret)")
    parser.add_argument(
        "--fallback-env",
        help="read the catalog's Secrets Manager copy (candlefish/<env>/<name>) when Vault is down",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="candlefish-secrets",
        description="Read and manage Candlefish secrets (vault:// and aws-sm:// references).",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 3 manual rotation, 4 not found, 5 denied, "
        "6 unavailable; run: the command's code, 126/127, or 128+N when signal N killed it.",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output (and errors)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in BUILTINS:
        importlib.import_module(name).register(subparsers)
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def emit(args: argparse.Namespace, human: str, machine: Any) -> None:
    """Print the result: `machine` as JSON with --json, else `human`."""
    if getattr(args, "json", False):
        print(json.dumps(machine, sort_keys=True))
    else:
        print(human)


def report_error(error: BaseException, *, as_json: bool) -> None:
    """One error on stderr, as text or as a JSON object with its type."""
    if as_json:
        print(json.dumps({"error": str(error), "type": type(error).__name__}), file=sys.stderr)
    else:
        print(f"candlefish-secrets: error: {error}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SecretsError as error:
        report_error(error, as_json=args.json)
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT_SIGNAL_BASE + 2


def environ() -> dict[str, str]:
    """A copy of the process environment (handlers never mutate os.environ)."""
    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main())
