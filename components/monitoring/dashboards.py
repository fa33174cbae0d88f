"""The four dashboards the deployment guide names, as rows of typed widgets.

- vault-health: is Vault up (seal state, nodes in service, healthy targets, leader elections, audit flow)?
- secret-access: who reads which secrets, how often, and outside business hours.
- performance: latency against the guide's 100 ms p99 target, request rates, errors, the databases.
- security-events: failed logins, denials, break-glass and root use, rotation failures.
Paging alarms sit at the top of the first, so the state of what wakes people is the first thing seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

from components.monitoring import audit_filters as queries
from components.monitoring.alarms import (
    ACTIVE,
    FAILED_AUTH_PER_MINUTE,
    HANDLE_LOGIN,
    HANDLE_REQUEST,
    LEADER_ELECTIONS,
    P99_LATENCY_SECONDS,
    UNSEALED,
)
from components.monitoring.audit_filters import LogSource
from components.monitoring.targets import Metric, Watched
from components.monitoring.widgets import AlarmWidget, Line, LogWidget, MetricWidget, TextWidget, Widget

# The Vault server log: hclog text lines (`... [ERROR] core: ...`) or, with log_format json, `"@level"`.
SERVER_ERRORS = r"""fields @timestamp, @message
| filter @message like /\[ERROR\]|"@level":"error"/
| sort @timestamp desc
| limit 20"""

Rows = list[list[Widget]]


@dataclass(frozen=True)
class DashboardInputs:
    """What the dashboards show: the watched resources, alarms by key, and the log groups by source."""

    region: str
    watched: Watched
    alarms: Mapping[str, pulumi.Input[str]]
    read_prefixes: Sequence[str]
    log_groups: Mapping[LogSource, pulumi.Input[str]]
    server_log_group: pulumi.Input[str]

    def alarm_arns(self, *keys: str) -> list[pulumi.Input[str]]:
        return [self.alarms[key] for key in keys]

    def logs(
        self, title: str, query: queries.InsightsQuery, view: Literal["table", "timeSeries"] = "table"
    ) -> LogWidget:
        """A saved query's results, run over the log it was written for."""
        return LogWidget(title, [self.log_groups[query.source]], query.query, view=view)


PAGING = (
    "vault-sealed",
    "vault-nodes-in-service",
    "vault-unhealthy-targets",
    "vault-status-checks",
    "audit-log-gap",
    "break-glass-used",
    "root-token-used",
)


def vault_health(d: DashboardInputs) -> Rows:
    w = d.watched
    return [
        [
            TextWidget(
                f"## Vault cluster health: {w.cluster_name}\n"
                "Paging alarms first (they also reach PagerDuty). A sealed node, a node short of "
                f"{w.cluster_size} in service, or 15 minutes without audit events needs action now."
            )
        ],
        [AlarmWidget("Paging alarms", d.alarm_arns(*PAGING))],
        [
            MetricWidget(
                "Unsealed (lowest node; below 1 = a node is sealed)",
                [Line(w.telemetry(UNSEALED), "Minimum")],
                threshold=("sealed", 1),
            ),
            MetricWidget("Active nodes (should be 1)", [Line(w.telemetry(ACTIVE), "Sum")]),
            MetricWidget(
                "Nodes in service",
                [
                    Line(w.asg("AWS/AutoScaling", "GroupInServiceInstances"), "Minimum", "in service"),
                    Line(w.asg("AWS/AutoScaling", "GroupDesiredCapacity"), "Maximum", "desired"),
                ],
                threshold=("cluster size", w.cluster_size),
            ),
        ],
        [
            MetricWidget(
                "Load balancer targets",
                [
                    Line(w.lb("HealthyHostCount"), "Minimum", "healthy"),
                    Line(w.lb("UnHealthyHostCount"), "Maximum", "unhealthy"),
                ],
            ),
            MetricWidget("Raft leader elections", [Line(w.telemetry(LEADER_ELECTIONS), "Sum")], period=300),
            MetricWidget(
                "EC2 status checks failed", [Line(w.asg("AWS/EC2", "StatusCheckFailed"), "Maximum")]
            ),
            MetricWidget(
                "Audit events received",
                [
                    Line(
                        Metric("AWS/Logs", "IncomingLogEvents", {"LogGroupName": w.audit_log_group_name}),
                        "Sum",
                    )
                ],
                period=300,
            ),
        ],
        [LogWidget("Recent Vault server errors", [d.server_log_group], SERVER_ERRORS)],
    ]


