"""Settings that keep what is deployed hard to misuse and recoverable: instance metadata, key rotation and
deletion windows, database resilience, log retention, flow logs, closed default security groups."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import settings
from .encryption import BUCKET_POLICY_TYPE, BUCKET_TYPES
from .exposure import INSTANCE, LAUNCH_TEMPLATE, LOAD_BALANCER_TYPES
from .framework import (
    ADVISORY,
    HIGH,
    LOW,
    MANDATORY,
    MEDIUM,
    Refs,
    ResourceCheck,
    ResourceContext,
    StackContext,
    StackView,
    label,
    resource_policy,
    stack_policy,
)
from .props import (
    as_number,
    is_false,
    is_true,
    mapping,
    parse_document,
    sequence,
    statements,
    strings,
)

CATEGORY = "hardening"
KMS_KEY = "aws:kms/key:Key"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
VPC = "aws:ec2/vpc:Vpc"


def _days(key: str, default: int, description: str) -> dict[str, dict[str, Any]]:
    return {key: {"type": "integer", "minimum": 0, "default": default, "description": description}}


def _minimums(outside: int, production: int) -> dict[str, dict[str, Any]]:
    """The `minimumDays` / `productionMinimumDays` settings of a rule whose floor rises in production."""
    return {
        **_days("minimumDays", outside, "Outside production."),
        **_days("productionMinimumDays", production, "In production."),
    }


def _minimum(context: ResourceContext | StackContext) -> float:
    """The rule's `productionMinimumDays` in production, else its `minimumDays`."""
    key = "productionMinimumDays" if context.production else "minimumDays"
    return float(context.config[key])


