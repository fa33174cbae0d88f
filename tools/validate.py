"""Validate a deployed stack: is Vault healthy, durable, audited and backed up right now?

    VAULT_TOKEN=<admin token> python -m tools.validate [--stack production] [--json]
    VAULT_TOKEN=... python -m tools.validate --vault-addr https://... --ca-cert ca.pem \
        --snapshot-bucket <bucket> --node-addr https://10.0.1.10:8200 --node-addr ...

With `--stack`, the addresses come from `pulumi stack output --json` (vaultAddress, vaultCaCertificate,
snapshotBucketName, unsealKeyArn for the region, canarySecretArn when present); flags override them.
Checks: every node's health and seal state, the leader, Raft peers and autopilot health with the failure
tolerance the cluster size should give (2 for five nodes), audit devices, a canary written and read back
through Vault and through Secrets Manager, the TLS certificate's days to expiry, the age of the newest
snapshot (< 2 h) and that no root or break-glass token is alive. Each failed check names the first thing
to do. Exit 0: all passed; 1: a check failed; 2: a check could not run (and none failed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tools import validate_checks as checks
from tools.validate_checks import FAIL, PASS, UNKNOWN, Check
from tools.vault_http import VaultHttp

EXIT_OK, EXIT_FAILED, EXIT_UNKNOWN = 0, 1, 2
ALL_CHECKS = ("nodes", "leader", "raft", "autopilot", "audit", "vault-canary", "sm-canary", "tls", "snapshot",
              "tokens")  # fmt: skip


class StackOutputsUnavailable(RuntimeError):
    """`pulumi stack output` could not be read."""


def stack_outputs(stack: str) -> dict[str, Any]:
    """The stack's outputs, through the Pulumi CLI (secrets stay masked: none are needed here)."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, the stack name is one argument
            ["pulumi", "stack", "output", "--json", "--stack", stack],  # noqa: S607 - pulumi from PATH
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StackOutputsUnavailable(f"cannot run `pulumi stack output`: {error}") from None
    if done.returncode != 0:
        raise StackOutputsUnavailable(f"`pulumi stack output --stack {stack}` failed: {done.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(done.stdout or "{}")
    return outputs


def region_of(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 4 and parts[3] else None


def run_checks(
    entry: VaultHttp,
    nodes: Sequence[VaultHttp],
    *,
    skip: Sequence[str] = (),
    expected_voters: int | None = None,
    s3: Any = None,
    secretsmanager: Any = None,
    snapshot_bucket: str | None = None,
    snapshot_prefix: str = "raft-snapshots/",
    sm_canary: str | None = None,
) -> list[Check]:
    """Run every check not in `skip`, in the order an operator reads them."""
    found: list[Check] = []
    wanted = [name for name in ALL_CHECKS if name not in skip]
    if "nodes" in wanted:
        found += checks.node_health(nodes or [entry])
    if "leader" in wanted:
        found.append(checks.leader(entry))
    if "raft" in wanted:
        found.append(checks.raft_peers(entry, expected_voters))
    if "autopilot" in wanted:
        found.append(checks.autopilot(entry, expected_voters))
    if "audit" in wanted:
        found.append(checks.audit_devices(entry))
    if "vault-canary" in wanted:
        found.append(checks.vault_canary(entry))
    if "sm-canary" in wanted:
        found.append(checks.secrets_manager_canary(secretsmanager, sm_canary))
    if "tls" in wanted:
        found.append(checks.tls_expiry(entry.addr, entry.ca_cert))
    if "snapshot" in wanted:
        found.append(checks.snapshot_age(s3, snapshot_bucket, snapshot_prefix))
    if "tokens" in wanted:
        found.append(checks.privileged_tokens(entry))
    return found


def exit_code(found: Sequence[Check]) -> int:
    statuses = {check.status for check in found}
    if FAIL in statuses:
        return EXIT_FAILED
    return EXIT_UNKNOWN if UNKNOWN in statuses else EXIT_OK


def render(found: Sequence[Check]) -> None:
    """A table on the terminal (colour only on a TTY, as rich decides)."""
    from rich.console import Console  # noqa: PLC0415 - only for the table
    from rich.table import Table  # noqa: PLC0415

    colours = {PASS: "green", FAIL: "bold red", UNKNOWN: "yellow"}
    table = Table(title="candlefish-secrets: validate")
    for column in ("check", "status", "detail", "first step"):
        table.add_column(column, overflow="fold")
    for check in found:
        status = f"[{colours[check.status]}]{check.status.upper()}[/]"
        table.add_row(check.name, status, check.detail, check.first_step if check.status != PASS else "")
    Console().print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.validate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="read addresses from this stack's outputs (pulumi stack output)")
    parser.add_argument("--vault-addr", default=os.environ.get("VAULT_ADDR"), help="default $VAULT_ADDR")
    parser.add_argument("--ca-cert", default=os.environ.get("VAULT_CACERT"), help="default $VAULT_CACERT")
    parser.add_argument("--node-addr", action="append", default=[], help="a node's API address (repeat)")
    parser.add_argument("--expected-voters", type=int, help="raft voters there should be (the cluster size)")
    parser.add_argument("--snapshot-bucket", help="backup bucket (stack output snapshotBucketName)")
    parser.add_argument("--snapshot-prefix", default="raft-snapshots/")
    parser.add_argument(
        "--sm-canary", help="Secrets Manager canary secret ARN (stack output canarySecretArn)"
    )
    parser.add_argument("--region", default=os.environ.get("AWS_REGION"), help="AWS region of the stack")
    parser.add_argument(
        "--skip", action="append", default=[], choices=ALL_CHECKS, help="skip a check (repeat)"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ca_file = None
    if args.stack:
        try:
            outputs = stack_outputs(args.stack)
        except StackOutputsUnavailable as error:
            print(f"error: {error}; pass --vault-addr and the other flags instead", file=sys.stderr)
            return EXIT_UNKNOWN
        args.vault_addr = args.vault_addr or outputs.get("vaultAddress")
        args.snapshot_bucket = args.snapshot_bucket or outputs.get("snapshotBucketName")
        args.sm_canary = args.sm_canary or outputs.get("canarySecretArn")
        args.region = args.region or region_of(outputs.get("unsealKeyArn"))
        if not args.ca_cert and outputs.get("vaultCaCertificate"):
            ca_file = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)  # noqa: SIM115
            ca_file.write(outputs["vaultCaCertificate"])
            ca_file.close()
            args.ca_cert = ca_file.name
    problems = []
    if not (args.vault_addr or "").startswith(("http://", "https://")):
        problems.append("--vault-addr (or VAULT_ADDR, or --stack) must give an http:// or https:// URL")
    token = os.environ.get("VAULT_TOKEN", "")
    if not token:
        problems.append("VAULT_TOKEN must hold an operator token (admin, for the token and audit checks)")
    if args.expected_voters is not None and args.expected_voters < 1:
        problems.append("--expected-voters must be at least 1")
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return EXIT_UNKNOWN
    s3 = secretsmanager = None
    if "snapshot" not in args.skip or "sm-canary" not in args.skip:
        import boto3  # noqa: PLC0415 - only once the arguments are good

        s3 = boto3.client("s3", region_name=args.region)
        secretsmanager = boto3.client("secretsmanager", region_name=args.region)
    try:
        found = run_checks(
            VaultHttp(args.vault_addr, token, args.ca_cert),
            [VaultHttp(addr, "", args.ca_cert) for addr in args.node_addr],
            skip=args.skip,
            expected_voters=args.expected_voters,
            s3=s3,
            secretsmanager=secretsmanager,
            snapshot_bucket=args.snapshot_bucket,
            snapshot_prefix=args.snapshot_prefix,
            sm_canary=args.sm_canary,
        )
    finally:
        if ca_file is not None:
            os.unlink(ca_file.name)  # noqa: PTH108
    if args.json:
        print(json.dumps({"checks": [asdict(check) for check in found], "exit": exit_code(found)}, indent=2))
    else:
        render(found)
    return exit_code(found)


if __name__ == "__main__":
    sys.exit(main())
