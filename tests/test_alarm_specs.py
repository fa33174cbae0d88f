"""Alarm specs and dashboard layout as plain data: no Pulumi engine needed."""

import dataclasses

import pytest

from components.audit_staging import ReplicatedRule
from components.deployment import Names
from components.monitoring.alarm_spec import GUIDE_ALARMS
from components.monitoring.alarms import all_alarms
from components.monitoring.certificates import certificate_alarms
from components.monitoring.targets import (
    DatabaseTargets,
    Metric,
    StorageTargets,
    VaultTargets,
    Watched,
    redis_node_ids,
)
from components.monitoring.widgets import GRID_WIDTH, Line, MetricWidget, TextWidget, layout
from lambdas.slack_forwarder.message import parse_description

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
        rds_allocated_storage_gib=20,
        rds_max_connections=100,
        redis_replication_group_id="redis",
        redis_node_count=3,
    ),
    names=Names("test"),
    cluster_size=3,
    functions={"audit-watcher": "watcher", "redis-auth-rotation": "redis-rotation"},
    storage=StorageTargets(
        audit_delivery_stream_name="candlefish-test-vault-audit",
        audit_replication=(
            ReplicatedRule("staging", "audit", "staging-to-audit"),
            ReplicatedRule("staging", "audit-dr", "staging-to-audit-dr"),
        ),
        snapshot_replication=(ReplicatedRule("snapshots", "snapshots-dr", "snapshots-to-dr"),),
    ),
)


def test_redis_member_clusters_are_numbered_from_001():
    assert redis_node_ids("candlefish-production-redis", 2) == (
        "candlefish-production-redis-001",
        "candlefish-production-redis-002",
    )


def test_keys_are_unique_and_every_guide_alarm_is_present():
    specs = all_alarms(WATCHED)
    assert len({spec.key for spec in specs}) == len(specs)
    assert {spec.guide for spec in specs if spec.guide} == set(GUIDE_ALARMS)


@pytest.mark.parametrize("spec", all_alarms(WATCHED), ids=lambda spec: spec.key)
def test_the_slack_forwarder_reads_every_description_back(spec):
    described = parse_description(spec.description)
    assert described.severity == spec.severity
    assert described.meaning == spec.meaning
    assert described.first_step == spec.first_step
    assert len(spec.description) <= 1024  # CloudWatch's limit for AlarmDescription


@pytest.mark.parametrize("spec", all_alarms(WATCHED), ids=lambda spec: spec.key)
def test_combined_alarms_have_several_metrics_and_single_ones_one(spec):
    # WATCHED has three Redis nodes, so every combined alarm combines several metrics.
    assert (spec.combine is None) is (len(spec.metrics) == 1)
    assert spec.combine in (None, "MAX", "SUM")


def test_rows_share_the_grid_and_stack_by_their_tallest_widget():
    graph = MetricWidget("g", [Line(Metric("AWS/EC2", "StatusCheckFailed"), "Maximum")], height=6)
    widgets = layout(
        [[TextWidget("# title")], [graph, graph, TextWidget("note", width=4, height=3)]], "us-east-1"
    )
    assert [(w["x"], w["y"], w["width"], w["height"]) for w in widgets] == [
        (0, 0, GRID_WIDTH, 2),
        (0, 2, 10, 6),
        (10, 2, 10, 6),
        (20, 2, 4, 6),
    ]


def test_a_row_wider_than_the_grid_is_refused():
    with pytest.raises(ValueError, match="wider than"):
        layout([[TextWidget("a", width=20), TextWidget("b", width=8)]], "us-east-1")
    with pytest.raises(ValueError, match="empty"):
        layout([[]], "us-east-1")


def test_a_metric_line_renders_dimensions_in_order_then_options():
    line = Line(
        Metric("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/lb/1"}), "p99", "p99"
    )
    assert line.render() == [
        "AWS/ApplicationELB",
        "TargetResponseTime",
        "LoadBalancer",
        "app/lb/1",
        {"stat": "p99", "label": "p99"},
    ]


TREATMENTS = {"breaching", "notBreaching", "ignore", "missing"}
CERTIFICATE_SPECS = certificate_alarms("arn:aws:acm:us-east-1:123456789012:certificate/lb", "arn:node")


@pytest.mark.parametrize("spec", [*all_alarms(WATCHED), *CERTIFICATE_SPECS], ids=lambda spec: spec.key)
def test_every_alarm_says_why_it_treats_missing_data_as_it_does(spec):
    assert spec.treat_missing_data in TREATMENTS
    assert len(spec.missing_data_reason) >= 40, spec.key
    # The reason must agree with the choice it explains.
    if spec.treat_missing_data == "breaching":
        assert "breach" in spec.missing_data_reason and "not breach" not in spec.missing_data_reason
    else:
        assert "not breach" in spec.missing_data_reason or "no data means" in spec.missing_data_reason.lower()


def test_the_node_certificate_gets_its_own_alarm_only_when_the_listener_serves_another():
    assert [spec.key for spec in certificate_alarms("arn:lb")] == ["tls-certificate-expiry"]
    both = {spec.key: spec for spec in CERTIFICATE_SPECS}
    assert set(both) == {"tls-certificate-expiry", "vault-node-certificate-expiry"}
    (metric,) = both["vault-node-certificate-expiry"].metrics
    assert (metric.namespace, metric.name, metric.dimensions) == (
        "AWS/CertificateManager",
        "DaysToExpiry",
        {"CertificateArn": "arn:node"},
    )


def test_replication_failures_are_counted_per_rule_under_the_dimensions_s3_publishes():
    specs = {spec.key: spec for spec in all_alarms(WATCHED)}
    audit = specs["audit-replication-failed"]
    assert [(m.namespace, m.name, m.dimensions) for m in audit.metrics] == [
        (
            "AWS/S3",
            "OperationsFailedReplication",
            {"SourceBucket": "staging", "DestinationBucket": "audit", "RuleId": "staging-to-audit"},
        ),
        (
            "AWS/S3",
            "OperationsFailedReplication",
            {"SourceBucket": "staging", "DestinationBucket": "audit-dr", "RuleId": "staging-to-audit-dr"},
        ),
    ]
    # Two rules: any failure under either counts.
    assert audit.combine == "SUM"
    (snapshots,) = specs["snapshot-replication-failed"].metrics
    assert snapshots.dimensions == {
        "SourceBucket": "snapshots",
        "DestinationBucket": "snapshots-dr",
        "RuleId": "snapshots-to-dr",
    }
    (freshness,) = specs["audit-delivery-stale"].metrics
    assert (freshness.namespace, freshness.name, freshness.dimensions) == (
        "AWS/Firehose",
        "DeliveryToS3.DataFreshness",
        {"DeliveryStreamName": "candlefish-test-vault-audit"},
    )


def test_without_replication_or_a_stream_there_is_nothing_to_alarm_on():
    bare = dataclasses.replace(WATCHED, storage=StorageTargets())
    keys = {spec.key for spec in all_alarms(bare)}
    assert not keys & {"audit-delivery-stale", "audit-replication-failed", "snapshot-replication-failed"}
    one_rule = dataclasses.replace(
        WATCHED, storage=StorageTargets(audit_replication=WATCHED.storage.audit_replication[:1])
    )
    (audit,) = [spec for spec in all_alarms(one_rule) if spec.key == "audit-replication-failed"]
    assert audit.combine is None and len(audit.metrics) == 1
