"""S3 replication from the audit staging bucket into the object-locked audit bucket (and its DR replica).

Why a staging bucket: S3 accepts an upload into a bucket with Object Lock default retention only with a
Content-MD5 or x-amz-checksum header, and Amazon Data Firehose documents no such header for its S3
deliveries, so a stream writing straight into the locked bucket is not known to work (docs/audit-delivery.md
has the sources). S3 replication into an object-locked bucket is documented: a replica of an object without
retention of its own gets the destination's default retention. So Firehose writes to the staging bucket
(versioned, SSE-KMS, not locked) and S3 replicates every object to the audit bucket in the same region and,
with a DR region, to the audit replica there; both destinations are locked.

Both copies come from staging because S3 does not replicate replicas: the audit bucket's own objects would
all be replicas, so a rule audit → DR would copy nothing. One replication configuration holds a rule per
destination (each with its priority); delete markers are not replicated, and the staging bucket's lifecycle
expirations never are, so expiring staged objects leaves the locked copies alone.

Every rule turns S3 Replication metrics on (`ReplicatedRule` names what they are published under): S3 counts
operations that failed replication per rule (`OperationsFailedReplication`, in the source bucket's region),
and monitoring alarms on it. S3 does not retry an object whose replication FAILED (only a new upload or S3
Batch Replication copies it), so the alarm is how anyone learns of it within STAGING_DAYS. The metrics are
billed as CloudWatch custom metrics (four per rule). S3 Replication Time Control is not turned on: it is
charged extra per GB replicated, its 15-minute SLA adds nothing to a failure alarm, and S3 refuses a metrics
`EventThreshold` without it, so none is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.lib import bucket_policies as policies
from components.lib.iam import assume_role_policy, from_source, to_json

# Staged objects stay this long after replication took them (minutes, normally): time to notice and retry
# a failed replication before the only other copy goes.
STAGING_DAYS = 14


@dataclass(frozen=True)
class ReplicatedRule:
    """One replication rule as its S3 Replication metrics are dimensioned: SourceBucket, DestinationBucket
    (bucket names) and RuleId."""

    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str

    @property
    def dimensions(self) -> dict[str, pulumi.Input[str]]:
        return {
            "SourceBucket": self.source_bucket,
            "DestinationBucket": self.destination_bucket,
            "RuleId": self.rule_id,
        }


@dataclass(frozen=True)
class LockedDestination:
    """A locked bucket the staged audit log is replicated into, its replicas' key, and its region."""

    label: str  # rule id and policy name: "audit" or "audit-dr"
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    key_arn: pulumi.Input[str]
    region: str


def kms_replication_rule(
    rule_id: str,
    *,
    prefix: str,
    destination_arn: pulumi.Input[str],
    replica_key_arn: pulumi.Input[str],
    priority: int | None = None,
) -> aws.s3.BucketReplicationConfigRuleArgs:
    """A rule copying every object under `prefix`, SSE-KMS ones included (S3 replicates those only when
    asked), re-encrypted with `replica_key_arn`; delete markers stay behind; replication metrics on (no
    event threshold: S3 refuses one without Replication Time Control). The `filter` makes it a V2 rule (S3
    reads a rule without one as V1, where `delete_marker_replication` is not allowed); several rules in one
    configuration need a `priority` each."""
    return aws.s3.BucketReplicationConfigRuleArgs(
        id=rule_id,
        priority=priority,
        status="Enabled",
        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=prefix),
        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
            status="Disabled"
        ),
        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
            sse_kms_encrypted_objects=(
                aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                    status="Enabled"
                )
            )
        ),
        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
            bucket=destination_arn,
            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                replica_kms_key_id=replica_key_arn
            ),
            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(status="Enabled"),
        ),
    )


def replicate_audit_staging(
    base: str,
    *,
    staging: aws.s3.Bucket,
    staging_versioning: aws.s3.BucketVersioning,
    staging_key_arn: pulumi.Input[str],
    region: str,
    account_id: pulumi.Input[str],
    destinations: Sequence[LockedDestination],
    parent: pulumi.Resource,
) -> tuple[ReplicatedRule, ...]:
    """The role S3 replicates staged audit objects with, one policy per destination, and the rules; returns
    the rules as their replication metrics name them."""
    role = aws.iam.Role(
        f"{base}-role",
        description="Lets S3 replicate staged audit logs into the object-locked audit buckets",
        assume_role_policy=assume_role_policy(
            "s3.amazonaws.com",
            condition=from_source(account_id, staging.arn),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    grants = [
        aws.iam.RolePolicy(
            f"{base}-{destination.label}-policy",
            role=role.id,
            policy=to_json(
                policies.replication_policy(
                    source_arn=staging.arn,
                    destination_arn=destination.bucket.arn,
                    source_key_arn=staging_key_arn,
                    replica_key_arn=destination.key_arn,
                    source_region=region,
                    destination_region=destination.region,
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        for destination in destinations
    ]
    replicated = tuple(
        ReplicatedRule(staging.bucket, destination.bucket.bucket, f"staging-to-{destination.label}")
        for destination in destinations
    )
    rules = [
        kms_replication_rule(
            rule.rule_id,
            prefix="",
            destination_arn=destination.bucket.arn,
            replica_key_arn=destination.key_arn,
            priority=priority,
        )
        for priority, (destination, rule) in enumerate(zip(destinations, replicated, strict=True), start=1)
    ]
    aws.s3.BucketReplicationConfig(
        f"{base}-config",
        bucket=staging.id,
        role=role.arn,
        rules=rules,
        # Replication needs versioning on the source and every destination first.
        opts=pulumi.ResourceOptions(
            parent=staging,
            depends_on=[staging_versioning, *(d.versioning for d in destinations), *grants],
        ),
    )
    return replicated
