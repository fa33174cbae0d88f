"""What an alarm is, as data: `AlarmSpec`, its severity and runbook link, and the guide's alarm ids.

The deployment guide asks for five alarms (seal status, failed authentications over 5 a minute, secret
access outside business hours, audit log gaps over 15 minutes, cluster node failures); each alarm that
answers one carries the tag `GuideAlarm=<id>` the policy pack's guide-alarms rule looks for.

Severity: `page` alarms publish to both the alerts and the pages topic (PagerDuty), `alert` alarms to the
alerts topic only (Slack and e-mail). Each description reads `[<severity>] <meaning> First step: <step>`,
which the Slack forwarder splits back into fields. Which alarms exist is alarms.py's (and its neighbours').
"""

from __future__ import annotations

from dataclasses import dataclass

from components.monitoring.targets import Metric

GUIDE_ALARM_TAG = "GuideAlarm"
RUNBOOK_PAGE = "docs/runbooks/alarms.md"
SEAL_STATUS, FAILED_AUTH, OFF_HOURS_ACCESS, AUDIT_LOG_GAP, NODE_FAILURE = (
    "seal-status",
    "failed-auth",
    "off-hours-access",
    "audit-log-gap",
    "node-failure",
)
GUIDE_ALARMS = (SEAL_STATUS, FAILED_AUTH, OFF_HOURS_ACCESS, AUDIT_LOG_GAP, NODE_FAILURE)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm. Several metrics are combined with `combine` (MAX or SUM) in a metric-math expression."""

    key: str
    meaning: str
    first_step: str
    page: bool
    metrics: tuple[Metric, ...]
    # Why `treat_missing_data` is what it is for this alarm: what a period without datapoints means here.
    missing_data_reason: str
    # By default an alarm fires on any event counted in one minute.
    statistic: str = "Sum"
    period: int = 60
    evaluation_periods: int = 1
    comparison: str = "GreaterThanThreshold"
    threshold: float = 0
    treat_missing_data: str = "notBreaching"
    datapoints_to_alarm: int | None = None
    combine: str | None = None
    # What the combined metrics are one per, for the expression's label: nodes, or replication rules.
    combined_over: str = "nodes"
    guide: str | None = None

    @property
    def severity(self) -> str:
        return "page" if self.page else "alert"

    @property
    def runbook(self) -> str:
        """Where the first steps are written out, in the repository (docs/runbooks/alarms.md)."""
        return f"{RUNBOOK_PAGE}#{self.key}"

    @property
    def description(self) -> str:
        return f"[{self.severity}] {self.meaning} First step: {self.first_step} Runbook: {self.runbook}"


# Reasons shared by several alarms for how they treat periods without datapoints.
COUNTED_EVENTS = (
    "The metric filter publishes a datapoint only when a matching event is logged; no data means no such "
    "event, so it does not breach."
)
NO_TELEMETRY = (
    "Nodes that stop reporting telemetry may be sealed, stopped or cut off: missing data breaches, as "
    "the deployment guide's seal-status alarm requires."
)
INSTANCE_METRIC = (
    "RDS and ElastiCache publish this every minute while the instance runs; a gap is the service's "
    "(reported by its own events), not high usage, so it does not breach."
)
