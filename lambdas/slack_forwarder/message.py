"""Turning an SNS notification into a Slack message people can act on at a glance.

CloudWatch publishes an alarm's state change to SNS as JSON in `Message` (AlarmName, AlarmDescription,
NewStateValue, OldStateValue, NewStateReason, StateChangeTime, Region, Trigger); other publishers (the
rotation function's rotation-due notice) send plain text with a `Subject`. Alarm descriptions in this
project read `[<severity>] <what it means> First step: <what to do first> Runbook: <page#alarm>`, which is
split back apart here so Slack shows severity, first step and runbook as their own fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("page", "alert")
FIRST_STEP = " First step: "
RUNBOOK = " Runbook: "
STATE_EMOJI = {
    "ALARM": ":rotating_light:",
    "OK": ":white_check_mark:",
    "INSUFFICIENT_DATA": ":grey_question:",
}
# Slack caps a section's text at 3000 characters and a field's at 2000.
MAX_TEXT, MAX_FIELD = 2900, 1900


@dataclass(frozen=True)
class Description:
    """An alarm description split into severity, meaning, first step and runbook reference."""

    severity: str
    meaning: str
    first_step: str
    runbook: str = ""


@dataclass(frozen=True)
class AlarmNotice:
    """One alarm state change."""

    name: str
    state: str
    old_state: str
    reason: str
    description: Description
    changed_at: str
    region: str


@dataclass(frozen=True)
class PlainNotice:
    """Anything else published to the topic."""

    subject: str
    text: str


def parse_description(text: str) -> Description:
    """`[page] Meaning. First step: do this.` into its parts; text in another shape is all meaning."""
    match = re.match(r"\s*\[(\w+)\]\s*", text)
    severity = match.group(1).lower() if match and match.group(1).lower() in SEVERITIES else "unknown"
    rest = text[match.end() :] if match and severity != "unknown" else text
    meaning, _, steps = rest.partition(FIRST_STEP)
    first_step, _, runbook = steps.partition(RUNBOOK)
    return Description(
        severity=severity, meaning=meaning.strip(), first_step=first_step.strip(), runbook=runbook.strip()
    )


def notice(sns: dict[str, Any]) -> AlarmNotice | PlainNotice:
    """The notice an SNS record (`Records[].Sns`) carries."""
    body = sns.get("Message") or ""
    try:
        alarm = json.loads(body)
    except json.JSONDecodeError:
        alarm = None
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        return PlainNotice(subject=str(sns.get("Subject") or "Notification"), text=str(body))
    return AlarmNotice(
        name=str(alarm["AlarmName"]),
        state=str(alarm.get("NewStateValue", "UNKNOWN")),
        old_state=str(alarm.get("OldStateValue", "UNKNOWN")),
        reason=str(alarm.get("NewStateReason", "")),
        description=parse_description(str(alarm.get("AlarmDescription") or "")),
        changed_at=str(alarm.get("StateChangeTime", "")),
        region=str(alarm.get("Region", "")),
    )


def escape(text: str, limit: int = MAX_TEXT) -> str:
    """Text safe for Slack mrkdwn (its three control characters escaped), cut to `limit`."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return cut.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(item: AlarmNotice | PlainNotice) -> dict[str, Any]:
    """The webhook body: a plain `text` fallback (notifications, old clients) and readable blocks."""
    if isinstance(item, PlainNotice):
        text = f"*{escape(item.subject, 200)}*\n{escape(item.text)}"
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    described = item.description
    emoji = STATE_EMOJI.get(item.state, ":bell:")
    headline = f"{emoji} *{item.state}* {escape(item.name, 200)} ({described.severity})"
    fields = [
        f"*Reason*\n{escape(item.reason, MAX_FIELD)}",
        f"*First step*\n{escape(described.first_step or 'see the alarm description', MAX_FIELD)}",
        f"*Changed*\n{escape(item.old_state)} → {escape(item.state)} at {escape(item.changed_at)}",
        f"*Region*\n{escape(item.region or 'unknown')}",
    ]
    if described.runbook:
        fields.append(f"*Runbook*\n{escape(described.runbook, MAX_FIELD)}")
    return {
        "text": f"{item.state}: {item.name} ({described.severity}). {described.meaning}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(described.meaning or item.name)}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]},
        ],
    }
