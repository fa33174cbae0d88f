"""S3 replication into the locked audit buckets and of the snapshots to DR, and Firehose's delivery into
staging, are watched in the recorded plans: every replication rule turns S3 Replication metrics on (without
Replication Time Control, which is paid, and so without the event threshold S3 accepts only with it), and
the failure alarms name exactly the rules the plan has, under the dimensions S3 publishes
(SourceBucket and DestinationBucket as bucket names, RuleId), in the source buckets' region.

README's alarm table: `audit-replication-failed` and `snapshot-replication-failed` alert on any operation
that failed replication within 5 minutes, summed over the rules; `audit-delivery-stale` alerts when the
oldest audit record in the Firehose stream has waited over 15 minutes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.mocks import Recording

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BUCKET = "aws:s3/bucket:Bucket"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def planned_rules(recording: Recording, config_name: str) -> list[dict[str, str]]:
    """The rules of one replication configuration, as S3 names their metrics."""
    names = {bucket.outputs["arn"]: bucket.outputs["bucket"] for bucket in recording.of_type(BUCKET)}
    config = recording.one(REPLICATION, config_name)
    return [
        {
            "SourceBucket": config.inputs["bucket"],
            "DestinationBucket": names[rule["destination"]["bucket"]],
            "RuleId": rule["id"],
        }
        for rule in config.inputs["rules"]
    ]


def watched_dimensions(alarm_inputs: dict[str, Any]) -> list[dict[str, str]]:
    """The dimensions of every OperationsFailedReplication metric an alarm reads, single or combined."""
    if alarm_inputs.get("metricName"):
        assert (alarm_inputs["namespace"], alarm_inputs["metricName"]) == (
            "AWS/S3",
            "OperationsFailedReplication",
        )
        return [alarm_inputs["dimensions"]]
    metrics = [query["metric"] for query in alarm_inputs["metricQueries"] if "metric" in query]
    assert {(m["namespace"], m["metricName"]) for m in metrics} == {("AWS/S3", "OperationsFailedReplication")}
    return [m["dimensions"] for m in metrics]


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_every_replication_rule_publishes_metrics_without_paid_time_control(stack, request):
    recording = request.getfixturevalue(stack)
    rules = [rule for config in recording.of_type(REPLICATION) for rule in config.inputs["rules"]]
    assert rules
    for rule in rules:
        destination = rule["destination"]
        assert destination.get("metrics") == {"status": "Enabled"}, rule["id"]
        # S3 refuses an event threshold when Replication Time Control is off; RTC is not turned on.
        assert "replicationTime" not in destination, rule["id"]
        # A V2 rule: a filter, and delete markers explicitly not replicated.
        assert "filter" in rule and rule["deleteMarkerReplication"] == {"status": "Disabled"}, rule["id"]


def test_production_alarms_on_failures_of_both_audit_rules_together(production):
    alarm = production.one(ALARM, "monitoring-audit-replication-failed").inputs
    planned = planned_rules(production, "storage-audit-staging-replication-config")
    assert {rule["RuleId"] for rule in planned} == {"staging-to-audit", "staging-to-audit-dr"}
    assert watched_dimensions(alarm) == planned
    # Any failure under either rule: the sum of both, above zero in one 5-minute period.
    (combined,) = [query for query in alarm["metricQueries"] if query.get("returnData")]
    assert combined["expression"] == "SUM([m1, m2])"
    assert combined["label"] == "audit-replication-failed (sum over rules)"
    periods = {query["metric"]["period"] for query in alarm["metricQueries"] if "metric" in query}
    assert periods == {300} and alarm["evaluationPeriods"] == 1
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["treatMissingData"] == "notBreaching"
    # An alert, not a page: only the alerts topic.
    (topic,) = alarm["alarmActions"]
    assert topic.endswith(":candlefish-production-alerts")


def test_production_alarms_on_snapshot_replication_to_dr(production):
    alarm = production.one(ALARM, "monitoring-snapshot-replication-failed").inputs
    assert watched_dimensions(alarm) == planned_rules(production, "storage-snapshots-replication")
    assert (alarm["statistic"], alarm["period"], alarm["comparisonOperator"], alarm["threshold"]) == (
        "Sum",
        300,
        "GreaterThanThreshold",
        0,
    )


def test_dev_watches_its_one_audit_rule_and_has_no_snapshot_replication_alarm(dev):
    alarm = dev.one(ALARM, "monitoring-audit-replication-failed").inputs
    assert watched_dimensions(alarm) == planned_rules(dev, "storage-audit-staging-replication-config")
    assert alarm.get("metricQueries") in (None, [])
    assert "monitoring-snapshot-replication-failed" not in {a.name for a in dev.of_type(ALARM)}


def test_failure_counts_come_from_this_stacks_region(production):
    # S3 publishes OperationsFailedReplication in the source bucket's region; an alarm sees only its own
    # region's metrics. Both sources are this stack's buckets (no region override), as are the alarms.
    sources = {config.inputs["bucket"] for config in production.of_type(REPLICATION)}
    source_buckets = [b for b in production.of_type(BUCKET) if b.outputs["bucket"] in sources]
    assert len(source_buckets) == 2
    assert all(bucket.inputs.get("region") is None for bucket in source_buckets)
    keys = ("audit-replication-failed", "snapshot-replication-failed")
    assert all(production.one(ALARM, f"monitoring-{key}").inputs.get("region") is None for key in keys)


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_firehose_delivery_alarms_when_the_oldest_record_waited_15_minutes(stack, request):
    recording = request.getfixturevalue(stack)
    alarm = recording.one(ALARM, "monitoring-audit-delivery-stale").inputs
    stream = recording.one(STREAM).inputs["name"]
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Firehose", "DeliveryToS3.DataFreshness")
    assert alarm["dimensions"] == {"DeliveryStreamName": stream}
    # DataFreshness is in seconds: over 15 minutes, seen in any one 5-minute period.
    assert (alarm["statistic"], alarm["comparisonOperator"], alarm["threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        15 * 60,
    )
    assert alarm["period"] * alarm["evaluationPeriods"] == 300
    assert alarm["treatMissingData"] == "notBreaching"
