"""Rotate one catalog secret now and wait for the result.

    python -m tools.rotate <name> --stack production [--timeout 300]

Reads the environment and region from the stack file, then runs the SDK's manual rotation
(`candlefish_secrets.rotate`, also `candlefish-secrets rotate`): RotateSecret, then wait until the new
version is AWSCURRENT and, when `VAULT_ADDR` and Vault credentials are set, until Vault holds it too
(exit 0); the function reports that the credential must be rotated by hand (exit 3); or the timeout
passes (exit 1). Uses the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from candlefish_secrets.errors import SecretsError
from candlefish_secrets.rotate import (
    Outcome,
    RotationFailed,
    resolve_arn,
    rotate,
    rotate_catalog_secret,
    vault_check_from_env,
)

from components.config.stack import ConfigError, parse_stack_config
from components.deployment import Names
from tools import stackfile

__all__ = ["Outcome", "RotationFailed", "main", "resolve_arn", "rotate"]
EXIT_USAGE = 2


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
    names = [entry.name for entry in config.catalog]
    if args.name not in names:
        print(
            f"error: {args.name!r} is not in the {args.stack} catalog ({', '.join(names)})", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        check = vault_check_from_env(dict(os.environ))
    except SecretsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return rotate_catalog_secret(
        Names(config.environment).secret(args.name),
        region=config.region,
        timeout_s=args.timeout,
        vault_agrees=check,
    )


if __name__ == "__main__":
    sys.exit(main())
