"""Pass/violate cases for the hardening rules."""

from tests.policies.cases_encryption import BUCKET_POLICY, bucket, bucket_policy
from tests.policies.support import KEY, PRODUCTION, Case, Res, document

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KMS_KEY = "aws:kms/key:Key"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
VPC = "aws:ec2/vpc:Vpc"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
TLS_ONLY = document(
    {
        "Sid": "DenyPlaintext",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::audit-b", "arn:aws:s3:::audit-b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
)


def production(**props: object) -> dict[str, object]:
    return {"tags": dict(PRODUCTION), **props}


def vpc_with(*children: Res) -> list[Res]:
    return [Res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"}), *children]


CASES = [
    Case(
        "imdsv2-required",
        type=LAUNCH_TEMPLATE,
        good={
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpTokens": "required",
                "httpPutResponseHopLimit": 1,
            }
        },
        bad={"metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 1}},
        expect="accepts IMDSv1",
    ),
    Case(
        "kms-key-rotation",
        type=KMS_KEY,
        good={"enableKeyRotation": True, "rotationPeriodInDays": 365},
        bad={"enableKeyRotation": False},
        expect="key rotation is off",
    ),
    Case(
        "kms-deletion-window",
        type=KMS_KEY,
        good=production(deletionWindowInDays=30),
        bad=production(deletionWindowInDays=7),
        expect="waits 7 days; at least 30",
    ),
    Case(
        "kms-policy-lockout-check",
        type=KMS_KEY,
        good={"enableKeyRotation": True},
        bad={"bypassPolicyLockoutSafetyCheck": True},
        expect="bypasses the key-policy lockout safety check",
    ),
    Case(
        "secret-recovery-window",
        type="aws:secretsmanager/secret:Secret",
        good=production(recoveryWindowInDays=30),
        bad=production(recoveryWindowInDays=0),
        expect="secret deletion waits 0 days",
    ),
    Case(
        "ec2-no-key-pair",
        type=LAUNCH_TEMPLATE,
        good={"imageId": "ami-0abc"},
        bad={"keyName": "ops-laptop"},
        expect="SSH key pair ops-laptop",
    ),
    Case(
        "ec2-detailed-monitoring",
        type=LAUNCH_TEMPLATE,
        good={"monitoring": {"enabled": True}},
        bad={"monitoring": {"enabled": False}},
        expect="detailed (1-minute) monitoring is off",
    ),
    Case(
        "rds-backup-retention",
        type=RDS,
        good={"backupRetentionPeriod": 30},
        bad={"backupRetentionPeriod": 1},
        expect="kept 1 days; at least 7",
    ),
    Case(
        "rds-multi-az",
        type=RDS,
        good=production(multiAz=True),
        bad=production(multiAz=False),
        expect="single-AZ in production",
    ),
    Case(
        "rds-deletion-protection",
        type=RDS,
        good=production(deletionProtection=True, skipFinalSnapshot=False),
        bad=production(deletionProtection=False, skipFinalSnapshot=False),
        expect="no deletion protection",
    ),
    Case(
        "rds-iam-authentication",
        type=RDS,
        good={"iamDatabaseAuthenticationEnabled": True},
        bad={"iamDatabaseAuthenticationEnabled": False},
        expect="IAM database authentication is off",
    ),
    Case(
        "rds-log-exports",
        type=RDS,
        good={"engine": "postgres", "enabledCloudwatchLogsExports": ["postgresql", "upgrade"]},
        bad={"engine": "postgres", "enabledCloudwatchLogsExports": ["upgrade"]},
        expect="PostgreSQL log is not exported",
    ),
    Case(
        "rds-enhanced-monitoring",
        type=RDS,
        good={"monitoringInterval": 60, "monitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring"},
        bad={"monitoringInterval": 0},
        expect="enhanced monitoring is off",
    ),
    Case(
        "rds-copy-tags-to-snapshot",
        type=RDS,
        good={"copyTagsToSnapshot": True},
        bad={"copyTagsToSnapshot": False},
        expect="not copied to snapshots",
    ),
    Case(
        "rds-performance-insights",
        type=RDS,
        good={"performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY},
        bad={"performanceInsightsEnabled": False},
        expect="Performance Insights is off",
    ),
    Case(
        "rds-auto-minor-upgrade",
        type=RDS,
        good={"engine": "postgres"},
        bad={"autoMinorVersionUpgrade": False},
        expect="minor version upgrades are off",
    ),
    Case(
        "elasticache-automatic-failover",
        type=CACHE,
        good=production(automaticFailoverEnabled=True, multiAzEnabled=True, numCacheClusters=2),
        bad=production(automaticFailoverEnabled=False, multiAzEnabled=True, numCacheClusters=2),
        expect="automatic failover is off",
    ),
    Case(
        "elasticache-snapshot-retention",
        type=CACHE,
        good={"snapshotRetentionLimit": 7},
        bad={"snapshotRetentionLimit": 0},
        expect="no automatic snapshots",
    ),
    Case(
        "security-log-retention",
        type=LOG_GROUP,
        good=production(name="/candlefish/production/vault-audit", retentionInDays=365),
        bad=production(name="/candlefish/production/vault-audit", retentionInDays=90),
        expect="security log kept 90 days; at least 365",
    ),
    Case(
        "log-group-retention",
        type=LOG_GROUP,
        good={"name": "/candlefish/dev/rotation", "retentionInDays": 30},
        bad={"name": "/candlefish/dev/rotation"},
        expect="never expires",
    ),
    Case(
        "vpc-flow-logs",
        good=vpc_with(Res("aws:ec2/flowLog:FlowLog", "flow-log", {"trafficType": "ALL"}, {"vpcId": ["vpc"]})),
        bad=vpc_with(
            Res("aws:ec2/flowLog:FlowLog", "flow-log", {"trafficType": "REJECT"}, {"vpcId": ["vpc"]})
        ),
        expect="do not capture ALL traffic",
    ),
    Case(
        "default-security-group-closed",
        good=vpc_with(
            Res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", {}, {"vpcId": ["vpc"]})
        ),
        bad=vpc_with(
            Res(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                "default-sg",
                {"ingress": [{"protocol": "-1", "self": True, "fromPort": 0, "toPort": 0}]},
                {"vpcId": ["vpc"]},
            )
        ),
        expect="default-sg: default security group",
    ),
    Case(
        "s3-bucket-versioning",
        good=[
            bucket("audit"),
            Res(
                VERSIONING,
                "audit-v",
                {"versioningConfiguration": {"status": "Enabled"}},
                {"bucket": ["audit"]},
            ),
        ],
        bad=[
            bucket("audit"),
            Res(
                VERSIONING,
                "audit-v",
                {"versioningConfiguration": {"status": "Suspended"}},
                {"bucket": ["audit"]},
            ),
        ],
        expect="is not versioned",
    ),
    Case(
        "s3-bucket-tls-only",
        good=[bucket("audit"), bucket_policy("audit", TLS_ONLY)],
        bad=[
            bucket("audit"),
            bucket_policy("audit", document({"Effect": "Allow", "Principal": {"AWS": "x"}})),
        ],
        expect="does not deny requests without TLS",
    ),
    Case(
        "lb-deletion-protection",
        type="aws:lb/loadBalancer:LoadBalancer",
        good=production(enableDeletionProtection=True),
        bad=production(enableDeletionProtection=False),
        expect="no deletion protection in production",
    ),
    Case(
        "alarm-actions-enabled",
        type="aws:cloudwatch/metricAlarm:MetricAlarm",
        good={"alarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"]},
        bad={"actionsEnabled": False, "alarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"]},
        expect="alarm actions are disabled",
    ),
]

# More cases of the same rules, each breaking one other condition (tests/policies/test_rule_cases.py).
MORE_CASES = [
    Case(
        "rds-enhanced-monitoring",
        type=RDS,
        # 1 second is the shortest interval RDS offers (0, 1, 5, 10, 15, 30, 60): monitoring is on.
        good={"monitoringInterval": 1, "monitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring"},
        bad={"monitoringInterval": 0},
        expect="enhanced monitoring is off",
    ),
]

__all__ = ["BUCKET_POLICY", "CASES", "MORE_CASES"]
