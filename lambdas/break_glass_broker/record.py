"""Recording: every state change becomes one structured event, built from what the broker verified.

The event goes to the dedicated log group (one stream per request; the log group is KMS-encrypted, retained
at least a year in production, and nobody but the broker may write to it) and to the requests table as an
event item. Activations also page through the alerts topic. Events never carry a token, only the minted
token's accessor, which the Vault audit log's saved query joins on.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdas.break_glass_broker import METRIC_NAMESPACE, SWEPT_METRIC
from lambdas.break_glass_broker.store import Requests

# What of a request an event repeats (verified values only; the justification is the requester's text).
EVENT_FIELDS = (
    "status",
    "requester",
    "requester_arn",
    "justification",
    "duration_s",
    "drill",
    "approvers",
    "accessor",
    "accessor_hmac",
    "ends_at",
    "approval_deadline",
)


def iso(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else ""


def build_event(
    name: str, request: dict[str, Any], *, actor: str, actor_arn: str, at: int, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": f"break-glass.{name}",
        "request_id": request.get("request_id", ""),
        "actor": actor,
        "actor_arn": actor_arn,
        "at": iso(at),
        "at_epoch": at,
    }
    event.update({field: request[field] for field in EVENT_FIELDS if field in request})
    if "ends_at" in event:
        event["ends_at_iso"] = iso(int(event["ends_at"]))
    event.update(extra)
    return event


@dataclass
class Recorder:
    """Writes events to the log group, the table and (for activations and sweeps) the pages topic."""

    logs: Any
    sns: Any
    cloudwatch: Any
    requests: Requests
    log_group: str
    topic_arn: str
    retention_days: int

    def record(self, event: dict[str, Any]) -> None:
        """Log group first, then the table: a failure raises, so the caller can undo what it recorded."""
        stream = str(event["request_id"] or "broker")
        with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
            self.logs.create_log_stream(logGroupName=self.log_group, logStreamName=stream)
        self.logs.put_log_events(
            logGroupName=self.log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(event, sort_keys=True)}],
        )
        if event["request_id"]:
            at = int(event["at_epoch"])
            self.requests.put_event(
                {
                    "request_id": event["request_id"],
                    "sk": f"event#{at:012d}#{time.time_ns():020d}#{event['event']}",
                    "event": json.dumps(event, sort_keys=True),
                    "expires_record_at": at + self.retention_days * 86400,
                }
            )

    def page(self, event: dict[str, Any], subject: str) -> None:
        lines = [
            subject,
            f"request: {event.get('request_id', '')}",
            f"requester: {event.get('requester', '')}",
            f"approvers: {', '.join(event.get('approvers') or []) or '-'}",
            f"justification: {event.get('justification', '')}",
            f"ends at: {event.get('ends_at_iso', '-')}",
            f"token accessor: {event.get('accessor', '-')}",
        ]
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message="\n".join(lines),
            MessageAttributes={
                "event": {"DataType": "String", "StringValue": str(event["event"])},
                "severity": {"DataType": "String", "StringValue": "page"},
            },
        )

    def count_swept(self, count: int) -> None:
        self.cloudwatch.put_metric_data(
            Namespace=METRIC_NAMESPACE,
            MetricData=[{"MetricName": SWEPT_METRIC, "Value": float(count), "Unit": "Count"}],
        )
