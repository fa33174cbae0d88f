"""Reading CloudWatch Logs subscription payloads and deciding which Vault audit entries are secret reads.

A subscription delivers `{"awslogs": {"data": <base64 of gzip of JSON>}}`; the JSON has `messageType`
(`DATA_MESSAGE`, or `CONTROL_MESSAGE` when CloudWatch checks the destination is reachable), `logGroup`,
`logStream` and `logEvents` (`id`, `timestamp` in epoch milliseconds, `message`). Each Vault audit message
is one JSON object: `type` (request/response), `time`, `auth` (`display_name`, `policies`, hashed
`accessor`), `request` (`operation`, `path`, `remote_address`), `response`, and `error` when it failed.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditEvent:
    """One log event of the audit log group."""

    timestamp_ms: int
    message: str


@dataclass(frozen=True)
class SecretRead:
    """A successful read of a secret, with who read it and when (never the value: Vault logs none)."""

    moment: datetime.datetime
    path: str
    display_name: str
    accessor: str
    remote_address: str
    policies: tuple[str, ...]


def decode_subscription(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON document inside a CloudWatch Logs subscription event."""
    compressed = base64.b64decode(event["awslogs"]["data"])
    document: dict[str, Any] = json.loads(gzip.decompress(compressed))
    return document


def audit_events(document: dict[str, Any]) -> Iterator[AuditEvent]:
    """The log events of a data message; a control message carries none."""
    if document.get("messageType") != "DATA_MESSAGE":
        return
    for item in document.get("logEvents") or []:
        yield AuditEvent(int(item["timestamp"]), str(item["message"]))


def secret_read(event: AuditEvent, prefixes: Sequence[str]) -> SecretRead | None:
    """The secret read this audit entry records, if it is a successful KV read under one of `prefixes`.

    Only response entries count (each request is logged twice, as request and response), and only those
    without `error`: a denied read is an unauthorised attempt, counted elsewhere, not an access.
    """
    try:
        entry = json.loads(event.message)
    except json.JSONDecodeError:
        return None
    if not isinstance(entry, dict) or entry.get("type") != "response" or "error" in entry:
        return None
    request = entry.get("request") or {}
    path = request.get("path")
    if request.get("operation") != "read" or not isinstance(path, str):
        return None
    if not any(path.startswith(prefix) for prefix in prefixes):
        return None
    auth = entry.get("auth") or {}
    return SecretRead(
        moment=_moment(entry.get("time"), event.timestamp_ms),
        path=path,
        display_name=str(auth.get("display_name", "")),
        accessor=str(auth.get("accessor", "")),
        remote_address=str(request.get("remote_address", "")),
        policies=tuple(str(policy) for policy in auth.get("policies") or ()),
    )


def _moment(text: Any, fallback_ms: int) -> datetime.datetime:
    """When Vault handled the request (its `time`, RFC 3339 with nanoseconds), else the event's timestamp."""
    if isinstance(text, str):
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(datetime.UTC)
    return datetime.datetime.fromtimestamp(fallback_ms / 1000, tz=datetime.UTC)
