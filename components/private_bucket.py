"""One private S3 bucket and the settings that make it safe: what every bucket of the platform is made of.

Private (public access block, ACLs disabled by BucketOwnerEnforced), versioned, encrypted by default
(SSE-KMS with a bucket key, or SSE-S3 where the writing service supports nothing else), TLS-only and
whatever else its policy statements add, with lifecycle rules and optionally object lock. S3 rejects
concurrent changes to one bucket's configuration ("A conflicting conditional operation is currently in
progress"), so the settings are applied one after another, each a child of the bucket.

Which buckets exist and what their policies say is the Storage component's (components/storage.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lib import bucket_policies as policies
from components.lib.bucket_lifecycles import Lifecycle
from components.lib.iam import to_json

# A bucket's policy statements, given the bucket's ARN.
Statements = Callable[[pulumi.Output[str]], Sequence[Any]]


@dataclass(frozen=True)
class ManagedBucket:
    """A bucket with the settings other resources may have to wait for."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    policy: aws.s3.BucketPolicy


def private_bucket(
    base: str,
    role: str,
    *,
    deployment: Deployment,
    parent: pulumi.Resource,
    kms_key_arn: pulumi.Input[str] | None,
    statements: Statements,
    lifecycle: list[Lifecycle],
    object_lock: tuple[str, int] | None = None,
    region: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ManagedBucket:
    """The bucket `<base>-<role>` (child of `parent`), named `candlefish-<env>-<role>-<account>`.

    `kms_key_arn` None means SSE-S3; `object_lock` is (mode, days) of the default retention; `region`
    None is the stack's region; `tags` are added to the bucket's own.
    """
    label = f"{base}-{role}"
    names = deployment.names
    bucket = aws.s3.Bucket(
        label,
        bucket=names.bucket(role, deployment.aws.account_id),
        # Object lock can only be turned on when a bucket is created (and S3 then requires versioning).
        object_lock_enabled=object_lock is not None,
        force_destroy=False,
        region=region,
        tags={"Name": names.resource(role), "DataClass": role, **(tags or {})},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    chain: list[pulumi.Resource] = []

    def after(previous: list[pulumi.Resource]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=bucket, depends_on=previous[-1:])

    ownership = aws.s3.BucketOwnershipControls(
        f"{label}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        region=region,
        opts=after(chain),
    )
    chain.append(ownership)
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{label}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=after(chain),
    )
    chain.append(public_access)
    policy = aws.s3.BucketPolicy(
        f"{label}-policy",
        bucket=bucket.id,
        policy=to_json(policies.bucket_policy(*statements(bucket.arn))),
        region=region,
        opts=after(chain),
    )
    chain.append(policy)
    versioning = aws.s3.BucketVersioning(
        f"{label}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        region=region,
        opts=after(chain),
    )
    chain.append(versioning)
    chain.append(_encryption(label, bucket, kms_key_arn, region, after(chain)))
    if object_lock is not None:
        mode, days = object_lock
        chain.append(
            aws.s3.BucketObjectLockConfiguration(
                f"{label}-object-lock",
                bucket=bucket.id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=mode, days=days
                    )
                ),
                region=region,
                opts=after(chain),
            )
        )
    aws.s3.BucketLifecycleConfiguration(
        f"{label}-lifecycle", bucket=bucket.id, rules=lifecycle, region=region, opts=after(chain)
    )
    return ManagedBucket(bucket=bucket, versioning=versioning, policy=policy)


def _encryption(
    label: str,
    bucket: aws.s3.Bucket,
    kms_key_arn: pulumi.Input[str] | None,
    region: str | None,
    opts: pulumi.ResourceOptions,
) -> aws.s3.BucketServerSideEncryptionConfiguration:
    if kms_key_arn is None:
        default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
        rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=default
        )
    else:
        default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
        rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=default,
            # A bucket key cuts KMS requests (and cost) by deriving object keys from one data key.
            bucket_key_enabled=True,
            # Customer-provided keys would put objects beyond the data key's policy and rotation.
            blocked_encryption_types=["SSE-C"],
        )
    return aws.s3.BucketServerSideEncryptionConfiguration(
        f"{label}-encryption", bucket=bucket.id, rules=[rule], region=region, opts=opts
    )
