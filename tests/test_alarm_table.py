"""Each alarm fires on what README's alarm table and its own description say, field by field.

The table below is written from those words ("more than 5 failed logins in a minute", "no audit log events
for 15 minutes, missing data included", "over 100 ms for 15 minutes"...), not from alarms.py: a statistic,
the window (period x evaluation periods, every period breaching), the comparison, the threshold, how
missing data counts, and whether it pages. Telemetry, logins and errors that stop arriving mean nothing
happened, except where the table says missing data is the failure (a sealed node stops reporting, a gap in
the audit log is no data).
"""

import pytest

from components.audit_staging import ReplicatedRule
from components.deployment import Names
from components.monitoring.alarms import all_alarms
from components.monitoring.targets import DatabaseTargets, StorageTargets, VaultTargets, Watched

CLUSTER_SIZE = 5
DB_GIB, DB_CONNECTIONS = 200, 400
WATCHED = Watched(
    vault=VaultTargets(
        auto_scaling_group_name="asg",
        load_balancer_arn_suffix="app/lb/1",
        target_group_arn_suffix="targetgroup/tg/2",
        server_log_group_name="/candlefish/test/vault/server",
        audit_log_group_name="/candlefish/test/vault/audit",
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/example",
    ),
    database=DatabaseTargets(
        rds_instance_identifier="db",
        rds_allocated_storage_gib=DB_GIB,
        rds_max_connections=DB_CONNECTIONS,
        redis_replication_group_id="redis",
        redis_node_count=2,
    ),
    names=Names("test"),
    cluster_size=CLUSTER_SIZE,
    functions={"audit-watcher": "watcher", "slack-forwarder": "forwarder"},
    storage=StorageTargets(
        audit_delivery_stream_name="stream",
        audit_replication=(ReplicatedRule("staging", "audit", "staging-to-audit"),),
        snapshot_replication=(ReplicatedRule("snapshots", "snapshots-dr", "snapshots-to-dr"),),
    ),
)
MINUTE = 60
ABOVE, BELOW = "GreaterThanThreshold", "LessThanThreshold"
QUIET, MISSING_IS_FAILURE = "notBreaching", "breaching"

