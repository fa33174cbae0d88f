"""Bucket policy statements and the replication role's policy, as plain data (see components/lib/iam.py).

Values may be Pulumi Outputs (ARNs known only at deploy time); tests call these with plain strings and
lint the documents with parliament.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.lib.iam import concat, document, statement

# Regions opened since August 2022 have no Elastic Load Balancing account: access-log delivery is granted
# to a service principal instead (ELB User Guide, "Enable access logs for your Application Load Balancer").
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
ELB_SERVICE_PRINCIPAL_REGIONS = frozenset(
    {
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "mx-central-1",
    }
)

# What the Vault nodes must never do to the buckets that hold the evidence (audit logs) and the way back
# (raft snapshots), even if their role were later granted more: delete, shorten retention, or reconfigure.
TAMPER_ACTIONS = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject*",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutReplicationConfiguration",
)


def _both(bucket_arn: Any) -> list[Any]:
    """The bucket and every object in it: bucket-level and object-level actions each need their ARN."""
    return [bucket_arn, _objects(bucket_arn)]


def _objects(bucket_arn: Any) -> Any:
    return concat(bucket_arn, "/*")


def tls_only(bucket_arn: Any) -> dict[str, Any]:
    """Refuse every request that does not arrive over TLS."""
    return statement(
        "DenyInsecureTransport",
        ["s3:*"],
        _both(bucket_arn),
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )


def kms_only(bucket_arn: Any, key_arn: Any) -> list[dict[str, Any]]:
    """Refuse uploads that ask for any encryption but SSE-KMS with `key_arn`.

    Uploads that name no encryption get the bucket's default (SSE-KMS with the same key), so nothing can
    land unencrypted or under another key. The headers are only checked when present: S3 evaluates
    UploadPart as s3:PutObject without them, so requiring them would break multipart uploads.
    """
    objects = _objects(bucket_arn)
    return [
        statement(
            "DenyUploadsNotUsingKms",
            ["s3:PutObject"],
            objects,
            effect="Deny",
            principal="*",
            condition={
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                "Null": {"s3:x-amz-server-side-encryption": "false"},
            },
        ),
        statement(
            "DenyUploadsUsingAnotherKey",
            ["s3:PutObject"],
            objects,
            effect="Deny",
            principal="*",
            condition={
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
            },
        ),
    ]


def deny_tampering_by(principal_arn: Any, bucket_arn: Any) -> dict[str, Any]:
    """Deny `principal_arn` every deleting or reconfiguring action on the bucket.

    The principal is matched by condition rather than named: a policy naming a role fails while the role
    does not exist yet (the Vault nodes' role is created after the buckets), and a condition on
    aws:PrincipalArn keeps working if the role is ever recreated.
    """
    return statement(
        "DenyVaultNodesDeletingOrReconfiguring",
        TAMPER_ACTIONS,
        _both(bucket_arn),
        effect="Deny",
        principal="*",
        condition={"ArnEquals": {"aws:PrincipalArn": principal_arn}},
    )


def elb_log_delivery(
    bucket_arn: Any, prefix: str, account_id: Any, elb_principal: Mapping[str, Any]
) -> dict[str, Any]:
    """Let Elastic Load Balancing write access logs for this account under `prefix`."""
    return statement(
        "ElasticLoadBalancingWritesAccessLogs",
        ["s3:PutObject"],
        concat(bucket_arn, f"/{prefix}/AWSLogs/", account_id, "/*"),
        principal=elb_principal,
    )


def replication_policy(
    *,
    source_arn: Any,
    destination_arn: Any,
    source_key_arn: Any,
    replica_key_arn: Any,
    source_region: str,
    destination_region: str,
) -> dict[str, Any]:
    """What S3 replication needs to copy SSE-KMS objects: read versions here, decrypt with the source key
    (only via S3, only for this bucket), encrypt with the replica key (only via S3 there), write replicas.

    With S3 Bucket Keys on, the KMS encryption context is the bucket's ARN, not the object's.
    """
    return document(
        statement(
            "ReadReplicationConfiguration", ["s3:GetReplicationConfiguration", "s3:ListBucket"], [source_arn]
        ),
        statement(
            "ReadSourceVersions",
            ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            [_objects(source_arn)],
        ),
        statement(
            "WriteReplicas",
            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            [_objects(destination_arn)],
        ),
        statement(
            "DecryptSourceObjects",
            ["kms:Decrypt"],
            [source_key_arn],
            condition={
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source_arn]},
            },
        ),
        statement(
            "EncryptReplicas",
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [replica_key_arn],
            condition={
                "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [destination_arn]},
            },
        ),
    )


def bucket_policy(*statements: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A bucket policy from statements and lists of statements."""
    flat: list[Mapping[str, Any]] = []
    for item in statements:
        flat.extend([item] if isinstance(item, Mapping) else item)
    return document(*flat)
