"""S3 lifecycle rules of the platform's buckets, as data: when objects move to colder classes and expire."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

# Days after which objects move to colder storage classes. STANDARD_IA needs objects 30 days old.
INFREQUENT_ACCESS_DAYS = 30
AUDIT_INSTANT_ARCHIVE_DAYS = 90
NONCURRENT_ACCESS_LOG_DAYS = 30
ABORT_UPLOADS_DAYS = 7

Lifecycle = aws.s3.BucketLifecycleConfigurationRuleArgs


def _rule(rule_id: str, **settings: Any) -> Lifecycle:
    """A lifecycle rule for the whole bucket that also cleans up abandoned multipart uploads."""
    return Lifecycle(
        id=rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=(
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_UPLOADS_DAYS
            )
        ),
        **settings,
    )


def _expire_noncurrent(days: int) -> aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs:
    return aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(noncurrent_days=days)


def audit_lifecycle(lock_days: int) -> list[Lifecycle]:
    """Audit logs are kept, moving to colder storage; overwritten versions go once their lock has ended."""
    return [
        _rule(
            "audit-to-colder-storage",
            transitions=[
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=INFREQUENT_ACCESS_DAYS, storage_class="STANDARD_IA"
                ),
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=AUDIT_INSTANT_ARCHIVE_DAYS, storage_class="GLACIER_IR"
                ),
            ],
            noncurrent_version_expiration=_expire_noncurrent(lock_days),
        )
    ]


def snapshot_lifecycle(retention_days: int) -> list[Lifecycle]:
    """Snapshots move to STANDARD_IA after 30 days and expire after the configured retention."""
    return [
        _rule(
            "snapshots-infrequent-access-then-expire",
            transitions=[
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=INFREQUENT_ACCESS_DAYS, storage_class="STANDARD_IA"
                )
            ],
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=retention_days),
            noncurrent_version_expiration=_expire_noncurrent(INFREQUENT_ACCESS_DAYS),
        )
    ]


def access_log_lifecycle(retention_days: int) -> list[Lifecycle]:
    return [
        _rule(
            "access-logs-expire",
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=retention_days),
            noncurrent_version_expiration=_expire_noncurrent(NONCURRENT_ACCESS_LOG_DAYS),
        )
    ]


def artifact_lifecycle() -> list[Lifecycle]:
    """Function packages: the current ones stay (functions are deployed from them); superseded versions go
    after 30 days, time enough to roll back to the previous package."""
    return [_rule("artifacts-old-versions-expire", noncurrent_version_expiration=_expire_noncurrent(30))]


def staging_lifecycle(days: int) -> list[Lifecycle]:
    """Staged audit objects expire once replication has long copied them into the locked buckets (S3 does
    not replicate lifecycle actions, so the copies stay)."""
    return [
        _rule(
            "staged-audit-expire",
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
            noncurrent_version_expiration=_expire_noncurrent(1),
        )
    ]