# key: (statistic, window in seconds, comparison, threshold, missing data, pages)
TABLE = {
    # seal-status: vault.core.unsealed minimum < 1 over 1 minute, or no telemetry
    "vault-sealed": ("Minimum", 1 * MINUTE, BELOW, 1, MISSING_IS_FAILURE, True),
    # failed-auth: more than 5 failed logins in a minute
    "failed-authentications": ("Sum", 1 * MINUTE, ABOVE, 5, QUIET, False),
    # off-hours-access: any secret read outside business hours
    "off-hours-secret-access": ("Sum", 1 * MINUTE, ABOVE, 0, QUIET, False),
    # audit-log-gap: no audit log events for 15 minutes, missing data included
    "audit-log-gap": ("Sum", 15 * MINUTE, BELOW, 1, MISSING_IS_FAILURE, True),
    # node-failure: fewer in-service nodes than the cluster size for 10 minutes (no data: the group is gone)
    "vault-nodes-in-service": ("Minimum", 10 * MINUTE, BELOW, CLUSTER_SIZE, MISSING_IS_FAILURE, True),
    # node-failure: an unhealthy target for 5 minutes
    "vault-unhealthy-targets": ("Maximum", 5 * MINUTE, ABOVE, 0, QUIET, True),
    # node-failure: a failed EC2 status check for 3 minutes
    "vault-status-checks": ("Maximum", 3 * MINUTE, ABOVE, 0, QUIET, True),
    # break-glass and root-token use page on any use
    "break-glass-used": ("Sum", 1 * MINUTE, ABOVE, 0, QUIET, True),
    "root-token-used": ("Sum", 1 * MINUTE, ABOVE, 0, QUIET, True),
    # a rotation step failed
    "rotation-failures": ("Sum", 5 * MINUTE, ABOVE, 0, QUIET, False),
    # raft elected a leader more than once in 15 minutes
    "vault-leader-elections": ("Sum", 15 * MINUTE, ABOVE, 1, QUIET, False),
    # the load balancer, and Vault, returned more than 10 errors (5xx) in 5 minutes
    "lb-5xx": ("Sum", 5 * MINUTE, ABOVE, 10, QUIET, False),
    "vault-5xx": ("Sum", 5 * MINUTE, ABOVE, 10, QUIET, False),
    # p99 over 100 ms (TargetResponseTime is in seconds) for 15 minutes
    "vault-p99-latency": ("p99", 15 * MINUTE, ABOVE, 0.1, QUIET, False),
    # PostgreSQL CPU over 80% for 15 minutes; less than 10% of its storage free (bytes); connections above 80%
    "rds-cpu": ("Average", 15 * MINUTE, ABOVE, 80, QUIET, False),
    "rds-free-storage": ("Minimum", 5 * MINUTE, BELOW, 0.10 * DB_GIB * 1024**3, QUIET, False),
    "rds-connections": ("Maximum", 15 * MINUTE, ABOVE, 0.80 * DB_CONNECTIONS, QUIET, False),
    # a Redis node's engine CPU, memory over 80% for 15 minutes; evicting keys for 15 minutes
    "redis-cpu": ("Average", 15 * MINUTE, ABOVE, 80, QUIET, False),
    "redis-memory": ("Average", 15 * MINUTE, ABOVE, 80, QUIET, False),
    "redis-evictions": ("Sum", 15 * MINUTE, ABOVE, 0, QUIET, False),
    # snapshot-stale: pages when no raft snapshot succeeded for two hours (the guide's hourly backups)
    "snapshot-stale": ("Sum", 120 * MINUTE, BELOW, 1, MISSING_IS_FAILURE, True),
    # the monitoring's own functions failed
    "audit-watcher-errors": ("Sum", 5 * MINUTE, ABOVE, 0, QUIET, False),
    "slack-forwarder-errors": ("Sum", 5 * MINUTE, ABOVE, 0, QUIET, False),
    # the oldest audit record waiting in Firehose is over 15 minutes old (DataFreshness is in seconds)
    "audit-delivery-stale": ("Maximum", 5 * MINUTE, ABOVE, 15 * MINUTE, QUIET, False),
    # any operation that failed replication into the locked audit buckets, or of snapshots to DR, in 5 minutes
    "audit-replication-failed": ("Sum", 5 * MINUTE, ABOVE, 0, QUIET, False),
    "snapshot-replication-failed": ("Sum", 5 * MINUTE, ABOVE, 0, QUIET, False),
}
SPECS = {spec.key: spec for spec in all_alarms(WATCHED)}


def test_the_table_and_the_alarms_name_the_same_alarms():
    assert set(SPECS) == set(TABLE)


@pytest.mark.parametrize("key", sorted(TABLE))
def test_each_alarm_fires_as_its_row_says(key):
    spec = SPECS[key]
    statistic, window, comparison, threshold, missing, pages = TABLE[key]
    assert spec.statistic == statistic
    assert spec.period * spec.evaluation_periods == window
    assert spec.datapoints_to_alarm in (None, spec.evaluation_periods)  # every period in the window breaches
    assert spec.comparison == comparison
    assert spec.threshold == pytest.approx(threshold)
    assert spec.treat_missing_data == missing
    assert spec.page is pages


@pytest.mark.parametrize("key", sorted(TABLE))
def test_periods_are_ones_cloudwatch_accepts(key):
    # Standard-resolution metrics: 60 seconds or a multiple of 60; at most a day per evaluation window.
    spec = SPECS[key]
    assert spec.period % 60 == 0 and spec.period * spec.evaluation_periods <= 86400
