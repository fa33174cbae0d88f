"""Is this checkout's plan the same as another revision's? For refactorings that must not change the stack.

`python -m tools.plan_identity --base <git-ref> [--stack production --stack dev] [--rename OLD=NEW ...]`
runs the program of `<git-ref>` (exported with `git archive`) and of this checkout, each in a fresh
interpreter under the recording mocks, and compares everything Pulumi would act on: the set of URNs, each
resource's parent, inputs (secrets masked), dependencies, property dependencies, `protect`,
`ignore_changes` and additional secret outputs, plus the stack outputs and warnings. `tools.plan_diff`
compares inputs only; a refactoring can also break a `depends_on` or a parent, which this catches.

A URN renamed on purpose is given as `--rename OLD=NEW` (and must carry a Pulumi alias to OLD in the code,
or the rename replaces the resource). Exit 0 when identical after renames, 1 when not, 2 when a plan
could not be produced.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the checkout being recorded, so it may use only what every revision has: the recording
# mocks (`tests.support.mocks.run_program`) and the plan's masking (`tools.plan.mask`).
SNAPSHOT = """
import json, sys
from pathlib import Path
from tests.support.mocks import run_program
from tools.plan import mask

stack, output = sys.argv[1], sys.argv[2]
recording = run_program(stack, root=Path.cwd())
resources = {}
for r in recording.resources:
    resources[r.urn] = {
        "parent": r.parent,
        "inputs": mask(r.inputs, r.secret_inputs),
        "dependencies": sorted(set(r.dependencies)),
        "property_dependencies": {k: sorted(set(v)) for k, v in sorted(r.property_dependencies.items())},
        "protect": r.protect,
        "ignore_changes": sorted(r.ignore_changes),
        "additional_secret_outputs": sorted(r.additional_secret_outputs),
    }
snapshot = {
    "resources": resources,
    "outputs": mask(recording.outputs, set()),
    "warnings": sorted(recording.warnings),
}
Path(output).write_text(json.dumps(snapshot, sort_keys=True, default=str))
"""


class SnapshotError(RuntimeError):
    """A revision's program could not be recorded."""


def snapshot(checkout: Path, stack: str) -> dict[str, Any]:
    """Record `stack` with `checkout`'s own code in a fresh interpreter (this checkout's virtualenv)."""
    with tempfile.TemporaryDirectory(prefix="candlefish-identity-") as scratch:
        output = Path(scratch, "snapshot.json")
        result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
            [sys.executable, "-c", SNAPSHOT, stack, str(output)],
            cwd=checkout,
            env={**os.environ, "PYTHONPATH": str(checkout)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not output.is_file():
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SnapshotError(f"recording {stack} in {checkout} failed: {detail}")
        data: dict[str, Any] = json.loads(output.read_text())
        return data


def snapshot_at(ref: str, stack: str, root: Path = ROOT) -> dict[str, Any]:
    """`snapshot` of the code at git revision `ref`."""
    archive = subprocess.run(  # noqa: S603 - git with a fixed verb
        ["git", "-C", str(root), "archive", "--format=tar", ref],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SnapshotError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="candlefish-base-") as checkout:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(checkout, filter="data")
        return snapshot(Path(checkout), stack)


def _renamed(value: Any, renames: Mapping[str, str]) -> Any:
    """`value` with every URN that was renamed on purpose replaced by its new URN."""
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    if isinstance(value, dict):
        return {_renamed(key, renames): _renamed(item, renames) for key, item in value.items()}
    return value


def differences(
    before: Mapping[str, Any], after: Mapping[str, Any], renames: Mapping[str, str] | None = None
) -> list[str]:
    """Human-readable differences between two snapshots, after applying `renames` to `before`."""
    old = _renamed(dict(before), dict(renames or {}))
    found: list[str] = []
    old_resources, new_resources = old["resources"], after["resources"]
    found += [f"removed: {urn}" for urn in sorted(old_resources.keys() - new_resources.keys())]
    found += [f"added: {urn}" for urn in sorted(new_resources.keys() - old_resources.keys())]
    for urn in sorted(old_resources.keys() & new_resources.keys()):
        for aspect, value in old_resources[urn].items():
            if new_resources[urn].get(aspect) != value:
                found.append(f"changed {aspect}: {urn}")
    for aspect in ("outputs", "warnings"):
        if old[aspect] != after[aspect]:
            found.append(f"changed stack {aspect}")
    return found


def _rename(text: str) -> tuple[str, str]:
    old, separator, new = text.partition("=")
    if not separator or not old.startswith("urn:") or not new.startswith("urn:"):
        raise argparse.ArgumentTypeError(f"--rename takes OLD_URN=NEW_URN, not {text!r}")
    return old, new


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan_identity", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--base", required=True, metavar="GIT-REF", help="revision to compare with")
    parser.add_argument(
        "--stack", action="append", help="stack(s) to compare (default: every Pulumi.<stack>.yaml)"
    )
    parser.add_argument("--rename", action="append", type=_rename, default=[], help="OLD_URN=NEW_URN")
    args = parser.parse_args(argv)
    renames = dict(args.rename)
    identical = True
    stacks = args.stack or sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
    for stack in stacks:
        try:
            before, after = snapshot_at(args.base, stack), snapshot(ROOT, stack)
        except SnapshotError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        found = differences(before, after, renames)
        count = len(after["resources"])
        print(f"{stack}: {count} resources and components, {len(found)} differences from {args.base}")
        for line in found:
            print(f"  {line}")
        identical = identical and not found
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
