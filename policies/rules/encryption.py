"""Encryption at rest and in transit, with customer-managed KMS keys wherever AWS accepts one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from . import settings
from .framework import (
    ADVISORY,
    HIGH,
    MANDATORY,
    MEDIUM,
    Refs,
    ResourceCheck,
    ResourceContext,
    StackContext,
    StackView,
    known_tags,
    label,
    resource_policy,
    stack_policy,
)
from .props import (
    is_allow,
    is_true,
    mapping,
    mappings,
    parse_document,
    principals,
    statements,
    strings,
    value_or_computed,
)

CATEGORY = "encryption"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ELB_ACCOUNT_PRINCIPAL = re.compile(r"(?:arn:aws[\w-]*:iam::)?(\d{12})(?::root)?")


def is_customer_key(key: Any) -> bool:
    """A KMS key id/ARN/alias that is not an AWS managed key (`alias/aws/<service>`).

    A key id unknown at preview (COMPUTED) comes from a key the stack creates, so it is a customer key.
    """
    return isinstance(key, str) and bool(key.strip()) and "alias/aws/" not in key


def _customer_key_problem(what: str, key: Any) -> Iterable[str]:
    if not key:
        yield f"{what} names no KMS key: it would use the AWS managed key, which cannot be scoped or audited"
    elif not is_customer_key(key):
        yield f"{what} uses the AWS managed key {key}; use one of the stack's customer-managed keys"


# --- S3: correlated across the v7 bucket resources --------------------------------------------------------


def _grants_elb_log_delivery(document: Mapping[str, Any] | None, config: Mapping[str, Any]) -> bool:
    services = [*strings(config.get("elbServices")), *strings(config.get("s3LogServices"))]
    accounts = strings(config.get("elbAccountIds"))
    for statement in statements(document):
        actions = strings(statement.get("Action"))
        if not is_allow(statement) or not {"s3:PutObject", "s3:*", "*"} & set(actions):
            continue
        for kind, value in principals(statement):
            account = ELB_ACCOUNT_PRINCIPAL.fullmatch(value)
            if (kind == "Service" and value in services) or (
                kind == "AWS" and account and account.group(1) in accounts
            ):
                return True
    return False


def _elb_log_bucket_problem(view: StackView, bucket: PolicyResource, config: Mapping[str, Any]) -> str | None:
    """None if `bucket` is the load balancer's access-log bucket (so SSE-S3 is required), else why not.

    Its bucket policy must grant ELB log delivery. While that policy is unknown (a first preview), the bucket
    is taken at its word if it carries the log-bucket tag, and otherwise the rule cannot decide: the
    unknown value propagates and the engine reports "can't run during preview" (`pulumi up` decides with
    the real policy). A tag with no policy, or a policy that grants no delivery, is refused: the exemption
    must not be a way to switch off KMS for an arbitrary bucket.
    """
    tagged = known_tags(bucket).get(str(config["logBucketTagKey"])) == str(config["logBucketTagValue"])
    unknown: UnknownValueError | None = None
    for bucket_policy in view.referencing(bucket, "bucket", BUCKET_POLICY_TYPE):
        try:
            document = parse_document(bucket_policy.props.get("policy"))
        except UnknownValueError as error:
            unknown = error
            continue
        if _grants_elb_log_delivery(document, config):
            return None
    if unknown is not None:
        if tagged:
            return None
        raise unknown
    if tagged:
        return "it is tagged as the ELB access-log bucket but no bucket policy grants ELB log delivery"
    return (
        "only the load balancer's access-log bucket and the S3 server-access-log bucket "
        "(whose policies grant log delivery) may use SSE-S3 (AES256)"
    )


def _bucket_encryption(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for bucket in view.of_type(*BUCKET_TYPES):
        defaults = [
            mapping(rule.get("applyServerSideEncryptionByDefault"))
            for config in view.referencing(bucket, "bucket", *SSE_TYPES)
            for rule in mappings(config.props.get("rules"))
        ]
        if not defaults:
            yield (
                f"bucket {label(bucket)} has no BucketServerSideEncryptionConfiguration with a default rule",
                bucket.urn,
            )
            continue
        if any(
            d.get("sseAlgorithm") in KMS_ALGORITHMS
            and is_customer_key(value_or_computed(d, "kmsMasterKeyId"))
            for d in defaults
        ):
            continue
        if all(d.get("sseAlgorithm") == "AES256" for d in defaults):
            problem = _elb_log_bucket_problem(view, bucket, context.config)
            if problem is None:
                continue
            yield f"bucket {label(bucket)} uses SSE-S3: {problem}", bucket.urn
            continue
        yield (
            f"bucket {label(bucket)} must default to SSE-KMS (aws:kms) with a customer-managed key "
            "(kmsMasterKeyId)",
            bucket.urn,
        )


s3_bucket_sse_kms = stack_policy(
    "s3-bucket-sse-kms",
    "Every S3 bucket has a BucketServerSideEncryptionConfiguration defaulting to SSE-KMS with a "
    "customer-managed key; only the load balancer's access-log bucket (its policy grants ELB log delivery; "
    "while that policy is unknown at preview, a BucketPurpose=elb-access-logs tag vouches for it) and the "
    "S3 server-access-log bucket (its policy grants logging.s3.amazonaws.com) may use SSE-S3, the only "
    "encryption AWS accepts for ALB access logs and S3 server access logs.",
    check=_bucket_encryption,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_19", "CKV_AWS_145")),
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket with sse_algorithm "
    "aws:kms and kms_master_key_id set to the data key.",
    category=CATEGORY,
    config={
        "logBucketTagKey": {"type": "string", "default": settings.LOG_BUCKET_TAG_KEY},
        "logBucketTagValue": {"type": "string", "default": settings.LOG_BUCKET_TAG_VALUE},
        "elbServices": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.ELB_LOG_DELIVERY_SERVICES),
        },
        "elbAccountIds": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.ELB_ACCOUNT_IDS),
        },
        "s3LogServices": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.S3_LOG_DELIVERY_SERVICES),
        },
    },
)


# --- Block storage ---------------------------------------------------------------------------------------


def _ebs_volume(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not is_true(props.get("encrypted")):
        yield "EBS volume is not encrypted"
    yield from _customer_key_problem("EBS volume", value_or_computed(props, "kmsKeyId"))


ebs_volume_encrypted = resource_policy(
    "ebs-volume-encrypted",
    "EBS volumes are encrypted with a customer-managed KMS key.",
    types=("aws:ebs/volume:Volume",),
    check=_ebs_volume,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_3", "CKV_AWS_189"),
        awsguard=("encrypted-volumes",),
        compliance=("aws-ebs-volume-disallow-unencrypted-volume",),
    ),
    remediation="Set encrypted=True and kms_key_id to the data key.",
    category=CATEGORY,
)


def _block_device(what: str, device: Mapping[str, Any]) -> Iterable[str]:
    if not is_true(device.get("encrypted")):
        yield f"{what} is not encrypted"
    yield from _customer_key_problem(what, value_or_computed(device, "kmsKeyId"))


def _instance_volumes(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if context.type == "aws:ec2/launchTemplate:LaunchTemplate":
        devices = [m for m in mappings(props.get("blockDeviceMappings")) if not m.get("virtualName")]
        if not devices:
            yield "launch template maps no EBS volumes: the AMI's root volume follows the account default"
        for device in devices:
            yield from _block_device(f"volume {device.get('deviceName', '?')}", mapping(device.get("ebs")))
        return
    root = mapping(props.get("rootBlockDevice"))
    if not root:
        yield "instance declares no rootBlockDevice: the AMI's root volume would follow the account default"
    else:
        yield from _block_device("root volume", root)
    for device in mappings(props.get("ebsBlockDevices")):
        yield from _block_device(f"volume {device.get('deviceName', '?')}", device)


ec2_volumes_encrypted = resource_policy(
    "ec2-volumes-encrypted",
    "Launch templates and instances declare every EBS volume (root included) encrypted with a "
    "customer-managed KMS key.",
    types=("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"),
    check=_instance_volumes,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_8",),
        compliance=(
            "aws-ec2-launch-template-disallow-unencrypted-volume",
            "aws-ec2-launch-template-configure-customer-managed-key",
        ),
    ),
    remediation="Give every block device mapping ebs.encrypted='true' and ebs.kms_key_id (the data key).",
    category=CATEGORY,
)


# --- Databases -------------------------------------------------------------------------------------------


def _rds_storage(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if props.get("replicateSourceDb"):
        return  # a read replica inherits its source's encryption
    if not is_true(props.get("storageEncrypted")):
        yield "database storage is not encrypted (storageEncrypted)"
    yield from _customer_key_problem("database storage", value_or_computed(props, "kmsKeyId"))


rds_storage_encrypted = resource_policy(
    "rds-storage-encrypted",
    "RDS instances and clusters encrypt storage with a customer-managed KMS key.",
    types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=_rds_storage,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_16",),
        awsguard=("rds-storage-encrypted",),
        compliance=(
            "aws-rds-instance-storage-encryption-enabled",
            "aws-rds-instance-storage-encryption-with-customer-managed-key",
        ),
    ),
    remediation="Set storage_encrypted=True and kms_key_id to the data key.",
    category=CATEGORY,
)


def _performance_insights_key(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if is_true(props.get("performanceInsightsEnabled")):
        yield from _customer_key_problem(
            "Performance Insights", value_or_computed(props, "performanceInsightsKmsKeyId")
        )


rds_performance_insights_kms = resource_policy(
    "rds-performance-insights-kms",
    "Where Performance Insights is on, its data (which includes query text) is encrypted with a "
    "customer-managed KMS key.",
    types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=_performance_insights_key,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_354",), compliance=("aws-rds-instance-performance-insights-encrypted",)),
    remediation="Set performance_insights_kms_key_id to the data key.",
    category=CATEGORY,
)


def _cache_at_rest(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not is_true(props.get("atRestEncryptionEnabled")):
        yield "replication group is not encrypted at rest (atRestEncryptionEnabled)"
    yield from _customer_key_problem("replication group", value_or_computed(props, "kmsKeyId"))


elasticache_encryption_at_rest = resource_policy(
    "elasticache-encryption-at-rest",
    "ElastiCache replication groups are encrypted at rest with a customer-managed KMS key.",
    types=("aws:elasticache/replicationGroup:ReplicationGroup",),
    check=_cache_at_rest,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_29", "CKV_AWS_191")),
    remediation="Set at_rest_encryption_enabled=True and kms_key_id to the data key.",
    category=CATEGORY,
)


def _cache_in_transit(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not is_true(props.get("transitEncryptionEnabled")):
        yield "replication group does not require TLS (transitEncryptionEnabled)"
    elif str(props.get("transitEncryptionMode") or "required") != "required":
        yield "transitEncryptionMode 'preferred' still accepts plaintext clients; use 'required'"
    if not props.get("authToken") and not strings(props.get("userGroupIds")):
        yield "replication group has neither an AUTH token nor RBAC user groups"


elasticache_encryption_in_transit = resource_policy(
    "elasticache-encryption-in-transit",
    "ElastiCache replication groups require TLS and authenticate clients (AUTH token or RBAC).",
    types=("aws:elasticache/replicationGroup:ReplicationGroup",),
    check=_cache_in_transit,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_30", "CKV_AWS_31")),
    remediation="Set transit_encryption_enabled=True (mode 'required') and auth_token from pulumi-random.",
    category=CATEGORY,
)


# --- Secrets, notifications, logs, functions -------------------------------------------------------------


def _key_field(field: str, what: str) -> ResourceCheck:
    def check(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
        return _customer_key_problem(what, value_or_computed(props, field))

    return check


secretsmanager_customer_key = resource_policy(
    "secretsmanager-customer-key",
    "Secrets Manager secrets are encrypted with a customer-managed KMS key (kmsKeyId).",
    types=("aws:secretsmanager/secret:Secret",),
    check=_key_field("kmsKeyId", "secret"),
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_149",), compliance=("aws-secrets-manager-secret-configure-customer-managed-key",)
    ),
    remediation="Set kms_key_id to the secrets key.",
    category=CATEGORY,
)

sns_topic_kms = resource_policy(
    "sns-topic-kms",
    "SNS topics are encrypted with a customer-managed KMS key (kmsMasterKeyId); CloudWatch alarms cannot "
    "publish to a topic under the AWS managed key anyway.",
    types=("aws:sns/topic:Topic",),
    check=_key_field("kmsMasterKeyId", "topic"),
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_26",)),
    remediation="Set kms_master_key_id to the notifications key.",
    category=CATEGORY,
)

log_group_kms = resource_policy(
    "log-group-kms",
    "CloudWatch log groups are encrypted with a customer-managed KMS key (kmsKeyId).",
    types=("aws:cloudwatch/logGroup:LogGroup",),
    check=_key_field("kmsKeyId", "log group"),
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_158",)),
    remediation="Set kms_key_id to the logs key (its key policy must admit logs.<region>.amazonaws.com).",
    category=CATEGORY,
)


def _lambda_environment(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    variables = mapping(mapping(props.get("environment")).get("variables"))
    if variables and not is_customer_key(value_or_computed(props, "kmsKeyArn")):
        yield "function has environment variables but no customer-managed kmsKeyArn"


lambda_environment_kms = resource_policy(
    "lambda-environment-kms",
    "Lambda functions with environment variables encrypt them with a customer-managed key.",
    types=("aws:lambda/function:Function",),
    check=_lambda_environment,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_173",)),
    remediation="Set kms_key_arn; keep secret values in Secrets Manager, not in the environment.",
    category=CATEGORY,
)

POLICIES = [
    s3_bucket_sse_kms,
    ebs_volume_encrypted,
    ec2_volumes_encrypted,
    rds_storage_encrypted,
    rds_performance_insights_kms,
    elasticache_encryption_at_rest,
    elasticache_encryption_in_transit,
    secretsmanager_customer_key,
    sns_topic_kms,
    log_group_kms,
    lambda_environment_kms,
]
