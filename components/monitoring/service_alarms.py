"""Alarms on what Vault's platform runs besides Vault: PostgreSQL, Redis and the platform's own Lambda
functions (a failing function means what it watches or delivers goes unseen)."""

from __future__ import annotations

from components.monitoring.alarm_spec import INSTANCE_METRIC, AlarmSpec
from components.monitoring.targets import Metric, Watched

UTILISATION_PERCENT = 80
RDS_FREE_STORAGE_FRACTION = 0.10
RDS_CONNECTION_FRACTION = 0.80
GIB = 1024**3


def datastore_alarms(w: Watched) -> list[AlarmSpec]:
    """The PostgreSQL instance's CPU, storage and connections; Redis nodes' CPU, memory and evictions."""
    return [
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


def function_alarms(w: Watched) -> list[AlarmSpec]:
    """One error alarm per monitoring function (`w.functions`: role -> function name)."""
    specs = []
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
