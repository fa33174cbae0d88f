"""Alarms on copies that must arrive somewhere else: Vault's audit log on its way into the object-locked
buckets (Firehose into the staging bucket, then S3 replication into the locked audit bucket and its DR
replica) and the raft snapshots' replication to the DR region.

All three are `alert`s, not pages: nothing is lost within hours. The audit events stay in their CloudWatch
Logs group (a year in production) and Firehose retries S3 for a day; a staged object whose replication
failed stays in staging for STAGING_DAYS, but S3 never retries it, so someone must re-replicate it (S3 Batch
Replication) before then. Failed-replication counts are published in the source bucket's region, which is
this stack's for every rule (staging and snapshots both live here), so the alarms can live here too.
"""

from __future__ import annotations

from components.audit_staging import STAGING_DAYS, ReplicatedRule
from components.monitoring.alarm_spec import AlarmSpec
from components.monitoring.targets import Metric, Watched

# Firehose buffers audit records for up to five minutes (audit_delivery.BUFFER_SECONDS); Amazon Data
# Firehose's own advice is to alarm when DataFreshness passes the buffering limit, at most 15 minutes.
AUDIT_DELIVERY_MAX_AGE_SECONDS = 15 * 60
FAILED_REPLICATION_REASON = (
    "S3 publishes OperationsFailedReplication only while replication operations happen; no data means "
    "nothing failed (or nothing was replicated), so it does not breach."
)


def _replication_failed(
    key: str, rules: tuple[ReplicatedRule, ...], w: Watched, meaning: str, first_step: str
) -> AlarmSpec:
    """Any operation that failed replication under any of `rules` within five minutes."""
    return AlarmSpec(
        key=key,
        missing_data_reason=FAILED_REPLICATION_REASON,
        page=False,
        meaning=meaning,
        first_step=first_step,
        metrics=w.failed_replications(rules),
        combine="SUM" if len(rules) > 1 else None,
        combined_over="rules",
        period=300,
    )


def delivery_alarms(w: Watched) -> list[AlarmSpec]:
    """Firehose delivery into staging, and each set of replication rules the stack has."""
    storage = w.storage
    specs = []
    if storage.audit_delivery_stream_name is not None:
        specs.append(
            AlarmSpec(
                key="audit-delivery-stale",
                missing_data_reason=(
                    "Firehose publishes DataFreshness only while records pass through the stream; no data "
                    "means nothing waits to be delivered (an audit log that stops arriving is "
                    "audit-log-gap's), so it does not breach."
                ),
                page=False,
                meaning=f"The oldest audit record in the Firehose stream has waited over "
                f"{AUDIT_DELIVERY_MAX_AGE_SECONDS // 60} minutes: delivery into the audit staging bucket is "
                "failing, so nothing reaches the object-locked audit bucket (Firehose retries for 24 hours, "
                "then drops the records; CloudWatch Logs still holds them).",
                first_step="read the stream's error log group (/aws/kinesisfirehose/<stream>, stream "
                "S3Delivery) for the S3 or KMS error, then check the Firehose role, the staging bucket "
                "policy and the data key policy.",
                metrics=(
                    Metric(
                        "AWS/Firehose",
                        "DeliveryToS3.DataFreshness",
                        {"DeliveryStreamName": storage.audit_delivery_stream_name},
                    ),
                ),
                statistic="Maximum",
                period=300,
                threshold=AUDIT_DELIVERY_MAX_AGE_SECONDS,
            )
        )
    if storage.audit_replication:
        specs.append(
            _replication_failed(
                "audit-replication-failed",
                storage.audit_replication,
                w,
                "S3 failed to replicate staged audit log objects into an object-locked audit bucket (or its "
                "DR replica): those records have no locked copy, S3 will not retry them, and staging "
                f"deletes them after {STAGING_DAYS} days.",
                "find the cause in what the replication role, the data and replica keys' policies and the "
                "locked buckets (policy, versioning, object lock) allow, fix it, then re-replicate the "
                "FAILED objects with an S3 Batch Replication job.",
            )
        )
    if storage.snapshot_replication:
        specs.append(
            _replication_failed(
                "snapshot-replication-failed",
                storage.snapshot_replication,
                w,
                "S3 failed to replicate raft snapshots to the DR region: the DR stack's newest restore "
                "point is older than production's, and S3 will not retry those snapshots.",
                "find the cause in what the snapshot replication role, the data and replica keys' policies "
                "and the DR bucket allow, fix it, then re-replicate the FAILED snapshots with an S3 Batch "
                "Replication job (or wait for the next hourly snapshot).",
            )
        )
    return specs
