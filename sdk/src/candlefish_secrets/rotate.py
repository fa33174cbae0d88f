"""Manual rotation of a catalog secret: start Secrets Manager's rotation now and wait for the outcome.

`rotate` asks Secrets Manager to run the secret's rotation function (RotateSecret), then watches the secret
until the new version is AWSCURRENT and (when a Vault check is given) Vault holds the same value, or the
function reports that the credential must be rotated by hand, or the timeout passes. This is the one
implementation: `candlefish-secrets rotate` and `python -m tools.rotate` both call it.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from candlefish_secrets.aws import CATALOG_PREFIX
from candlefish_secrets.errors import ConfigurationError, RotationFailed, SecretNotFound, SecretsError
from candlefish_secrets.values import CATALOG_VALUE_KEY

POLL_S = 2.0
MANUAL_TAG = ("RotationStatus", "manual-rotation-required")

VaultCheck = Callable[[Any, str], bool]
"""Given the Secrets Manager client and the secret id: does Vault hold the AWSCURRENT value?"""


@dataclass(frozen=True)
class Outcome:
    """How a rotation ended."""

    version_id: str
    manual: bool


def rotate(
    client: Any,
    secret_id: str,
    *,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    vault_agrees: VaultCheck | None = None,
) -> Outcome:
    """Start a rotation of `secret_id` and wait until it finishes (and Vault agrees, when checked)."""
    before = client.describe_secret(SecretId=secret_id)
    if not before.get("RotationEnabled"):
        raise RotationFailed(f"{secret_id} has no rotation configured; run `pulumi up` first")
    previous = _current_version(before)
    try:
        started = client.rotate_secret(SecretId=secret_id)
    except Exception as error:
        code = str(
            (getattr(error, "response", None) or {}).get("Error", {}).get("Code", type(error).__name__)
        )
        if "previous rotation" in str(error).lower():
            raise RotationFailed(
                f"{secret_id}: a previous rotation has not finished; look at the rotation "
                "function's log group, fix the cause, then run this again"
            ) from None
        raise RotationFailed(f"{secret_id}: could not start a rotation ({code}: {error})") from None
    token = started.get("VersionId", "")
    deadline = time.monotonic() + timeout_s
    waiting_for = "AWSCURRENT"
    while True:
        state = client.describe_secret(SecretId=secret_id)
        tags = {tag["Key"]: tag["Value"] for tag in state.get("Tags") or []}
        current = _current_version(state)
        pending = [
            v for v, stages in (state.get("VersionIdsToStages") or {}).items() if "AWSPENDING" in stages
        ]
        if current not in (None, previous) and not [v for v in pending if v != current]:
            if vault_agrees is None or vault_agrees(client, secret_id):
                return Outcome(version_id=current or "", manual=False)
            waiting_for = "Vault to hold the new value"
        elif tags.get(MANUAL_TAG[0]) == MANUAL_TAG[1] and not pending:
            return Outcome(version_id=previous or "", manual=True)
        if time.monotonic() >= deadline:
            subject = f"version {token or '?'} is still not AWSCURRENT"
            if waiting_for != "AWSCURRENT":
                subject = f"Vault still differs from AWSCURRENT version {current}"
            raise RotationFailed(
                f"{secret_id}: {subject} after {timeout_s:.0f}s; look at the rotation function's log group "
                "for a rotation_failed event"
            )
        sleep(POLL_S)


def resolve_arn(client: Any, name: str) -> str:
    """The ARN of the secret named exactly `name`.

    Secrets Manager reads a name ending in a hyphen and six characters (`.../jwt-secret`) as a partial ARN,
    so catalog secrets are addressed by ARN, found through an exact match on the name.
    """
    pages = client.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [name]}])
    for page in pages:
        for entry in page.get("SecretList", []):
            if entry.get("Name") == name:
                return str(entry["ARN"])
    raise RotationFailed(f"no secret named {name}; has `pulumi up` created the catalog?")


def vault_check(read_vault_value: Callable[[str], str | None]) -> VaultCheck:
    """A check that reads the secret's `VaultPath` tag and compares Vault's value with AWSCURRENT's.

    `read_vault_value(path)` returns the KV `value` at `path` (None when absent). Values are compared in
    constant time and never printed.
    """

    def agrees(client: Any, secret_id: str) -> bool:
        tags = {t["Key"]: t["Value"] for t in client.describe_secret(SecretId=secret_id).get("Tags") or []}
        path = tags.get("VaultPath")
        if not path:
            raise RotationFailed(f"{secret_id} has no VaultPath tag; cannot compare it with Vault")
        current = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
        in_vault = read_vault_value(path)
        return in_vault is not None and hmac.compare_digest(in_vault.encode(), str(current).encode())

    return agrees


def vault_check_from_env(environ: dict[str, str]) -> VaultCheck | None:
    """A Vault check with the SDK's own Vault session when VAULT_ADDR is set, else None."""
    if not environ.get("VAULT_ADDR"):
        return None
    from candlefish_secrets.client import SecretsClient  # noqa: PLC0415 - avoids an import cycle

    client = SecretsClient.from_env(environ)
    session = client._vault  # the rotation check reads beside the cache, on purpose
    assert session is not None

    def read(path: str) -> str | None:
        try:
            data = session.kv_read(client.kv_mount, path).data
        except SecretNotFound:
            return None
        value = data.get(CATALOG_VALUE_KEY)
        return value if isinstance(value, str) else None

    return vault_check(read)


