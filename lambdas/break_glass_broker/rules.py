"""The broker's rules on input, and why a conditional write was refused, as clear messages."""

from __future__ import annotations

import re
from typing import Any

from lambdas.break_glass_broker import ACTIVATING, ACTIVE, PENDING
from lambdas.break_glass_broker.identity import Refused
from lambdas.break_glass_broker.settings import (
    MAX_JUSTIFICATION,
    MIN_DURATION_S,
    MIN_JUSTIFICATION,
    Settings,
)

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def justification(text: Any) -> str:
    cleaned = " ".join(str(text or "").split())
    if len(cleaned) < MIN_JUSTIFICATION:
        raise Refused(
            400,
            "justification-too-short",
            f"justification: at least {MIN_JUSTIFICATION} characters saying what is broken and why "
            f"break-glass access is needed (got {len(cleaned)})",
        )
    if len(cleaned) > MAX_JUSTIFICATION:
        raise Refused(400, "justification-too-long", f"justification: at most {MAX_JUSTIFICATION} characters")
    return cleaned


def duration(value: Any, settings: Settings) -> int:
    """A duration like '30m', '1h', '1h30m' or a number of seconds, within the configured limit."""
    if value in (None, ""):
        seconds = settings.default_duration_s
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        text = str(value).strip()
        match = _DURATION.fullmatch(text)
        if text.isdigit():
            seconds = int(text)
        elif match and text:
            hours, minutes, secs = (int(part or 0) for part in match.groups())
            seconds = hours * 3600 + minutes * 60 + secs
        else:
            raise Refused(400, "bad-duration", f"duration: {value!r} is not a duration like 30m or 1h")
    if not MIN_DURATION_S <= seconds <= settings.max_duration_s:
        raise Refused(
            400,
            "bad-duration",
            f"duration: between {MIN_DURATION_S // 60}m and {settings.max_duration_s // 60}m "
            f"(the configured limit); got {seconds // 60}m",
        )
    return seconds


def request_id(value: Any) -> str:
    text = str(value or "")
    if not REQUEST_ID.fullmatch(text):
        raise Refused(400, "bad-request-id", "request id: 32 lowercase hex characters, as `request` printed")
    return text


def explain(action: str, item: dict[str, Any], person: str, now: int, min_approvals: int) -> Refused:
    """Why the conditional write for `action` did not apply to this request, as it was."""
    if not item:
        return Refused(404, "not-found", "no such break-glass request")
    status = str(item.get("status"))
    approvers = list(item.get("approvers") or [])
    if action == "activate" and item.get("requester") != person:
        return Refused(403, "not-the-requester", "only the requester may activate their request")
    if action == "activate" and status in {ACTIVE, ACTIVATING}:
        return Refused(409, "already-active", "the request is already active (one token per request)")
    if status != PENDING:
        return Refused(409, f"request-{status}", f"the request is {status}, no longer pending")
    if int(item.get("approval_deadline") or 0) <= now:
        return Refused(409, "request-expired", "the request expired before this could happen; file a new one")
    if action in {"approve", "deny"} and item.get("requester") == person:
        return Refused(403, "approver-is-requester", "the requester cannot approve or deny their own request")
    if action == "approve" and person in approvers:
        return Refused(409, "already-approved", f"{person} has already approved this request")
    if action == "activate" and len(approvers) < min_approvals:
        return Refused(
            409,
            "not-enough-approvals",
            f"the request has {len(approvers)} of the {min_approvals} approvals it needs",
        )
    if action == "cancel" and item.get("requester") != person:
        return Refused(403, "not-the-requester", "only the requester may cancel their request")
    return Refused(409, "conflict", "the request changed meanwhile; look at its status and try again")
