"""What a change does to the stack: the plan at another git revision, and the difference to this one.

`plan_at_revision(ref, stack)` exports that revision with `git archive` into a temporary directory and runs
*its* `python -m tools.preview --format json` there (cwd and PYTHONPATH at the export), so the revision's
own `__main__.py` and `components` package are the ones that run, not this checkout's. The environment is
this checkout's virtualenv, so a revision that needs other package versions may fail to preview; that is
reported, not hidden. `diff_plans` compares two plans by URN, down to the changed input paths; both plans
are already masked, so secret values never appear in a diff.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.plan import Plan, PlannedResource

ROOT = Path(__file__).resolve().parent.parent
MISSING = "(absent)"


class RevisionError(RuntimeError):
    """The other revision could not be exported or previewed."""


@dataclass(frozen=True)
class Change:
    """One input that differs: where, and its value before and after (MISSING if absent on one side)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceChange:
    resource: PlannedResource
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class PlanDiff:
    """Resources added, removed and changed between a base revision's plan and this one."""

    base: str
    added: tuple[PlannedResource, ...] = ()
    removed: tuple[PlannedResource, ...] = ()
    changed: tuple[ResourceChange, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        return f"{len(self.added)} to add, {len(self.changed)} to change, {len(self.removed)} to delete"

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "added": [r.urn for r in self.added],
            "removed": [r.urn for r in self.removed],
            "changed": [
                {
                    "urn": c.resource.urn,
                    "changes": [{"path": x.path, "before": x.before, "after": x.after} for x in c.changes],
                }
                for c in self.changed
            ],
        }


def property_changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """The paths at which two input values differ (objects by key, lists by position)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[Change] = []
        for key in sorted(set(before) | set(after), key=str):
            child = f"{path}.{key}" if path else str(key)
            found += property_changes(before.get(key, MISSING), after.get(key, MISSING), child)
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else MISSING
            new = after[index] if index < len(after) else MISSING
            found += property_changes(old, new, f"{path}[{index}]")
        return found
    return [] if before == after else [Change(path, before, after)]


def diff_plans(before: Plan, after: Plan, base: str) -> PlanDiff:
    """Compare the custom resources of two plans by URN."""
    old = {r.urn: r for r in before.custom_resources}
    new = {r.urn: r for r in after.custom_resources}
    changed = []
    for urn in sorted(old.keys() & new.keys()):
        changes = property_changes(old[urn].inputs, new[urn].inputs)
        if changes:
            changed.append(ResourceChange(new[urn], tuple(changes)))
    return PlanDiff(
        base=base,
        added=tuple(new[u] for u in sorted(new.keys() - old.keys())),
        removed=tuple(old[u] for u in sorted(old.keys() - new.keys())),
        changed=tuple(changed),
    )


def _git(root: Path, *args: str) -> bytes:
    command = ["git", "-C", str(root), *args]
    result = subprocess.run(command, capture_output=True, check=False)  # noqa: S603 - git, fixed verbs
    if result.returncode != 0:
        raise RevisionError(f"git {' '.join(args)}: {result.stderr.decode().strip()}")
    return result.stdout


def plan_at_revision(ref: str, stack: str, root: Path = ROOT) -> Plan:
    """Run the preview of `ref`'s own code for `stack` and read back its JSON plan."""
    commit = _git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()
    archive = _git(root, "archive", "--format=tar", commit)
    with tempfile.TemporaryDirectory(prefix="candlefish-preview-") as checkout:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(checkout, filter="data")
        output = Path(checkout, "plan.json")
        command = [sys.executable, "-m", "tools.preview", "--stack", stack, "--format", "json"]
        result = subprocess.run(  # noqa: S603 - our own interpreter and module, arguments from argparse
            [*command, "--output", str(output)],
            cwd=checkout,
            env={**os.environ, "PYTHONPATH": checkout},
            capture_output=True,
            text=True,
            check=False,
        )
        # 1 is "previewed, with mandatory policy violations": the plan is still there to compare.
        if result.returncode not in (0, 1) or not output.is_file():
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise RevisionError(f"the preview of {ref} failed (exit {result.returncode}): {detail}")
        return Plan.from_json(json.loads(output.read_text()))