def _current_version(described: dict[str, Any]) -> str | None:
    stages = described.get("VersionIdsToStages") or {}
    return next((version for version, labels in stages.items() if "AWSCURRENT" in labels), None)


def rotate_catalog_secret(
    secret_id: str, *, region: str | None, timeout_s: float, vault_agrees: VaultCheck | None
) -> int:
    """Resolve, rotate and report one secret; the exit code the CLI documents (0, 1 or 3)."""
    import boto3  # noqa: PLC0415 - only once the arguments are good
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from candlefish_secrets.cli import EXIT_FAILED, EXIT_MANUAL_ROTATION, EXIT_OK  # noqa: PLC0415

    try:
        client = boto3.client("secretsmanager", region_name=region)
        outcome = rotate(
            client, resolve_arn(client, secret_id), timeout_s=timeout_s, vault_agrees=vault_agrees
        )
    except (RotationFailed, SecretsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "an error")
        print(f"error: {secret_id}: Secrets Manager answered {code}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"error: {secret_id}: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
    if outcome.manual:
        print(f"{secret_id} is issued outside this platform: a manual rotation notice went out, value kept")
        return EXIT_MANUAL_ROTATION
    where = (
        "Secrets Manager and Vault" if vault_agrees else "Secrets Manager (Vault not checked: no VAULT_ADDR)"
    )
    print(f"{secret_id} rotated: version {outcome.version_id} is AWSCURRENT in {where}")
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rotate", help="rotate a catalog secret now and wait for the result")
    parser.add_argument("name", help="catalog entry name (jwt-secret) or full secret name")
    parser.add_argument(
        "--environment",
        default=os.environ.get("CANDLEFISH_ENVIRONMENT"),
        help="the catalog's environment, for candlefish/<env>/<name> (default: $CANDLEFISH_ENVIRONMENT)",
    )
    parser.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")
    parser.add_argument(
        "--no-vault-check", action="store_true", help="do not wait for Vault to hold the new value"
    )
    parser.set_defaults(handler=_rotate)


def _rotate(args: argparse.Namespace) -> int:
    if "/" in args.name or args.name.startswith("arn:"):
        secret_id = args.name
    elif args.environment:
        secret_id = f"{CATALOG_PREFIX}/{args.environment}/{args.name}"
    else:
        raise ConfigurationError(
            f"rotate {args.name}: give --environment (or CANDLEFISH_ENVIRONMENT) or the full secret name"
        )
    if args.timeout <= 0:
        raise ConfigurationError(f"--timeout {args.timeout}: must be greater than 0 seconds")
    check = None if args.no_vault_check else vault_check_from_env(dict(os.environ))
    return rotate_catalog_secret(secret_id, region=args.region, timeout_s=args.timeout, vault_agrees=check)
