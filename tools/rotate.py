"""Rotate one catalog secret now and wait for the result.

    python -m tools.rotate <name> --stack production [--timeout 300]

Asks Secrets Manager to run the secret's rotation function (RotateSecret), then watches the secret until
the new version is AWSCURRENT (exit 0), the function reports that the credential must be rotated by hand
(exit 3), or the timeout passes (exit 1). Uses the caller's AWS credentials and the stack's region.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from components.config.stack import ConfigError, parse_stack_config
from tools import stackfile

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MANUAL = 0, 1, 2, 3
POLL_S = 2.0


class RotationFailed(RuntimeError):
    """The rotation could not be started or did not finish."""


@dataclass(frozen=True)
class Outcome:
    """How a rotation ended."""

    version_id: str
    manual: bool


def rotate(
    client: Any, secret_id: str, *, timeout_s: float, sleep: Callable[[float], None] = time.sleep
) -> Outcome:
    """Start a rotation of `secret_id` and wait until it finishes."""
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
            ) from None  # fmt: skip
        raise RotationFailed(f"{secret_id}: could not start a rotation ({code}: {error})") from None
    token = started.get("VersionId", "")
    deadline = time.monotonic() + timeout_s
    while True:
        state = client.describe_secret(SecretId=secret_id)
        tags = {tag["Key"]: tag["Value"] for tag in state.get("Tags") or []}
        current = _current_version(state)
        pending = [
            v for v, stages in (state.get("VersionIdsToStages") or {}).items() if "AWSPENDING" in stages
        ]
        if current not in (None, previous) and not [v for v in pending if v != current]:
            return Outcome(version_id=current or "", manual=False)
        if tags.get("RotationStatus") == "manual-rotation-required" and not pending:
            return Outcome(version_id=previous or "", manual=True)
        if time.monotonic() >= deadline:
            raise RotationFailed(
                f"{secret_id}: version {token or '?'} is still not AWSCURRENT after {timeout_s:.0f}s; "
                "look at the rotation function's log group for a rotation_failed event"
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


def _current_version(described: dict[str, Any]) -> str | None:
    stages = described.get("VersionIdsToStages") or {}
    return next((version for version, labels in stages.items() if "AWSCURRENT" in labels), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.rotate", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="catalog entry name, e.g. jwt-secret")
    parser.add_argument(
        "--stack", required=True, help="stack whose Pulumi.<stack>.yaml names the environment"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")
    args = parser.parse_args(argv)

    try:
        loaded = stackfile.load(args.stack)
        config = parse_stack_config(loaded.values, stack=args.stack, secret_keys=loaded.secret_keys)
    except (FileNotFoundError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    names = [entry.name for entry in config.secrets]
    if args.name not in names:
        print(
            f"error: {args.name!r} is not in the {args.stack} catalog ({', '.join(names)})", file=sys.stderr
        )
        return EXIT_USAGE

    import boto3  # noqa: PLC0415 - only needed once the arguments are good

    client = boto3.client("secretsmanager", region_name=config.region)
    secret_id = f"candlefish/{config.environment}/{args.name}"
    try:
        outcome = rotate(client, resolve_arn(client, secret_id), timeout_s=args.timeout)
    except RotationFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    if outcome.manual:
        print(f"{secret_id} is issued outside this platform: a manual rotation notice went out, value kept")
        return EXIT_MANUAL
    print(f"{secret_id} rotated: version {outcome.version_id} is AWSCURRENT in Secrets Manager and Vault")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
