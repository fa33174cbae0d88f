"""What monitoring watches, as data: the Vault and database targets it is given, and CloudWatch metrics.

`VaultTargets`, `DatabaseTargets` and `StorageTargets` are what `__main__.py` hands the Monitoring
component; `Watched` adds the deployment's names and node count and turns them into metrics for alarms.py
and dashboards.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.audit_staging import ReplicatedRule
from components.deployment import VAULT_METRICS_NAMESPACE, Names

# The contract with the Vault cluster's CloudWatch agent (components/vault/templates/cloudwatch-agent.json).
TELEMETRY_NAMESPACE = VAULT_METRICS_NAMESPACE
TELEMETRY_CLUSTER_DIMENSION = "vault_cluster"


@dataclass(frozen=True)
class Metric:
    """A CloudWatch metric: namespace, name and dimensions (values may be Outputs)."""

    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class VaultTargets:
    """The Vault cluster's names: its Auto Scaling group, load balancer and log groups."""

    auto_scaling_group_name: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    server_log_group_name: pulumi.Input[str]
    audit_log_group_name: pulumi.Input[str]
    certificate_arn: pulumi.Input[str]  # the load balancer's (ACM) certificate, for the expiry alarm
    # The hourly raft snapshot job runs (not in dev mode): its success metric is alarmed on.
    snapshots: bool = True
    # The nodes' own certificate in ACM when the listener serves another one (acmCertificateArn).
    node_certificate_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class DatabaseTargets:
    """The PostgreSQL instance and the Redis replication group (cluster mode disabled)."""

    rds_instance_identifier: pulumi.Input[str]
    rds_allocated_storage_gib: int
    rds_max_connections: int
    redis_replication_group_id: str
    redis_node_count: int


@dataclass(frozen=True)
class StorageTargets:
    """Where copies must arrive: the Firehose stream into the audit staging bucket, and the S3 replication
    rules into the locked audit buckets and of the snapshots to the DR region (none: not watched)."""

    audit_delivery_stream_name: pulumi.Input[str] | None = None
    audit_replication: tuple[ReplicatedRule, ...] = ()
    snapshot_replication: tuple[ReplicatedRule, ...] = ()


@dataclass(frozen=True)
class Watched:
    """What the alarms and dashboards watch: the Vault and database targets, plus the names they filter on."""

    vault: VaultTargets
    database: DatabaseTargets
    names: Names
    cluster_size: int
    functions: Mapping[str, pulumi.Input[str]]
    storage: StorageTargets = field(default_factory=StorageTargets)

    @property
    def snapshots(self) -> bool:
        return self.vault.snapshots

    @property
    def cluster_name(self) -> str:
        return self.names.telemetry_cluster

    @property
    def audit_namespace(self) -> str:
        return self.names.audit_metrics_namespace

    @property
    def auto_scaling_group_name(self) -> pulumi.Input[str]:
        return self.vault.auto_scaling_group_name

    @property
    def audit_log_group_name(self) -> pulumi.Input[str]:
        return self.vault.audit_log_group_name

    @property
    def rds_allocated_storage_gib(self) -> int:
        return self.database.rds_allocated_storage_gib

    @property
    def rds_max_connections(self) -> int:
        return self.database.rds_max_connections

    @property
    def redis_nodes(self) -> tuple[str, ...]:
        return redis_node_ids(self.database.redis_replication_group_id, self.database.redis_node_count)

    def telemetry(self, name: str, label: str = "") -> Metric:
        return Metric(TELEMETRY_NAMESPACE, name, {TELEMETRY_CLUSTER_DIMENSION: self.cluster_name}, label)

    def audit(self, name: str, label: str = "") -> Metric:
        return Metric(self.audit_namespace, name, {}, label)

    def lb(self, name: str, *, per_target_group: bool = True) -> Metric:
        dimensions: dict[str, pulumi.Input[str]] = {"LoadBalancer": self.vault.load_balancer_arn_suffix}
        if per_target_group:
            dimensions["TargetGroup"] = self.vault.target_group_arn_suffix
        return Metric("AWS/ApplicationELB", name, dimensions)

    def asg(self, namespace: str, name: str) -> Metric:
        return Metric(namespace, name, {"AutoScalingGroupName": self.auto_scaling_group_name})

    def rds(self, name: str) -> Metric:
        return Metric("AWS/RDS", name, {"DBInstanceIdentifier": self.database.rds_instance_identifier})

    def failed_replications(self, rules: tuple[ReplicatedRule, ...]) -> tuple[Metric, ...]:
        """S3's count of operations that failed replication, one metric per rule (published in the source
        bucket's region, which is this stack's for every rule here)."""
        return tuple(
            Metric("AWS/S3", "OperationsFailedReplication", rule.dimensions, rule.rule_id) for rule in rules
        )

    def redis(self, name: str) -> tuple[Metric, ...]:
        return tuple(
            Metric("AWS/ElastiCache", name, {"CacheClusterId": node}, node) for node in self.redis_nodes
        )


def redis_node_ids(replication_group_id: str, count: int) -> tuple[str, ...]:
    """A cluster-mode-disabled replication group's member clusters: `<group>-001`, `<group>-002`, ..."""
    return tuple(f"{replication_group_id}-{index:03d}" for index in range(1, count + 1))
