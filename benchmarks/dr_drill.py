"""The restore drill at size: at least 1000 secrets through snapshot, destruction, a new cluster, restore.

Run: ``python -m benchmarks.dr_drill --json PATH [--secrets 1000]``. Uses `tools.restore --drill` against
real local OpenBao 3-node clusters (see tools/restore_drill.py) and writes `secrets_verified`,
`restore_seconds` (snapshot upload until every node has settled) and `total_seconds` (from the destruction
of the old cluster to the last secret verified), with every phase's time. One run: a drill is minutes of
cluster churn, and its phases are what the runbook's RTO budget uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tools import restore_drill

MIN_SECRETS = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", required=True, metavar="PATH", help="write the figures here")
    parser.add_argument("--secrets", type=int, default=MIN_SECRETS, help=f"at least {MIN_SECRETS}")
    args = parser.parse_args(argv)
    if args.secrets < MIN_SECRETS:
        parser.error(f"--secrets must be at least {MIN_SECRETS}")
    report = restore_drill.run_drill(restore_drill.local_launcher(3), args.secrets)
    result = {
        "secrets_verified": report.secrets_verified,
        "restore_seconds": report.restore_seconds,
        "total_seconds": report.total_seconds,
        "secrets_written": report.secrets_written,
        "versions_verified": report.versions_verified,
        "phases": report.phases,
        "snapshot_bytes": report.snapshot_bytes,
        "checks": [check["status"] for check in asdict(report)["checks"]],
    }
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
