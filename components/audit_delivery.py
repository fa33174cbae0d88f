"""Vault's audit log from CloudWatch Logs into the compliance-locked audit bucket.

A subscription filter on the audit log group sends every event to a Kinesis Data Firehose stream, which
batches them into the audit staging bucket under `vault-audit/` (SSE-KMS with the bucket's data key) and
logs its own delivery errors to a log group; S3 replication copies each object into the object-locked
audit bucket (components/audit_staging.py: S3 refuses uploads to a bucket with default retention that carry
no Content-MD5 or checksum header, and Firehose is not documented to send one). Two roles, each allowed one
step: CloudWatch Logs may only put records into this stream; Firehose may only write the staging bucket's
prefixes, use the data key through S3 for that bucket, and write its error log stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment, Names
from components.lib.component import Component
from components.lib.iam import assume_role_policy, concat, document, from_source, statement, to_json

AUDIT_PREFIX = "vault-audit/"
ERROR_PREFIX = "vault-audit-errors/"
ERROR_LOG_STREAM = "S3Delivery"
# Firehose delivers when either limit is reached first: at most five minutes behind the log group.
BUFFER_SECONDS = 300
BUFFER_MIB = 5


@dataclass(frozen=True)
class AuditDeliveryArgs:
    """The audit log group, the staging bucket Firehose writes (replicated into the locked audit bucket) and
    the keys that encrypt each step."""

    deployment: Deployment
    audit_log_group_name: pulumi.Input[str]
    staging_bucket_arn: pulumi.Input[str]
    staging_bucket_policy: pulumi.Resource
    data_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


def firehose_policy(
    *, bucket_arn: Any, data_key_arn: Any, error_log_group_arn: Any, region: str
) -> dict[str, Any]:
    """What Firehose needs to deliver to S3 with SSE-KMS, and nothing more.

    With S3 Bucket Keys on, the KMS encryption context is the bucket's ARN, not the object's.
    """
    return document(
        statement(
            "ReadBucketForDelivery",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [bucket_arn],
        ),
        statement(
            "WriteAuditObjects",
            ["s3:AbortMultipartUpload", "s3:PutObject"],
            [concat(bucket_arn, f"/{AUDIT_PREFIX}*"), concat(bucket_arn, f"/{ERROR_PREFIX}*")],
        ),
        statement(
            "EncryptWithTheDataKeyThroughS3",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [data_key_arn],
            condition={
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn]},
            },
        ),
        statement(
            "LogDeliveryErrors",
            ["logs:PutLogEvents"],
            [concat(error_log_group_arn, f":log-stream:{ERROR_LOG_STREAM}")],
        ),
    )


def logs_to_firehose_policy(stream_arn: Any) -> dict[str, Any]:
    """CloudWatch Logs may put records into the one delivery stream."""
    return document(
        statement("PutAuditRecords", ["firehose:PutRecord", "firehose:PutRecordBatch"], [stream_arn])
    )


class AuditDelivery(Component):
    """Subscription filter → Firehose → audit bucket, with the two roles and Firehose's error log."""

    stream: aws.kinesis.FirehoseDeliveryStream
    subscription: aws.cloudwatch.LogSubscriptionFilter

    def __init__(
        self, name: str, args: AuditDeliveryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:AuditDelivery", name, None, opts)
        ctx = args.deployment.aws
        child = pulumi.ResourceOptions(parent=self)
        names = args.deployment.names
        stream_name = names.resource("vault-audit")

        error_group = aws.cloudwatch.LogGroup(
            f"{name}-errors",
            name=Names.firehose_log_group(stream_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags={"Name": names.resource("vault-audit-errors")},
            opts=child,
        )
        error_stream = aws.cloudwatch.LogStream(
            f"{name}-errors-stream",
            name=ERROR_LOG_STREAM,
            log_group_name=error_group.name,
            opts=pulumi.ResourceOptions(parent=error_group),
        )
        stream_arn = ctx.arn("firehose", f"deliverystream/{stream_name}")
        firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            description="Lets Firehose write Vault's audit log into the audit staging bucket",
            assume_role_policy=assume_role_policy(
                "firehose.amazonaws.com",
                condition=from_source(ctx.account_id, stream_arn),
            ),
            opts=child,
        )
        firehose_access = aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=firehose_role.id,
            policy=to_json(
                firehose_policy(
                    bucket_arn=args.staging_bucket_arn,
                    data_key_arn=args.data_key_arn,
                    error_log_group_arn=error_group.arn,
                    region=ctx.region,
                )
            ),
            opts=pulumi.ResourceOptions(parent=firehose_role),
        )
        self.stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream",
            name=stream_name,
            destination="extended_s3",
            extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
                role_arn=firehose_role.arn,
                bucket_arn=args.staging_bucket_arn,
                prefix=f"{AUDIT_PREFIX}!{{timestamp:yyyy/MM/dd}}/",
                error_output_prefix=f"{ERROR_PREFIX}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/",
                buffering_interval=BUFFER_SECONDS,
                buffering_size=BUFFER_MIB,
                # CloudWatch Logs already gzips what it sends; compressing again would gain nothing.
                compression_format="UNCOMPRESSED",
                kms_key_arn=args.data_key_arn,
                cloudwatch_logging_options=(
                    aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                        enabled=True, log_group_name=error_group.name, log_stream_name=error_stream.name
                    )
                ),
            ),
            tags={"Name": stream_name},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[firehose_access, args.staging_bucket_policy]
            ),
        )
        logs_role = aws.iam.Role(
            f"{name}-logs-role",
            description="Lets CloudWatch Logs send Vault's audit log to its Firehose stream",
            assume_role_policy=assume_role_policy(
                f"logs.{ctx.region}.amazonaws.com",
                condition={"StringLike": {"aws:SourceArn": ctx.arn("logs", "*")}},
            ),
            opts=child,
        )
        logs_access = aws.iam.RolePolicy(
            f"{name}-logs-policy",
            role=logs_role.id,
            policy=to_json(logs_to_firehose_policy(self.stream.arn)),
            opts=pulumi.ResourceOptions(parent=logs_role),
        )
        self.subscription = aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-subscription",
            name="vault-audit-to-s3",
            log_group=args.audit_log_group_name,
            # Every event: the bucket is the complete record.
            filter_pattern="",
            destination_arn=self.stream.arn,
            role_arn=logs_role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_access]),
        )
        self.register_outputs({"auditDeliveryStreamName": self.stream.name})
