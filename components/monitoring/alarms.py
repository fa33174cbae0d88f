"""Which alarms the platform raises on Vault, as data: the guide's five, security events, Vault's service
level and backups; `all_alarms` adds the datastores' and functions' (service_alarms.py) and the audit log's
and snapshots' delivery and replication (delivery_alarms.py). What an alarm spec is (severity, description,
runbook) is alarm_spec.py's.

Node failure is three alarms (in-service instances, unhealthy targets, EC2 status checks) sharing one
guide id: each pages on its own, and a composite alarm would need children without actions, which the
policy pack's guide-alarms rule rejects as notifying no one.

Vault telemetry is the CloudWatch agent's: the Vault cluster's nodes send DogStatsD with the tag
`vault_cluster:<cluster name>` and `disable_hostname = true`; the agent publishes under TELEMETRY_NAMESPACE
and aggregates over `vault_cluster`, so one series per metric covers every node. The cluster's agent
config must keep publishing AGENT_METRICS that way (and the Auto Scaling group must enable group metrics,
GroupInServiceInstances among them, for the in-service alarm).
"""

from __future__ import annotations

from components.monitoring.alarm_spec import (
    AUDIT_LOG_GAP,
    COUNTED_EVENTS,
    FAILED_AUTH,
    NO_TELEMETRY,
    NODE_FAILURE,
    OFF_HOURS_ACCESS,
    SEAL_STATUS,
    AlarmSpec,
)
from components.monitoring.audit_filters import (
    BREAK_GLASS_USE,
    FAILED_AUTHENTICATIONS,
    OFF_HOURS_METRIC,
    ROOT_TOKEN_USE,
    ROTATION_FAILURES,
)
from components.monitoring.delivery_alarms import delivery_alarms
from components.monitoring.service_alarms import datastore_alarms, function_alarms
from components.monitoring.targets import Metric, Watched

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
    """Vault's load balancer and raft, then the datastores and the monitoring's own functions."""
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
    ]
    return [*specs, *datastore_alarms(w), *function_alarms(w)]


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
    return [*guide_alarms(w), *security_alarms(w), *service_alarms(w), *backup_alarms(w), *delivery_alarms(w)]