def _metadata(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    options = mapping(props.get("metadataOptions"))
    if str(options.get("httpEndpoint") or "enabled") == "disabled":
        return
    if options.get("httpTokens") != "required":
        yield "instance metadata accepts IMDSv1 (metadataOptions.httpTokens must be 'required')"
    hops = as_number(options.get("httpPutResponseHopLimit"))
    maximum = float(context.config["maximumHopLimit"])
    if hops is None or hops > maximum:
        shown = "unset" if hops is None else f"{hops:g}"
        yield f"metadata response hop limit is {shown}; at most {int(maximum)}"


imdsv2_required = resource_policy(
    "imdsv2-required",
    "Instances and launch templates require IMDSv2 tokens and a metadata response hop limit of 1, so a "
    "container or proxy on a Vault node cannot lift the node role's credentials.",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    check=_metadata,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_79", "CKV_AWS_341")),
    remediation="Set metadata_options http_tokens='required' and http_put_response_hop_limit=1.",
    category=CATEGORY,
    config={"maximumHopLimit": {"type": "integer", "minimum": 1, "default": 1}},
)


def _rotation(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    spec = props.get("customerMasterKeySpec") or props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT" or str(props.get("keyUsage") or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return  # AWS rotates only symmetric encryption keys
    if is_true(props.get("enableKeyRotation")):
        period = as_number(props.get("rotationPeriodInDays"))
        maximum = float(context.config["maximumRotationDays"])
        if period is not None and period > maximum:
            yield f"key rotates every {int(period)} days; at most every {int(maximum)}"
        return
    if props.get("customKeyStoreId"):
        return  # AWS cannot rotate keys held in a custom key store (CloudHSM)
    yield "key rotation is off (enableKeyRotation)"


kms_key_rotation = resource_policy(
    "kms-key-rotation",
    "Symmetric KMS keys rotate automatically (at least yearly), except keys in a custom key store, which "
    "AWS cannot rotate.",
    types=(KMS_KEY,),
    check=_rotation,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_7",),
        awsguard=("cmk-backing-key-rotation-enabled",),
        compliance=("aws-kms-key-enable-key-rotation",),
    ),
    remediation="Set enable_key_rotation=True (rotation_period_in_days <= 365).",
    category=CATEGORY,
    config={"maximumRotationDays": {"type": "integer", "default": settings.KMS_MAXIMUM_ROTATION_DAYS}},
)


def _window(field: str, what: str, default_when_unset: int) -> ResourceCheck:
    def check(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
        days = as_number(props.get(field))
        given = default_when_unset if days is None else days
        if given < _minimum(context):
            yield f"{what} waits {int(given)} days; at least {int(_minimum(context))} here"

    return check


kms_deletion_window = resource_policy(
    "kms-deletion-window",
    "A scheduled KMS key deletion waits at least 7 days, and 30 in production (the stack's Environment tag), "
    "so a mistaken deletion can be cancelled before data becomes unreadable.",
    types=(KMS_KEY,),
    check=_window("deletionWindowInDays", "scheduled key deletion", 30),
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(),
    remediation="Set deletion_window_in_days to 30 (kmsDeletionWindowDays).",
    category=CATEGORY,
    config=_minimums(settings.KMS_MINIMUM_DELETION_WINDOW_DAYS, settings.KMS_PRODUCTION_DELETION_WINDOW_DAYS),
)


def _lockout(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if is_true(props.get("bypassPolicyLockoutSafetyCheck")):
        yield "key bypasses the key-policy lockout safety check"


kms_policy_lockout_check = resource_policy(
    "kms-policy-lockout-check",
    "KMS keys keep the key-policy lockout safety check, so no policy can make a key unmanageable.",
    types=(KMS_KEY,),
    check=_lockout,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(compliance=("aws-kms-key-disallow-bypass-policy-lockout-safety-check",)),
    remediation="Remove bypass_policy_lockout_safety_check.",
    category=CATEGORY,
)

secret_recovery_window = resource_policy(
    "secret-recovery-window",
    "A deleted Secrets Manager secret stays recoverable for at least 7 days, 30 in production.",
    types=("aws:secretsmanager/secret:Secret",),
    check=_window("recoveryWindowInDays", "secret deletion", 30),
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(),
    remediation="Set recovery_window_in_days=30 (never 0, which deletes at once).",
    category=CATEGORY,
    config=_minimums(settings.SECRET_MINIMUM_RECOVERY_DAYS, settings.SECRET_PRODUCTION_RECOVERY_DAYS),
)


def _no_key_pair(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if props.get("keyName"):
        yield f"instances get the SSH key pair {props.get('keyName')}; use Session Manager instead"


ec2_no_key_pair = resource_policy(
    "ec2-no-key-pair",
    "Vault nodes and other instances carry no SSH key pair; operators use Session Manager.",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    check=_no_key_pair,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(),
    remediation="Remove key_name; grant ssm:StartSession to operators instead.",
    category=CATEGORY,
)


def _detailed_monitoring(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    monitoring = props.get("monitoring")
    enabled = mapping(monitoring).get("enabled") if context.type == LAUNCH_TEMPLATE else monitoring
    if not is_true(enabled):
        yield "detailed (1-minute) monitoring is off"


ec2_detailed_monitoring = resource_policy(
    "ec2-detailed-monitoring",
    "Instances publish 1-minute metrics, so node-failure alarms react within minutes.",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    check=_detailed_monitoring,
    level=ADVISORY,
    severity=LOW,
    refs=Refs(checkov=("CKV_AWS_126",), awsguard=("ec2-instance-detailed-monitoring-enabled",)),
    remediation="Set monitoring.enabled=True.",
    category=CATEGORY,
)


# --- RDS -------------------------------------------------------------------------------------------------


def _backups(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if props.get("replicateSourceDb"):
        return
    days = as_number(props.get("backupRetentionPeriod"))
    minimum = float(context.config["minimumDays"])
    if days is None:
        yield f"backup retention is not set (AWS keeps 1 day); at least {int(minimum)}"
    elif days < minimum:
        yield f"backups are kept {int(days)} days; at least {int(minimum)}"


rds_backup_retention = resource_policy(
    "rds-backup-retention",
    "RDS instances and clusters keep automated backups for at least 7 days.",
    types=(RDS_INSTANCE, RDS_CLUSTER),
    check=_backups,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_133",),
        awsguard=("rds-instance-backup-enabled",),
        compliance=("aws-rds-instance-disallow-low-backup-retention-period",),
    ),
    remediation="Set backup_retention_period (30 in production).",
    category=CATEGORY,
    config=_days("minimumDays", settings.RDS_MINIMUM_BACKUP_DAYS, "Fewest days of automated backups."),
)


def _flag(field: str, message: str, *, unset_ok: bool = False) -> ResourceCheck:
    """A check that `field` is true (or, with `unset_ok`, merely not explicitly false)."""

    def check(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
        value = props.get(field)
        if (unset_ok and not is_false(value)) or (not unset_ok and is_true(value)):
            return
        yield message

    return check


def _rds_rule(
    name: str, summary: str, check: ResourceCheck, refs: Refs, remediation: str, **kwargs: Any
) -> Any:
    """The RDS instance rules differ only in what they check; level and category default to advisory ops."""
    options: dict[str, Any] = {"level": ADVISORY, "severity": MEDIUM, "types": (RDS_INSTANCE,)} | kwargs
    return resource_policy(
        name, summary, check=check, refs=refs, remediation=remediation, category=CATEGORY, **options
    )


rds_multi_az = _rds_rule(
    "rds-multi-az",
    "Production databases are Multi-AZ, so losing a zone does not lose the platform's database.",
    _flag("multiAz", "database is single-AZ in production"),
    Refs(checkov=("CKV_AWS_157",)),
    "Set multi_az=True.",
    level=MANDATORY,
    severity=HIGH,
    production_only=True,
)


def _deletion_protection(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not is_true(props.get("deletionProtection")):
        yield "database has no deletion protection in production"
    if is_true(props.get("skipFinalSnapshot")):
        yield "database would be deleted without a final snapshot"


rds_deletion_protection = _rds_rule(
    "rds-deletion-protection",
    "Production databases have deletion protection and keep a final snapshot.",
    _deletion_protection,
    Refs(checkov=("CKV_AWS_293",)),
    "Set deletion_protection=True and skip_final_snapshot=False with a final_snapshot_identifier.",
    level=MANDATORY,
    severity=HIGH,
    types=(RDS_INSTANCE, RDS_CLUSTER),
    production_only=True,
)

rds_iam_authentication = _rds_rule(
    "rds-iam-authentication",
    "RDS instances accept IAM database authentication (short-lived tokens instead of passwords).",
    _flag("iamDatabaseAuthenticationEnabled", "IAM database authentication is off"),
    Refs(checkov=("CKV_AWS_161",)),
    "Set iam_database_authentication_enabled=True.",
)


def _log_exports(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    exports = strings(props.get("enabledCloudwatchLogsExports"))
    if "postgres" in str(props.get("engine") or "") and "postgresql" not in exports:
        yield "the PostgreSQL log is not exported to CloudWatch"
    elif not exports:
        yield "no database logs are exported to CloudWatch"


rds_log_exports = _rds_rule(
    "rds-log-exports",
    "RDS instances export their logs (for PostgreSQL, the postgresql log) to CloudWatch.",
    _log_exports,
    Refs(checkov=("CKV_AWS_129",)),
    "Set enabled_cloudwatch_logs_exports=['postgresql', 'upgrade'].",
)


def _enhanced_monitoring(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not (as_number(props.get("monitoringInterval")) or 0) > 0:
        yield "enhanced monitoring is off (monitoringInterval 0)"


rds_enhanced_monitoring = _rds_rule(
    "rds-enhanced-monitoring",
    "RDS instances have enhanced monitoring.",
    _enhanced_monitoring,
    Refs(checkov=("CKV_AWS_118",)),
    "Set monitoring_interval (e.g. 60) and monitoring_role_arn.",
)

rds_copy_tags_to_snapshot = _rds_rule(
    "rds-copy-tags-to-snapshot",
    "RDS instances copy their tags to snapshots (ownership and environment survive into backups).",
    _flag("copyTagsToSnapshot", "tags are not copied to snapshots"),
    Refs(checkov=("CKV2_AWS_60",)),
    "Set copy_tags_to_snapshot=True.",
    severity=LOW,
)

rds_performance_insights = _rds_rule(
    "rds-performance-insights",
    "RDS instances have Performance Insights on.",
    _flag("performanceInsightsEnabled", "Performance Insights is off"),
    Refs(checkov=("CKV_AWS_353",), compliance=("aws-rds-instance-performance-insights-enabled",)),
    "Set performance_insights_enabled=True with performance_insights_kms_key_id.",
    severity=LOW,
)

rds_auto_minor_upgrade = _rds_rule(
    "rds-auto-minor-upgrade",
    "RDS instances take minor engine upgrades (security fixes) in the maintenance window.",
    _flag("autoMinorVersionUpgrade", "automatic minor version upgrades are off", unset_ok=True),
    Refs(checkov=("CKV_AWS_226",)),
    "Leave auto_minor_version_upgrade on.",
    severity=LOW,
)


# --- ElastiCache -----------------------------------------------------------------------------------------


def _failover(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not is_true(props.get("automaticFailoverEnabled")):
        yield "automatic failover is off"
    if not is_true(props.get("multiAzEnabled")):
        yield "Multi-AZ is off"
    nodes = as_number(props.get("numCacheClusters"))
    replicas = as_number(props.get("replicasPerNodeGroup"))
    if (nodes or 0) < 2 and (replicas or 0) < 1:
        yield "replication group has no replica to fail over to"


elasticache_automatic_failover = resource_policy(
    "elasticache-automatic-failover",
    "Production Redis replication groups have a replica in another zone and fail over automatically.",
    types=(REPLICATION_GROUP,),
    check=_failover,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV2_AWS_50",)),
    remediation="Set automatic_failover_enabled=True, multi_az_enabled=True and num_cache_clusters >= 2.",
    category=CATEGORY,
    production_only=True,
)


def _snapshots(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not (as_number(props.get("snapshotRetentionLimit")) or 0) >= 1:
        yield "no automatic snapshots are kept (snapshotRetentionLimit)"


elasticache_snapshot_retention = resource_policy(
    "elasticache-snapshot-retention",
    "Redis replication groups keep automatic snapshots.",
    types=(REPLICATION_GROUP,),
    check=_snapshots,
    level=ADVISORY,
    severity=LOW,
    refs=Refs(checkov=("CKV_AWS_134",)),
    remediation="Set snapshot_retention_limit (e.g. 7).",
    category=CATEGORY,
)


# --- Logs ------------------------------------------------------------------------------------------------


def _is_security_log(props: Mapping[str, Any], context: ResourceContext) -> bool:
    pattern = re.compile(str(context.config["securityLogPattern"]))
    return any(pattern.search(name) for name in (str(props.get("name") or ""), context.name))


def _security_retention(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    days = as_number(props.get("retentionInDays")) or 0
    if _is_security_log(props, context) and 0 < days < float(context.config["minimumDays"]):
        minimum = int(context.config["minimumDays"])
        yield f"security log kept {int(days)} days; at least {minimum} in production"


security_log_retention = resource_policy(
    "security-log-retention",
    "In production, security log groups (Vault audit, VPC flow logs: names matching securityLogPattern) keep "
    "at least 365 days.",
    types=(LOG_GROUP,),
    check=_security_retention,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_338",)),
    remediation="Set retention_in_days to 365 or more (a CloudWatch retention period).",
    category=CATEGORY,
    config={
        **_days("minimumDays", settings.SECURITY_LOG_PRODUCTION_RETENTION_DAYS, "In production."),
        "securityLogPattern": {"type": "string", "default": settings.SECURITY_LOG_PATTERN},
    },
    production_only=True,
)


def _retention(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    days = as_number(props.get("retentionInDays")) or 0
    if days == 0:
        yield "log group never expires (retentionInDays unset): it grows, and costs, forever"
    elif days < _minimum(context):
        yield f"log group keeps {int(days)} days; at least {int(_minimum(context))} here"


log_group_retention = resource_policy(
    "log-group-retention",
    "Every log group sets a retention period: at least 30 days, 90 in production.",
    types=(LOG_GROUP,),
    check=_retention,
    level=ADVISORY,
    severity=LOW,
    refs=Refs(checkov=("CKV_AWS_66",)),
    remediation="Set retention_in_days.",
    category=CATEGORY,
    config=_minimums(settings.LOG_MINIMUM_RETENTION_DAYS, settings.LOG_PRODUCTION_RETENTION_DAYS),
)


# --- Network ---------------------------------------------------------------------------------------------


def _flow_logs(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for vpc in view.of_type(VPC):
        logs = view.referencing(vpc, "vpcId", "aws:ec2/flowLog:FlowLog")
        if not logs:
            yield f"VPC {label(vpc)} has no flow log", vpc.urn
        elif not any(log.props.get("trafficType") == "ALL" for log in logs):
            yield f"VPC {label(vpc)}'s flow logs do not capture ALL traffic (accepted and rejected)", vpc.urn


vpc_flow_logs = stack_policy(
    "vpc-flow-logs",
    "Every VPC has a flow log capturing ALL traffic.",
    check=_flow_logs,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV2_AWS_11",)),
    remediation="Add an aws.ec2.FlowLog with vpc_id and traffic_type='ALL'.",
    category=CATEGORY,
)


def _default_groups(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    groups = view.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    for vpc in view.of_type(VPC):
        if not view.referencing(vpc, "vpcId", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
            yield f"VPC {label(vpc)}'s default security group is not adopted and emptied", vpc.urn
    for group in groups:
        if sequence(group.props.get("ingress")) or sequence(group.props.get("egress")):
            yield f"default security group {label(group)} has rules; it must admit nothing", group.urn


default_security_group_closed = stack_policy(
    "default-security-group-closed",
    "Every VPC's default security group is adopted with no ingress or egress rules, removing AWS's "
    "allow-all defaults.",
    check=_default_groups,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV2_AWS_12",)),
    remediation="Add an aws.ec2.DefaultSecurityGroup for the VPC with no ingress and no egress.",
    category=CATEGORY,
)


# --- S3 --------------------------------------------------------------------------------------------------


def _versioning(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    types = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
    for bucket in view.of_type(*BUCKET_TYPES):
        configs = view.referencing(bucket, "bucket", *types)
        if not any(
            mapping(c.props.get("versioningConfiguration")).get("status") == "Enabled" for c in configs
        ):
            yield f"bucket {label(bucket)} is not versioned", bucket.urn


s3_bucket_versioning = stack_policy(
    "s3-bucket-versioning",
    "S3 buckets are versioned, so an overwritten or deleted audit log or snapshot can be recovered.",
    check=_versioning,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_21",)),
    remediation="Add an aws.s3.BucketVersioning with status 'Enabled'.",
    category=CATEGORY,
)


def _denies_plaintext(document: Mapping[str, Any] | None) -> bool:
    for statement in statements(document):
        condition = mapping(mapping(statement.get("Condition")).get("Bool"))
        if statement.get("Effect") == "Deny" and strings(condition.get("aws:SecureTransport")) == ["false"]:
            return True
    return False


def _tls_only(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for bucket in view.of_type(*BUCKET_TYPES):
        bucket_policies = view.referencing(bucket, "bucket", BUCKET_POLICY_TYPE)
        if not any(_denies_plaintext(parse_document(p.props.get("policy"))) for p in bucket_policies):
            yield (
                f"bucket {label(bucket)} does not deny requests without TLS (aws:SecureTransport)",
                bucket.urn,
            )


s3_bucket_tls_only = stack_policy(
    "s3-bucket-tls-only",
    "Every S3 bucket's policy denies requests that do not use TLS (aws:SecureTransport false).",
    check=_tls_only,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_379",)),
    remediation="Add a Deny statement for s3:* with Condition Bool aws:SecureTransport 'false'.",
    category=CATEGORY,
)


# --- Load balancers and alarms ---------------------------------------------------------------------------

lb_deletion_protection = resource_policy(
    "lb-deletion-protection",
    "Production load balancers have deletion protection.",
    types=LOAD_BALANCER_TYPES,
    check=_flag("enableDeletionProtection", "load balancer has no deletion protection in production"),
    level=ADVISORY,
    severity=LOW,
    refs=Refs(checkov=("CKV_AWS_150",), awsguard=("elb-deletion-protection-enabled",)),
    remediation="Set enable_deletion_protection=True.",
    category=CATEGORY,
    production_only=True,
)


def _alarm_actions(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if is_false(props.get("actionsEnabled")):
        yield "alarm actions are disabled"
    elif not sequence(props.get("alarmActions")):
        yield "alarm notifies no one (no alarmActions)"


alarm_actions_enabled = resource_policy(
    "alarm-actions-enabled",
    "CloudWatch alarms have actions enabled and notify a topic.",
    types=("aws:cloudwatch/metricAlarm:MetricAlarm",),
    check=_alarm_actions,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_319",)),
    remediation="Set alarm_actions to the alerts topic.",
    category=CATEGORY,
)

POLICIES = [
    imdsv2_required,
    kms_key_rotation,
    kms_deletion_window,
    kms_policy_lockout_check,
    secret_recovery_window,
    ec2_no_key_pair,
    ec2_detailed_monitoring,
    rds_backup_retention,
    rds_multi_az,
    rds_deletion_protection,
    rds_iam_authentication,
    rds_log_exports,
    rds_enhanced_monitoring,
    rds_copy_tags_to_snapshot,
    rds_performance_insights,
    rds_auto_minor_upgrade,
    elasticache_automatic_failover,
    elasticache_snapshot_retention,
    security_log_retention,
    log_group_retention,
    vpc_flow_logs,
    default_security_group_closed,
    s3_bucket_versioning,
    s3_bucket_tls_only,
    lb_deletion_protection,
    alarm_actions_enabled,
]
