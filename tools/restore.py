"""Restore Vault from a raft snapshot in the backup bucket, or rehearse it (`--drill`).

    python -m tools.restore list --bucket <snapshot bucket> [--region us-east-1]
    VAULT_TOKEN=<admin token> python -m tools.restore restore --bucket <bucket> --vault-addr <addr> \
        [--snapshot <key or file name>] [--new-cluster] [--yes]
    python -m tools.restore --drill [--secrets 1000] [--json PATH]

`restore` picks the newest snapshot (or the named one), downloads it, checks it against the SHA-256 the
snapshot job recorded and the archive's own SHA256SUMS (a truncated or altered file is refused before
anything is touched), checks the cluster can use the KMS key the snapshot was sealed with, then sends it
to the active node: `sys/storage/raft/snapshot` into the same cluster, `sys/storage/raft/snapshot-force`
(`--new-cluster`) into a newly initialised one. It waits for every node to settle, then checks the
canary the snapshot job wrote and reports secrets whose version changed.
A restore replaces every secret, policy and token with the snapshot's: on a healthy cluster it refuses
without `--yes`. After `--new-cluster` the new cluster's root token and recovery keys stop working and the
ORIGINAL cluster's take their place; verification then needs a token of the original cluster in
VAULT_RESTORED_TOKEN. Exit 0: restored and verified; 1: failed; 2: refused or could not check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from components.config.dr import replica_arn
from tools import restore_checks, snapshots, validate_checks
from tools.restore_checks import PreflightFailed
from tools.snapshots import CANARY_PATH, SnapshotInvalid
from tools.validate import StackOutputsUnavailable, region_of, stack_outputs
from tools.vault_http import VaultHttp, VaultHttpError

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
RESTORE_TIMEOUT_S = 900.0  # a large snapshot is streamed to the active node in one request
SETTLE_TIMEOUT_S = 300.0
FORCED_WARNING = (
    "after a forced restore the new cluster's root token and recovery keys stop working: the ORIGINAL "
    "cluster's recovery keys and tokens take their place (keep them at hand, and generate a root token "
    "with them only if you must)"
)


class RestoreRefused(RuntimeError):
    """The restore was not attempted (the cluster is healthy and --yes is missing, or a check failed)."""


class RestoreFailed(RuntimeError):
    """Vault refused the snapshot or did not settle after it."""


@dataclass
class RestoreReport:
    """What happened, for the operator and `--json`."""

    snapshot: str
    target: str
    endpoint: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    verified: bool = False

    def check(self, name: str, ok: bool | None, detail: str) -> None:
        self.checks.append(
            {"check": name, "status": {True: "pass", False: "fail", None: "unknown"}[ok], "detail": detail}
        )


@dataclass(frozen=True)
class Expectations:
    """What the restored cluster should hold: the canary value and, where known, secret versions."""

    canary: str | None = None
    versions: dict[str, int] | None = None
    mount: str = "secret"
    version_prefix: str = "candlefish"


def unseal_key_here(recorded_arn: str, region: str | None) -> str:
    """The key the restoring cluster unseals with: the recorded key, or in another region its
    multi-Region replica (same key id; only multi-Region keys have one)."""
    if not region or restore_checks.key_region(recorded_arn) == region:
        return recorded_arn
    if "key/mrk-" not in recorded_arn:
        raise restore_checks.PreflightFailed(
            f"the snapshot was sealed with {recorded_arn}, a single-Region key: a cluster in {region} cannot "
            "unseal it (docs/runbooks/dr-failover.md; an HSM-backed stack has no cross-region unseal)"
        )
    return replica_arn(recorded_arn, region)


def active_node(entry: VaultHttp) -> VaultHttp:
    """The active node behind `entry` (a load balancer or any node): standbys redirect writes."""
    leader = entry.get("sys/leader")
    if not leader.ok:
        raise RestoreRefused(f"sys/leader at {entry.addr} answered {leader.errors}")
    if leader.body.get("ha_enabled") is False or leader.body.get("is_self"):
        return entry
    address = str(leader.body.get("leader_address") or "")
    if not address:
        raise RestoreRefused(f"{entry.addr} knows no active node: is the cluster initialised and unsealed?")
    return VaultHttp(address, entry.token, entry.ca_cert, entry.timeout_s)


def restore_snapshot(
    entry: VaultHttp,
    path: Path,
    *,
    new_cluster: bool,
    yes: bool,
    nodes: Sequence[VaultHttp] = (),
    verify_token: str | None = None,
    expect: Expectations = Expectations(),
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
    say: Callable[[str], None] = print,
) -> RestoreReport:
    """Verify the file, then restore it through the active node and check the result."""
    report = RestoreReport(snapshot=path.name, target=entry.addr, endpoint="")
    sums = snapshots.verify_archive(path)  # before anything touches Vault
    report.check(
        "archive", True, f"gzipped tar complete, meta.json and state.bin match SHA256SUMS ({len(sums)})"
    )
    active = active_node(entry)
    health = active.health()
    if health.ok and not health.body.get("sealed", True) and not yes:
        raise RestoreRefused(
            f"the cluster at {active.addr} is healthy and serving: a restore replaces every secret, policy "
            "and token with the snapshot's. Pass --yes to go ahead"
            + (f"; {FORCED_WARNING}" if new_cluster else "")
        )
    before: dict[str, int] = {}
    if not new_cluster:
        before = restore_checks.kv_versions(active, expect.mount, expect.version_prefix)
    endpoint = "sys/storage/raft/snapshot-force" if new_cluster else "sys/storage/raft/snapshot"
    report.endpoint = endpoint
    say(f"restoring {path.name} to {active.addr} through {endpoint}")
    if new_cluster:
        say(f"warning: {FORCED_WARNING}")
    began = time.monotonic()
    with path.open("rb") as body:
        answer = active.request("POST", endpoint, data=body, timeout_s=RESTORE_TIMEOUT_S)
    report.seconds["upload"] = round(time.monotonic() - began, 3)
    if not answer.ok:
        hint = ""
        if not new_cluster and answer.status in (400, 500):
            hint = (
                "; into a newly initialised cluster use --new-cluster (snapshot-force); into this "
                "cluster, check the snapshot was taken from it and its unseal key is the one in use"
            )
        raise RestoreFailed(f"Vault refused the snapshot: {answer.errors}{hint}")
    # The old token may be gone with the restore (a forced one always replaces it).
    checker = active.with_token(verify_token or active.token)
    settled = restore_checks.wait_until_settled([*nodes] or [active], checker, timeout_s=settle_timeout_s)
    report.seconds["settle"] = settled.seconds
    report.check("cluster settled", settled.ok, settled.detail)
    if not settled.ok:
        raise RestoreFailed(
            f"the cluster did not settle within {settle_timeout_s:.0f}s after the restore: {settled.detail}. "
            "A node that fails to apply a snapshot seals itself; see docs/runbooks/restore.md"
        )
    began = time.monotonic()
    # The cluster-level validate checks (tools.validate runs the rest: audit, canaries, TLS, backups).
    for check in (
        *validate_checks.node_health([*nodes] or [active]),
        validate_checks.leader(checker),
        validate_checks.raft_peers(checker, len(nodes) if nodes else None),
    ):
        report.check(check.name, {"pass": True, "fail": False}.get(check.status), check.detail)
    _verify(report, checker, expect, before, new_cluster=new_cluster)
    report.seconds["verify"] = round(time.monotonic() - began, 3)
    report.verified = all(item["status"] == "pass" for item in report.checks)
    return report


def _verify(
    report: RestoreReport, node: VaultHttp, expect: Expectations, before: dict[str, int], *, new_cluster: bool
) -> None:
    if new_cluster and not node.token:
        report.check(
            "canary", None, "no token of the original cluster (VAULT_RESTORED_TOKEN) to read it with"
        )
        return
    if expect.canary is not None:
        answer = node.get(f"{expect.mount}/data/{CANARY_PATH}")
        value = answer.data.get("data", {}).get("value") if answer.ok else None
        ok = value == expect.canary
        detail = (
            "matches the snapshot's recorded canary"
            if ok
            else f"reads {value!r} ({answer.errors if not answer.ok else 'different value'})"
        )
        report.check("canary", ok, detail)
    else:
        report.check("canary", None, "the snapshot has no recorded canary")
    restored = restore_checks.kv_versions(node, expect.mount, expect.version_prefix)
    if expect.versions is not None:
        problems = restore_checks.compare_versions(expect.versions, restored)
        report.check(
            "secret versions", not problems, "; ".join(problems[:5]) or f"{len(restored)} as expected"
        )
    elif before:
        changed = sorted(p for p in before if restored.get(p) != before[p])
        detail = (
            f"{len(changed)} secret(s) now hold the snapshot's older version (writes after it are lost; "
            f"rotate them): {', '.join(changed[:10])}"
            if changed
            else "no secret version changed"
        )
        report.check("secret versions", True, detail)


def _s3(region: str | None) -> Any:
    import boto3  # noqa: PLC0415 - not needed for --help or a bad argument

    return boto3.client("s3", region_name=region)


def _kms(region: str) -> Any:
    import boto3  # noqa: PLC0415

    return boto3.client("kms", region_name=region)


def cmd_list(args: argparse.Namespace) -> int:
    found = snapshots.list_snapshots(_s3(args.region), args.bucket, args.prefix)
    rows = [
        {
            "key": s.key,
            "last_modified": s.last_modified.isoformat(),
            "size": s.size,
            "sha256": s.sha256,
            "unseal_key_arn": s.unseal_key_arn,
        }
        for s in found
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            recorded = "sha256 recorded" if row["sha256"] else "NO sha256 recorded"
            print(f"{row['last_modified']}  {row['size']:>12}  {row['key']}  ({recorded})")
        print(f"{len(rows)} snapshot(s)" if rows else "no snapshot under that prefix")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    token = os.environ.get("VAULT_TOKEN", "")
    if not token:
        print(
            "error: VAULT_TOKEN must hold a token allowed to restore (sudo on sys/storage/raft/snapshot*)",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    entry = VaultHttp(args.vault_addr, token, args.ca_cert)
    nodes = [VaultHttp(addr, "", args.ca_cert) for addr in args.node_addr]
    with tempfile.TemporaryDirectory(prefix="candlefish-restore-") as scratch:
        expect = Expectations()
        if args.file:
            path = Path(args.file)
        else:
            s3 = _s3(args.region)
            chosen = snapshots.pick(snapshots.list_snapshots(s3, args.bucket, args.prefix), args.snapshot)
            print(f"snapshot {chosen.key} ({chosen.last_modified.isoformat()}, {chosen.size} bytes)")
            path = snapshots.download(
                s3, chosen, Path(scratch), require_checksum=not args.allow_unrecorded_checksum
            )
            expect = Expectations(canary=chosen.canary)
            if chosen.unseal_key_arn and not args.skip_kms_preflight:
                key_arn = unseal_key_here(chosen.unseal_key_arn, args.kms_region)
                for line in restore_checks.kms_preflight(key_arn, _kms):
                    print(f"preflight: {line}")
        report = restore_snapshot(
            entry,
            path,
            new_cluster=args.new_cluster,
            yes=args.yes,
            nodes=nodes,
            verify_token=os.environ.get("VAULT_RESTORED_TOKEN"),
            expect=expect,
        )
    print(json.dumps(asdict(report), indent=2) if args.json else _render(report))
    if report.verified:
        print("next: run `python -m tools.validate` against the cluster")
        return EXIT_OK
    return EXIT_FAILED if any(c["status"] == "fail" for c in report.checks) else EXIT_REFUSED


def _render(report: RestoreReport) -> str:
    lines = [f"restored {report.snapshot} into {report.target} via {report.endpoint}"]
    lines += [f"  {c['status'].upper():8} {c['check']}: {c['detail']}" for c in report.checks]
    return "\n".join(lines)


def _apply_stack_outputs(args: argparse.Namespace, outputs: dict[str, Any]) -> None:
    """Fill what the flags left open from the stack outputs (flags win)."""
    args.bucket = args.bucket or outputs.get("snapshotBucketName")
    args.region = args.region or region_of(outputs.get("unsealKeyArn"))
    if args.command == "restore":
        args.vault_addr = args.vault_addr or outputs.get("vaultAddress") or ""
        args.kms_region = args.kms_region or region_of(outputs.get("unsealKeyArn"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.restore", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the snapshots in the backup bucket, newest first")
    restoring = commands.add_parser("restore", help="restore a snapshot into a cluster")
    for sub in (listing, restoring):
        sub.add_argument(
            "--stack", help="take the bucket, region and Vault address from this stack's outputs"
        )
        sub.add_argument("--bucket", help="the snapshot bucket (stack output snapshotBucketName)")
        sub.add_argument("--prefix", default="raft-snapshots/", help="key prefix (default raft-snapshots/)")
        sub.add_argument("--region", default=os.environ.get("AWS_REGION"), help="the bucket's region")
        sub.add_argument("--json", action="store_true", help="print JSON")
    restoring.add_argument(
        "--vault-addr", default=os.environ.get("VAULT_ADDR", ""), help="default $VAULT_ADDR"
    )
    restoring.add_argument("--ca-cert", default=os.environ.get("VAULT_CACERT"), help="default $VAULT_CACERT")
    restoring.add_argument(
        "--node-addr", action="append", default=[], help="a node's API address to poll (repeat)"
    )
    restoring.add_argument("--snapshot", help="object key or file name (default: the newest)")
    restoring.add_argument("--file", help="restore a local snapshot file instead of one from the bucket")
    restoring.add_argument(
        "--new-cluster", action="store_true", help="into a newly initialised cluster (snapshot-force)"
    )
    restoring.add_argument("--yes", action="store_true", help="replace the data of a healthy cluster")
    restoring.add_argument(
        "--skip-kms-preflight", action="store_true", help="do not check the unseal key first"
    )
    restoring.add_argument(
        "--allow-unrecorded-checksum", action="store_true", help="accept a snapshot without sha256 metadata"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--drill" in arguments:
        from tools import restore_drill  # noqa: PLC0415 - starts local OpenBao clusters

        return restore_drill.main([a for a in arguments if a != "--drill"])
    args = build_parser().parse_args(arguments)
    if args.stack:
        try:
            _apply_stack_outputs(args, stack_outputs(args.stack))
        except StackOutputsUnavailable as error:
            print(f"error: {error}; pass --bucket, --region and --vault-addr instead", file=sys.stderr)
            return EXIT_REFUSED
    problems = []
    if not args.bucket and not getattr(args, "file", None):
        problems.append("--bucket is required (the stack output snapshotBucketName), or --file for restore")
    if args.command == "restore" and not args.vault_addr.startswith(("http://", "https://")):
        problems.append("--vault-addr (or VAULT_ADDR) must be an http:// or https:// URL")
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return EXIT_REFUSED
    try:
        return cmd_list(args) if args.command == "list" else cmd_restore(args)
    except (SnapshotInvalid, PreflightFailed, RestoreRefused) as error:
        print(f"refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except (RestoreFailed, VaultHttpError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
