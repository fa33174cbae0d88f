"""Every alarm the platform raises, as data: what it watches, when it fires, who hears, and what to do first.

The deployment guide asks for five alarms (seal status, failed authentications over 5 a minute, secret
access outside business hours, audit log gaps over 15 minutes, cluster node failures); each carries the tag
`GuideAlarm=<id>` the policy pack's guide-alarms rule looks for. Node failure is three alarms (in-service
instances, unhealthy targets, EC2 status checks) sharing one id: each pages on its own, and a composite
alarm would need children without actions, which the rule rejects as notifying no one.

Severity: `page` alarms publish to both the alerts and the pages topic (PagerDuty), `alert` alarms to the
alerts topic only (Slack and e-mail). Each description reads `[<severity>] <meaning> First step: <step>`,
which the Slack forwarder splits back into fields.

Vault telemetry is the CloudWatch agent's: the Vault cluster's nodes send DogStatsD with the tag
`vault_cluster:<cluster name>` and `disable_hostname = true`; the agent publishes under TELEMETRY_NAMESPACE
and aggregates over `vault_cluster`, so one series per metric covers every node. The cluster's agent
config must keep publishing AGENT_METRICS that way (and the Auto Scaling group must enable group metrics,
GroupInServiceInstances among them, for the in-service alarm).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.monitoring.audit_filters import (
    BREAK_GLASS_USE,
    FAILED_AUTHENTICATIONS,
    OFF_HOURS_METRIC,
    ROOT_TOKEN_USE,
    ROTATION_FAILURES,
)
from components.monitoring.targets import Metric, Watched

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

# The contract with the Vault cluster's CloudWatch agent (components/vault/templates/cloudwatch-agent.json).
UNSEALED = "vault.core.unsealed"  # gauge: 1 unsealed, 0 sealed
ACTIVE = "vault.core.active"  # gauge: 1 on the active node
LEADER_ELECTIONS = "vault.raft.state.leader"  # counter: a node became raft leader
HANDLE_REQUEST = "vault.core.handle_request"  # timer (ms): non-login requests
HANDLE_LOGIN = "vault.core.handle_login_request"  # timer (ms): logins
# Published by vault-snapshot.sh on the leader after each snapshot is uploaded with its checksum.
SNAPSHOT_SUCCEEDED = "RaftSnapshotSucceeded"
SNAPSHOT_MAX_AGE_HOURS = 2  # the guide promises hourly backups
AGENT_METRICS = (UNSEALED, ACTIVE, LEADER_ELECTIONS, HANDLE_REQUEST, HANDLE_LOGIN)

FAILED_AUTH_PER_MINUTE = 5
AUDIT_GAP_SECONDS = 15 * 60
P99_LATENCY_SECONDS = 0.1  # the guide's "<100ms p99 latency for secret retrieval"
LB_5XX_PER_5_MINUTES = 10
LEADER_ELECTIONS_PER_15_MINUTES = 1
NODE_REPLACEMENT_MINUTES = 10
UTILISATION_PERCENT = 80
RDS_FREE_STORAGE_FRACTION = 0.10
RDS_CONNECTION_FRACTION = 0.80
GIB = 1024**3


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


def guide_alarms(w: Watched) -> list[AlarmSpec]:
    """The deployment guide's five alarms."""
    return [
        AlarmSpec(
            key="vault-sealed",
            missing_data_reason=NO_TELEMETRY,
            guide=SEAL_STATUS,
            page=True,
            meaning="A Vault node reports itself sealed, or the nodes stopped reporting telemetry: a sealed "
            "node serves no requests and enough of them lose the raft quorum.",
            first_step="run `vault status` on each node (Session Manager); with KMS auto-unseal a sealed "
            "node usually cannot use the unseal key, so check the key is enabled and the node role may "
            "use it.",
            metrics=(w.telemetry(UNSEALED),),
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
        ),
        AlarmSpec(
            key="failed-authentications",
            missing_data_reason=COUNTED_EVENTS,
            guide=FAILED_AUTH,
            page=False,
            meaning=f"More than {FAILED_AUTH_PER_MINUTE} logins failed within a minute: credential guessing, "
            "or a client using a revoked or expired credential.",
            first_step="run the saved Logs Insights query unauthorised-access to see the source addresses "
            "and login paths, then block or fix the client.",
            metrics=(w.audit(FAILED_AUTHENTICATIONS.metric),),
            threshold=FAILED_AUTH_PER_MINUTE,
        ),
        AlarmSpec(
            key="off-hours-secret-access",
            missing_data_reason=COUNTED_EVENTS,
            guide=OFF_HOURS_ACCESS,
            page=False,
            meaning="A secret was read outside business hours by someone other than the rotation automation.",
            first_step="run the saved query off-hours-reads to see who read which path when, and confirm the "
            "read with that person or team.",
            metrics=(w.audit(OFF_HOURS_METRIC),),
        ),
        AlarmSpec(
            key="audit-log-gap",
            missing_data_reason=(
                "No incoming audit events is exactly what this alarm is about, so missing data breaches."
            ),
            guide=AUDIT_LOG_GAP,
            page=True,
            meaning="The Vault audit log received no events for 15 minutes: auditing may be broken or the "
            "nodes' CloudWatch agents have stopped, and access is going unrecorded.",
            first_step="check `vault audit list` and the CloudWatch agent on each node "
            "(`systemctl status amazon-cloudwatch-agent`), and that the audit disk is not full.",
            metrics=(Metric("AWS/Logs", "IncomingLogEvents", {"LogGroupName": w.audit_log_group_name}),),
            period=AUDIT_GAP_SECONDS,
            comparison="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
        ),
        AlarmSpec(
            key="vault-nodes-in-service",
            missing_data_reason=(
                "Auto Scaling publishes group metrics every minute while collection is on; none means the "
                "group or its metrics collection is gone, which cannot be taken as healthy, so it breaches."
            ),
            guide=NODE_FAILURE,
            page=True,
            meaning=f"Fewer than {w.cluster_size} Vault nodes have been in service for "
            f"{NODE_REPLACEMENT_MINUTES} minutes: a node failed and was not replaced.",
            first_step="open the Auto Scaling group's activity history for the failed launch or termination "
            "and check raft peers with `vault operator raft list-peers`.",
            metrics=(w.asg("AWS/AutoScaling", "GroupInServiceInstances"),),
            statistic="Minimum",
            evaluation_periods=NODE_REPLACEMENT_MINUTES,
            comparison="LessThanThreshold",
            threshold=w.cluster_size,
            treat_missing_data="breaching",
        ),
        AlarmSpec(
            key="vault-unhealthy-targets",
            missing_data_reason=(
                "The load balancer publishes UnHealthyHostCount every minute while it has targets; a gap "
                "(no registered targets) is covered by vault-nodes-in-service, so it does not breach here."
            ),
            guide=NODE_FAILURE,
            page=True,
            meaning="The load balancer has seen an unhealthy Vault node for 5 minutes (down, sealed or "
            "uninitialised).",
            first_step="find the unhealthy target in the target group's Targets tab and run `vault status` "
            "on that instance.",
            metrics=(w.lb("UnHealthyHostCount"),),
            statistic="Maximum",
            evaluation_periods=5,
        ),
        AlarmSpec(
            key="vault-status-checks",
            missing_data_reason=(
                "EC2 publishes status checks only for running instances; while a node is replaced there is "
                "no data, and vault-nodes-in-service covers the missing node, so it does not breach here."
            ),
            guide=NODE_FAILURE,
            page=True,
            meaning="An EC2 status check has failed on a Vault node for 3 minutes (hardware, network or OS).",
            first_step="find the instance in the EC2 console's Status checks tab; if the system check fails, "
            "terminate it and let the Auto Scaling group replace it.",
            metrics=(w.asg("AWS/EC2", "StatusCheckFailed"),),
            statistic="Maximum",
            evaluation_periods=3,
        ),
    ]


