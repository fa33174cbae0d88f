"""`get`, `env` and `status`: the read-only subcommands of `candlefish-secrets`."""

from __future__ import annotations

import argparse
from typing import Any

from candlefish_secrets import references
from candlefish_secrets.cli import (
    EXIT_ACCESS_DENIED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    add_client_options,
    emit,
    environ,
)
from candlefish_secrets.client import SecretsClient
from candlefish_secrets.dotenv import read_env_file
from candlefish_secrets.values import MASK


def client_from_args(args: argparse.Namespace) -> SecretsClient:
    """A client from the environment, with the command line's options taking precedence."""
    env = environ()
    for option, variable in (
        ("vault_addr", "VAULT_ADDR"),
        ("kv_mount", "CANDLEFISH_KV_MOUNT"),
        ("fallback_env", "CANDLEFISH_FALLBACK_ENV"),
    ):
        value = getattr(args, option, None)
        if value:
            env[variable] = value
    return SecretsClient.from_env(env)


def register(subparsers: Any) -> None:
    get = subparsers.add_parser("get", help="print the value a reference names")
    get.add_argument("reference", help="vault://<path>[#field][?version=N] or aws-sm://<name>[#field][?...]")
    add_client_options(get)
    get.set_defaults(handler=_get)

    env = subparsers.add_parser("env", help="print an env file with its references resolved (masked)")
    env.add_argument("--file", required=True, help="the env file, e.g. .env.production")
    env.add_argument("--reveal", action="store_true", help="print resolved values instead of ***")
    add_client_options(env)
    env.set_defaults(handler=_env)

    status = subparsers.add_parser("status", help="who am I, is Vault reachable, token TTL, cache figures")
    add_client_options(status)
    status.set_defaults(handler=_status)


def _get(args: argparse.Namespace) -> int:
    references.require(args.reference)
    with client_from_args(args) as client:
        value = client.get(args.reference)
        emit(args, value, {"value": value, **client.describe(args.reference)})
    return EXIT_OK


def _env(args: argparse.Namespace) -> int:
    variables = read_env_file(args.file)
    with client_from_args(args) as client:
        resolved = client.resolve_env(variables)
    shown = {
        name: value if args.reveal or not references.is_reference(variables[name]) else MASK
        for name, value in resolved.items()
    }
    machine = {
        name: {
            "value": shown[name],
            "reference": variables[name] if references.is_reference(variables[name]) else None,
        }
        for name in shown
    }
    emit(args, "\n".join(f"{name}={value}" for name, value in shown.items()), machine)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    with client_from_args(args) as client:
        report = client.status()
    emit(args, _human_status(report), report)
    vault = report.get("vault")
    if vault is None:
        return EXIT_OK
    if not vault.get("reachable") or vault.get("sealed"):
        return EXIT_UNAVAILABLE
    return EXIT_ACCESS_DENIED if "token_error" in vault else EXIT_OK


def _human_status(report: dict[str, Any]) -> str:
    lines = []
    vault = report.get("vault")
    if vault is None:
        lines.append("vault: not configured (set VAULT_ADDR)")
    else:
        state = "reachable" if vault.get("reachable") else f"UNREACHABLE ({vault.get('error')})"
        if vault.get("sealed"):
            state = "SEALED"
        lines.append(f"vault: {vault['address']} {state} version={vault.get('version')}")
        token = vault.get("token")
        if token:
            ttl = "never expires" if token["ttl_s"] is None else f"ttl {token['ttl_s']}s"
            lines.append(
                f"identity: {token['auth_method']} {token['display_name']} "
                f"policies={','.join(token['policies'])} {ttl} renewable={token['renewable']}"
            )
        elif "token_error" in vault:
            lines.append(f"identity: {vault['token_error']}")
    cache = report["cache"]
    lines.append(
        f"cache: {cache['entries']} entries, {cache['hits']} hits, {cache['misses']} misses, "
        f"{cache['stale_serves']} stale serves, {cache['refresh_errors']} refresh errors"
    )
    fallback = report["fallback"]
    lines.append(f"fallback: {fallback['reads']} reads in {fallback['outages']} outages")
    return "\n".join(lines)