def secret_access(d: DashboardInputs) -> Rows:
    w = d.watched
    reads = [
        Line(w.audit(queries.secret_read_filter(prefix).metric), "Sum", prefix) for prefix in d.read_prefixes
    ]
    return [
        [
            TextWidget(
                "## Secret access patterns\nSuccessful reads from the Vault audit log. Out-of-hours reads "
                "exclude the exempt automation policies; the saved queries show who read what."
            )
        ],
        [
            MetricWidget("Secret reads by prefix", reads, period=300, stacked=True, width=10),
            MetricWidget(
                "Reads outside business hours",
                [Line(w.audit(queries.OFF_HOURS_METRIC), "Sum")],
                period=300,
                width=8,
            ),
            AlarmWidget(
                "Access alarms", d.alarm_arns("off-hours-secret-access", "failed-authentications"), width=6
            ),
        ],
        [d.logs("Secret reads per hour", queries.SECRET_READS_BY_HOUR, view="timeSeries")],
        [
            d.logs("Reads by path and identity", queries.SECRET_ACCESS_PATTERNS),
            d.logs("Reads outside business hours", queries.OFF_HOURS_READS),
        ],
    ]


def performance(d: DashboardInputs) -> Rows:
    w = d.watched
    latency = w.lb("TargetResponseTime")
    return [
        [
            TextWidget(
                "## Performance\nTargets from the deployment guide: secret retrieval under 100 ms at p99, "
                "over 1000 secrets a second."
            )
        ],
        [
            MetricWidget(
                "Vault response time (seconds)",
                [Line(latency, "p50"), Line(latency, "p90"), Line(latency, "p99")],
                threshold=("p99 target", P99_LATENCY_SECONDS),
            ),
            MetricWidget("Requests", [Line(w.lb("RequestCount"), "Sum")]),
            MetricWidget(
                "Errors (5xx)",
                [
                    Line(w.lb("HTTPCode_ELB_5XX_Count", per_target_group=False), "Sum", "load balancer"),
                    Line(w.lb("HTTPCode_Target_5XX_Count"), "Sum", "Vault"),
                ],
                period=300,
            ),
        ],
        [
            MetricWidget(
                "Vault request handling (ms)",
                [
                    Line(w.telemetry(HANDLE_REQUEST), "Average", "requests, mean"),
                    Line(w.telemetry(HANDLE_REQUEST), "Maximum", "requests, max"),
                    Line(w.telemetry(HANDLE_LOGIN), "Average", "logins, mean"),
                ],
            )
        ],
        [
            MetricWidget("PostgreSQL CPU %", [Line(w.rds("CPUUtilization"), "Average")], period=300),
            MetricWidget(
                "PostgreSQL connections", [Line(w.rds("DatabaseConnections"), "Maximum")], period=300
            ),
            MetricWidget(
                "PostgreSQL free storage (bytes)", [Line(w.rds("FreeStorageSpace"), "Minimum")], period=300
            ),
        ],
        [
            MetricWidget(
                "Redis engine CPU %",
                [Line(m, "Average") for m in w.redis("EngineCPUUtilization")],
                period=300,
            ),
            MetricWidget(
                "Redis memory used %",
                [Line(m, "Average") for m in w.redis("DatabaseMemoryUsagePercentage")],
                period=300,
            ),
            MetricWidget("Redis evictions", [Line(m, "Sum") for m in w.redis("Evictions")], period=300),
        ],
    ]


def security_events(d: DashboardInputs) -> Rows:
    w = d.watched
    return [
        [
            TextWidget(
                "## Security events\nFrom the Vault audit log and the rotation function. Break-glass and "
                "root token use page on-call."
            )
        ],
        [
            AlarmWidget(
                "Security alarms",
                d.alarm_arns(
                    "failed-authentications",
                    "off-hours-secret-access",
                    "break-glass-used",
                    "root-token-used",
                    "rotation-failures",
                    "audit-log-gap",
                ),
            )
        ],
        [
            MetricWidget(
                "Failed logins and denied requests",
                [
                    Line(w.audit(queries.FAILED_AUTHENTICATIONS.metric), "Sum", "failed logins"),
                    Line(w.audit(queries.PERMISSION_DENIED.metric), "Sum", "permission denied"),
                ],
                threshold=("failed-auth alarm", FAILED_AUTH_PER_MINUTE),
            ),
            MetricWidget(
                "Break-glass and root token use",
                [
                    Line(w.audit(queries.BREAK_GLASS_USE.metric), "Sum", "break-glass"),
                    Line(w.audit(queries.ROOT_TOKEN_USE.metric), "Sum", "root token"),
                ],
            ),
            MetricWidget(
                "Rotation failures", [Line(w.audit(queries.ROTATION_FAILURES.metric), "Sum")], period=300
            ),
        ],
        [
            d.logs("Unauthorised access attempts", queries.UNAUTHORISED_ACCESS),
            d.logs("Break-glass activations", queries.BREAK_GLASS_ACTIVATIONS),
        ],
        [
            d.logs("Rotation failures", queries.ROTATION_FAILURE_LOG),
            d.logs("Reads outside business hours", queries.OFF_HOURS_READS),
        ],
    ]


def dashboards(d: DashboardInputs) -> dict[str, Rows]:
    """Dashboard name suffix → rows."""
    return {
        "vault-health": vault_health(d),
        "secret-access": secret_access(d),
        "performance": performance(d),
        "security-events": security_events(d),
    }
