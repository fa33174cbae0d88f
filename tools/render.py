"""How the offline preview shows a plan, its policy results and its changes: text, Markdown, JSON."""

from __future__ import annotations

import json
from typing import Any

from tools.diagram import mermaid
from tools.plan import Plan
from tools.plan_diff import MISSING, PlanDiff
from tools.policy_runner import Finding, PolicyReport

VALUE_WIDTH = 80
LEVEL_TITLES = {
    "mandatory": "Mandatory (blocks `pulumi up`)",
    "advisory": "Advisory",
}


def _value(value: Any) -> str:
    if value == MISSING:
        return MISSING
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # protobuf carries every number as a double
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return shown if len(shown) <= VALUE_WIDTH else shown[: VALUE_WIDTH - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def policy_headline(report: PolicyReport) -> str:
    mandatory, advisory = len(report.mandatory), len(report.advisory)
    verdict = "blocked" if mandatory else "pass"
    return (
        f"Policies: {report.policies} rules over {report.resources} resources: {mandatory} mandatory, "
        f"{advisory} advisory finding(s) ({verdict})"
    )


# --- Text ------------------------------------------------------------------------------------------------


def _finding_line(finding: Finding) -> str:
    note = " (preview)" if finding.preview_only else ""
    return f"      [{finding.policy}]{note} {finding.message}"


def policy_text(report: PolicyReport) -> list[str]:
    lines = ["", policy_headline(report)]
    for level, resources in report.by_level().items():
        lines.append(f"  {level}:")
        for resource, findings in resources.items():
            lines.append(f"    {resource}")
            lines += [_finding_line(f) for f in findings]
    return lines


def diff_text(diff: PlanDiff) -> list[str]:
    lines = ["", f"Changes against {diff.base}: {diff.summary()}"]
    lines += [f"  + {r.type} {r.name}" for r in diff.added]
    lines += [f"  - {r.type} {r.name}" for r in diff.removed]
    for change in diff.changed:
        lines.append(f"  ~ {change.resource.type} {change.resource.name}")
        lines += [f"      {c.path}: {_value(c.before)} => {_value(c.after)}" for c in change.changes]
    return lines


# --- Markdown --------------------------------------------------------------------------------------------


def policy_markdown(report: PolicyReport) -> list[str]:
    lines = ["", "#### Policy results", "", policy_headline(report) + "."]
    if not report.findings:
        return [*lines, "", f"All {report.policies} rules pass."]
    for level, resources in report.by_level().items():
        lines += [
            "",
            f"**{LEVEL_TITLES.get(level, level)}**",
            "",
            "| resource | rule | finding |",
            "| --- | --- | --- |",
        ]
        for resource, findings in resources.items():
            for finding in findings:
                note = " (preview)" if finding.preview_only else ""
                lines.append(f"| {_cell(resource)} | `{finding.policy}`{note} | {_cell(finding.message)} |")
    return lines


def diagram_markdown(plan: Plan) -> list[str]:
    return ["", "#### Components and what connects them", "", "```mermaid", mermaid(plan), "```"]


def diff_markdown(diff: PlanDiff) -> list[str]:
    lines = ["", f"#### Changes against `{diff.base}`", "", f"{diff.summary()}."]
    if diff.empty:
        return lines
    for sign, title, resources in (("+", "Added", diff.added), ("-", "Removed", diff.removed)):
        if resources:
            lines += ["", f"<details><summary>{title} ({len(resources)})</summary>", ""]
            lines += [f"- `{sign}` `{r.type}` {r.name}" for r in resources]
            lines += ["", "</details>"]
    if diff.changed:
        lines += ["", "| changed resource | input | before | after |", "| --- | --- | --- | --- |"]
        for change in diff.changed:
            name = f"{change.resource.name} (`{change.resource.type.rsplit(':', 1)[-1]}`)"
            for c in change.changes:
                lines.append(
                    f"| {_cell(name)} | `{c.path}` | {_cell(_value(c.before))} | {_cell(_value(c.after))} |"
                )
    return lines
