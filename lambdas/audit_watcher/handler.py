"""The audit watcher: secret reads outside business hours, from the Vault audit log's subscription.

CloudWatch Logs sends the audit log group's secret reads (the subscription filter pre-selects them) to this
function. It keeps successful reads under the configured prefixes whose token carries none of the exempt
automation policies, decides for each whether Vault handled it outside business hours, logs each one that
was (`off_hours_secret_read`: path, who, when in local time) and publishes their count per minute as the
`OffHoursSecretReads` metric, which the guide's out-of-hours access alarm watches.

Settings come from the environment (none is secret): BUSINESS_TIMEZONE, BUSINESS_DAYS (`Mon,Tue,...`),
BUSINESS_START_HOUR, BUSINESS_END_HOUR, READ_PREFIXES and EXEMPT_POLICIES (comma-separated),
METRIC_NAMESPACE. Every log line is one JSON object with an `event` field.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from lambdas.audit_watcher.business_hours import BusinessHours, load_zone, parse_days
from lambdas.audit_watcher.events import SecretRead, audit_events, decode_subscription, secret_read

OFF_HOURS_METRIC = "OffHoursSecretReads"
# PutMetricData takes at most 1000 values per call.
MAX_METRIC_DATA = 1000


def log(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True, default=str))


def _split(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """What the watcher counts and against which hours."""

    hours: BusinessHours
    prefixes: tuple[str, ...]
    exempt_policies: frozenset[str]
    namespace: str

    @classmethod
    def from_environment(cls) -> Settings:
        zone = os.environ["BUSINESS_TIMEZONE"]
        return cls(
            hours=BusinessHours(
                zone=load_zone(zone),
                weekdays=parse_days(os.environ["BUSINESS_DAYS"]),
                start_hour=int(os.environ["BUSINESS_START_HOUR"]),
                end_hour=int(os.environ["BUSINESS_END_HOUR"]),
            ),
            prefixes=_split(os.environ["READ_PREFIXES"]),
            exempt_policies=frozenset(_split(os.environ.get("EXEMPT_POLICIES", ""))),
            namespace=os.environ["METRIC_NAMESPACE"],
        )

    def is_off_hours(self, read: SecretRead) -> bool:
        if self.exempt_policies.intersection(read.policies):
            return False
        return not self.hours.contains(read.moment)


@functools.cache
def settings() -> Settings:
    return Settings.from_environment()


def metric_data(reads: Sequence[SecretRead]) -> list[dict[str, Any]]:
    """One `OffHoursSecretReads` value per minute in which reads happened, stamped with that minute."""
    per_minute = Counter(read.moment.replace(second=0, microsecond=0) for read in reads)
    return [
        {"MetricName": OFF_HOURS_METRIC, "Timestamp": minute, "Value": float(count), "Unit": "Count"}
        for minute, count in sorted(per_minute.items())
    ]


def publish(cloudwatch: Any, namespace: str, data: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(data), MAX_METRIC_DATA):
        cloudwatch.put_metric_data(
            Namespace=namespace, MetricData=list(data[start : start + MAX_METRIC_DATA])
        )


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    current = settings()
    document = decode_subscription(event)
    events = list(audit_events(document))
    reads = [read for item in events if (read := secret_read(item, current.prefixes)) is not None]
    off_hours = [read for read in reads if current.is_off_hours(read)]
    for read in off_hours:
        local: datetime.datetime = current.hours.local(read.moment)
        log(
            "off_hours_secret_read",
            path=read.path,
            display_name=read.display_name,
            accessor=read.accessor,
            remote_address=read.remote_address,
            policies=list(read.policies),
            time=read.moment.isoformat(),
            local_time=local.isoformat(),
            weekday=local.strftime("%a"),
        )
    if off_hours:
        publish(boto3.client("cloudwatch"), current.namespace, metric_data(off_hours))
    log(
        "audit_batch",
        log_group=document.get("logGroup", ""),
        events=len(events),
        secret_reads=len(reads),
        off_hours=len(off_hours),
    )
    return {"events": len(events), "secretReads": len(reads), "offHours": len(off_hours)}