def security_alarms(w: Watched) -> list[AlarmSpec]:
    """Break-glass and root-token use (both page) and rotation failures."""
    return [
        AlarmSpec(
            key="break-glass-used",
            missing_data_reason=COUNTED_EVENTS,
            page=True,
            meaning="A break-glass token was used: emergency access to every secret is active.",
            first_step="run the saved query break-glass-activations and confirm the activation was approved "
            "by two team members; if not, revoke the token's accessor at once.",
            metrics=(w.audit(BREAK_GLASS_USE.metric),),
        ),
        AlarmSpec(
            key="root-token-used",
            missing_data_reason=COUNTED_EVENTS,
            page=True,
            meaning="A root token made a request: after the bootstrap no root token should exist.",
            first_step="find the request in the audit log (policies root), find who generated the token, and "
            "revoke it with `vault token revoke -accessor`.",
            metrics=(w.audit(ROOT_TOKEN_USE.metric),),
        ),
        AlarmSpec(
            key="rotation-failures",
            missing_data_reason=COUNTED_EVENTS,
            page=False,
            meaning="A secret rotation step failed; the secret keeps its current value until a retry "
            "succeeds.",
            first_step="run the saved query rotation-failures for the secret, step and error, then "
            "`python -m tools.rotate <name>` once the cause is fixed.",
            metrics=(w.audit(ROTATION_FAILURES.metric),),
            period=300,
        ),
    ]


