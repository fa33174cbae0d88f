"""The audit log reaches the object-locked buckets by S3 replication from a staging bucket, never by a direct
Firehose upload (S3 requires a Content-MD5 or checksum header for uploads to a bucket with default retention,
and Firehose is not documented to send one: docs/audit-delivery.md)."""

import json

import pytest

from components.audit_staging import STAGING_DAYS
from tests.support.iam_lint import findings

S3 = "aws:s3/"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
REPLICATION = f"{S3}bucketReplicationConfig:BucketReplicationConfig"
LOCK = f"{S3}bucketObjectLockConfiguration:BucketObjectLockConfiguration"


def bucket(recording, name):
    return recording.one(f"{S3}bucket:Bucket", name)


def default_retention(recording, name):
    return recording.one(LOCK, f"{name}-object-lock").inputs["rule"]["defaultRetention"]


def rules_by_id(recording):
    config = recording.one(REPLICATION, "storage-audit-staging-replication-config")
    return config, {rule["id"]: rule for rule in config.inputs["rules"]}


def test_firehose_writes_only_to_the_unlocked_staging_bucket(production):
    target = production.one(STREAM).inputs["extendedS3Configuration"]["bucketArn"]
    staging = bucket(production, "storage-audit-staging")
    assert target == staging.outputs["arn"]
    assert staging.inputs["objectLockEnabled"] is False
    locked = [b for b in production.of_type(f"{S3}bucket:Bucket") if b.inputs.get("objectLockEnabled")]
    assert {b.name for b in locked} == {"storage-audit", "storage-audit-dr"}
    assert target not in {b.outputs["arn"] for b in locked}


def test_staging_replicates_every_object_into_both_locked_buckets(production):
    config, rules = rules_by_id(production)
    staging, audit, replica = (
        bucket(production, name) for name in ("storage-audit-staging", "storage-audit", "storage-audit-dr")
    )
    data_key = production.one("aws:kms/key:Key", "keys-data").outputs["arn"]
    replica_key = production.one("aws:kms/key:Key", "storage-replica-key").outputs["arn"]
    assert config.inputs["bucket"] == staging.outputs["bucket"]
    assert set(rules) == {"staging-to-audit", "staging-to-audit-dr"}
    # Two rules in one configuration need distinct priorities.
    assert sorted(rule["priority"] for rule in rules.values()) == [1, 2]
    for rule_id, target, key in (
        ("staging-to-audit", audit, data_key),
        ("staging-to-audit-dr", replica, replica_key),
    ):
        rule = rules[rule_id]
        assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
        assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
        assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
        assert rule["destination"] == {
            "bucket": target.outputs["arn"],
            "encryptionConfiguration": {"replicaKmsKeyId": key},
            # Replication metrics: monitoring alarms on their failure count (test_replication_alarms.py).
            "metrics": {"status": "Enabled"},
        }
    for name in ("storage-audit-staging", "storage-audit", "storage-audit-dr"):
        versioning = production.one(f"{S3}bucketVersioning:BucketVersioning", f"{name}-versioning")
        assert versioning.urn in config.dependencies, name


@pytest.mark.parametrize("name", ["storage-audit", "storage-audit-dr"])
def test_replicas_get_the_destinations_compliance_retention(production, name):
    # A replica of an object without retention of its own takes the destination's default retention.
    assert default_retention(production, name) == {"mode": "COMPLIANCE", "days": 365}


def test_no_replication_starts_from_the_audit_bucket(production):
    # S3 does not replicate replicas: a rule audit → DR would copy nothing, so DR is fed from staging.
    audit = bucket(production, "storage-audit").outputs["bucket"]
    assert [c.name for c in production.of_type(REPLICATION) if c.inputs["bucket"] == audit] == []


def test_staged_objects_expire_after_replication_had_two_weeks(production):
    (rule,) = production.one(
        f"{S3}bucketLifecycleConfiguration:BucketLifecycleConfiguration", "storage-audit-staging-lifecycle"
    ).inputs["rules"]
    assert STAGING_DAYS == 14
    assert rule["expiration"] == {"days": STAGING_DAYS}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 1}


def test_the_replication_role_may_write_only_into_the_two_locked_buckets(production):
    role = production.one("aws:iam/role:Role", "storage-audit-staging-replication-role")
    staging = bucket(production, "storage-audit-staging").outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": staging}
    for label, target in (("audit", "storage-audit"), ("audit-dr", "storage-audit-dr")):
        policy = production.one(
            "aws:iam/rolePolicy:RolePolicy", f"storage-audit-staging-replication-{label}-policy"
        )
        document = json.loads(policy.inputs["policy"])
        found = {s["Sid"]: s for s in document["Statement"]}
        assert found["WriteReplicas"]["Resource"] == [f"{bucket(production, target).outputs['arn']}/*"]
        assert found["ReadSourceVersions"]["Resource"] == [f"{staging}/*"]
        assert findings(document) == []


def test_without_a_dr_region_staging_replicates_to_the_audit_bucket_only(dev):
    _, rules = rules_by_id(dev)
    assert set(rules) == {"staging-to-audit"}
    assert rules["staging-to-audit"]["destination"]["bucket"] == bucket(dev, "storage-audit").outputs["arn"]