def service_alarms(w: Watched) -> list[AlarmSpec]:
    """Vault's load balancer and raft, the databases, and the monitoring's own functions."""
    specs = [
        AlarmSpec(
            key="vault-leader-elections",
            missing_data_reason=(
                "Vault emits the leadership-change counter only when a leadership change happens; no data "
                "means none happened."
            ),
            page=False,
            meaning="Raft elected a leader more than once in 15 minutes: leadership is flapping.",
            first_step="check `vault operator raft autopilot state` and the nodes' network and disk latency "
            "in the performance dashboard.",
            metrics=(w.telemetry(LEADER_ELECTIONS),),
            period=900,
            threshold=LEADER_ELECTIONS_PER_15_MINUTES,
        ),
        AlarmSpec(
            key="lb-5xx",
            missing_data_reason=(
                "The load balancer publishes 5xx counts only for periods that had some; no data means no "
                "errors."
            ),
            page=False,
            meaning=f"The load balancer itself returned more than {LB_5XX_PER_5_MINUTES} errors (5xx) in 5 "
            "minutes: usually no healthy Vault node to send requests to.",
            first_step="check the target group's healthy host count and the vault-sealed and node alarms.",
            metrics=(w.lb("HTTPCode_ELB_5XX_Count", per_target_group=False),),
            period=300,
            threshold=LB_5XX_PER_5_MINUTES,
        ),
        AlarmSpec(
            key="vault-5xx",
            missing_data_reason=(
                "The load balancer publishes target 5xx counts only for periods that had some; no data "
                "means no errors."
            ),
            page=False,
            meaning=f"Vault returned more than {LB_5XX_PER_5_MINUTES} server errors (5xx) in 5 minutes.",
            first_step="search the Vault server log for errors around the alarm time (level error).",
            metrics=(w.lb("HTTPCode_Target_5XX_Count"),),
            period=300,
            threshold=LB_5XX_PER_5_MINUTES,
        ),
        AlarmSpec(
            key="vault-p99-latency",
            missing_data_reason=(
                "No response-time data means no requests were served: nothing was slow, so it does not "
                "breach."
            ),
            page=False,
            meaning="Vault's p99 response time has been over 100 ms for 15 minutes (the guide's retrieval "
            "target).",
            first_step="compare request rate and raft commit times in the performance dashboard; check the "
            "active node's CPU and disk.",
            metrics=(w.lb("TargetResponseTime"),),
            statistic="p99",
            period=300,
            evaluation_periods=3,
            threshold=P99_LATENCY_SECONDS,
        ),
        AlarmSpec(
            key="rds-cpu",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning=f"PostgreSQL CPU has been over {UTILISATION_PERCENT}% for 15 minutes.",
            first_step="open Performance Insights for the top SQL by load.",
            metrics=(w.rds("CPUUtilization"),),
            statistic="Average",
            period=300,
            evaluation_periods=3,
            threshold=UTILISATION_PERCENT,
        ),
        AlarmSpec(
            key="rds-free-storage",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning="PostgreSQL has less than 10% of its storage free.",
            first_step="check for runaway tables or WAL growth, then raise allocated storage (or its "
            "autoscaling limit).",
            metrics=(w.rds("FreeStorageSpace"),),
            statistic="Minimum",
            period=300,
            comparison="LessThanThreshold",
            threshold=RDS_FREE_STORAGE_FRACTION * w.rds_allocated_storage_gib * GIB,
        ),
        AlarmSpec(
            key="rds-connections",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning=f"PostgreSQL has been above {RDS_CONNECTION_FRACTION:.0%} of its "
            f"{w.rds_max_connections} connections for 15 minutes.",
            first_step="list connections by client in pg_stat_activity and look for leaked pools.",
            metrics=(w.rds("DatabaseConnections"),),
            statistic="Maximum",
            period=300,
            evaluation_periods=3,
            threshold=RDS_CONNECTION_FRACTION * w.rds_max_connections,
        ),
        AlarmSpec(
            key="redis-cpu",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning=f"A Redis node's engine CPU has been over {UTILISATION_PERCENT}% for 15 minutes.",
            first_step="run SLOWLOG GET on the busy node and look for expensive commands (KEYS, big sets).",
            metrics=w.redis("EngineCPUUtilization"),
            combine="MAX",
            statistic="Average",
            period=300,
            evaluation_periods=3,
            threshold=UTILISATION_PERCENT,
        ),
        AlarmSpec(
            key="redis-memory",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning=f"A Redis node has used over {UTILISATION_PERCENT}% of its memory for 15 minutes.",
            first_step="check key counts and TTLs (INFO keyspace); scale the node type if the data is "
            "needed.",
            metrics=w.redis("DatabaseMemoryUsagePercentage"),
            combine="MAX",
            statistic="Average",
            period=300,
            evaluation_periods=3,
            threshold=UTILISATION_PERCENT,
        ),
        AlarmSpec(
            key="redis-evictions",
            missing_data_reason=INSTANCE_METRIC,
            page=False,
            meaning="Redis has been evicting keys for 15 minutes: it is out of memory and dropping data.",
            first_step="see redis-memory; check maxmemory-policy and which keys lack a TTL.",
            metrics=w.redis("Evictions"),
            combine="SUM",
            period=300,
            evaluation_periods=3,
        ),
    ]
    for role, function_name in w.functions.items():
        specs.append(
            AlarmSpec(
                key=f"{role}-errors",
                missing_data_reason=(
                    "Lambda publishes Errors only for periods in which the function ran; no data means no "
                    "failed invocations."
                ),
                page=False,
                meaning=f"The {role.replace('-', ' ')} function failed; what it watches or delivers is "
                "going unseen until it works again.",
                first_step="read the function's recent errors in its log group (/aws/lambda/<function "
                "name>): look for Traceback lines.",
                metrics=(Metric("AWS/Lambda", "Errors", {"FunctionName": function_name}),),
                period=300,
            )
        )
    return specs


def backup_alarms(w: Watched) -> list[AlarmSpec]:
    """No successful raft snapshot within two hours (none in dev mode, which takes no snapshots)."""
    if not w.snapshots:
        return []
    return [
        AlarmSpec(
            key="snapshot-stale",
            missing_data_reason=(
                "The snapshot job publishes its success metric only when an upload succeeds; missing data "
                "is a missing backup, so it breaches."
            ),
            page=True,
            meaning=f"No raft snapshot has been uploaded for {SNAPSHOT_MAX_AGE_HOURS} hours: the hourly "
            "backup is failing and the newest restore point is getting older.",
            first_step="run `python -m tools.restore list --stack <stack>` for the newest snapshot, then "
            "`journalctl -u vault-snapshot` on the active node (Session Manager).",
            metrics=(w.telemetry(SNAPSHOT_SUCCEEDED),),
            period=3600,
            evaluation_periods=SNAPSHOT_MAX_AGE_HOURS,
            comparison="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
        )
    ]


def all_alarms(w: Watched) -> list[AlarmSpec]:
    return [*guide_alarms(w), *security_alarms(w), *service_alarms(w), *backup_alarms(w)]
