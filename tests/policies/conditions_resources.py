"""Single-condition cases for the mandatory resource rules on encryption and hardening.

Limits come from AWS and the deployment guide, not from the rules: KMS waits 7 to 30 days before deleting a
key (the guide's production stacks take the full 30), Secrets Manager recovers a deleted secret for 7 to 30
days, automated RDS backups are kept 7 days or more, a Vault audit or flow log is kept a year in
production, and an IMDSv2 response that may cross one network hop cannot reach a container behind a
bridge.
"""

from __future__ import annotations

from tests.policies.conditions import REMOVE, Condition
from tests.policies.support import KEY, PRODUCTION

DEV = {**PRODUCTION, "Environment": "dev"}
MANAGED = "alias/aws/"  # AWS managed keys: alias/aws/<service>
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
RDS = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

METADATA = {
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
}
LT_VOLUMES = {
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}]
}
INSTANCE_VOLUMES = {
    "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY},
    "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": KEY}],
}
SYMMETRIC_KEY = {"enableKeyRotation": True, "rotationPeriodInDays": 365}
CACHE_TLS = {"transitEncryptionEnabled": True, "transitEncryptionMode": "required", "authToken": "[secret]"}
CACHE_HA = {
    "tags": PRODUCTION,
    "automaticFailoverEnabled": True,
    "multiAzEnabled": True,
    "numCacheClusters": 2,
}


def key_field(rule: str, type_: str, field: str, what: str, service: str) -> list[Condition]:
    good = {field: KEY}
    return [
        Condition(rule, type_, good, {field: REMOVE}, f"{what} names no KMS key"),
        Condition(rule, type_, good, {field: ""}, f"{what} names no KMS key"),
        Condition(rule, type_, good, {field: f"{MANAGED}{service}"}, f"{what} uses the AWS managed key"),
        Condition(rule, type_, good, {field: "alias/candlefish-production-secrets"}, None),
    ]


ENCRYPTION = [
    *(
        Condition("ebs-volume-encrypted", "aws:ebs/volume:Volume", {"encrypted": True, "kmsKeyId": KEY}, c, m)
        for c, m in [
            ({"encrypted": False}, "EBS volume is not encrypted"),
            ({"encrypted": REMOVE}, "EBS volume is not encrypted"),
            ({"kmsKeyId": REMOVE}, "EBS volume names no KMS key"),
            ({"kmsKeyId": "alias/aws/ebs"}, "EBS volume uses the AWS managed key alias/aws/ebs"),
        ]
    ),
    *(
        Condition("ec2-volumes-encrypted", LAUNCH_TEMPLATE, LT_VOLUMES, c, m)
        for c, m in [
            ({"blockDeviceMappings": []}, "launch template maps no EBS volumes"),
            (
                {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]},
                "launch template maps no EBS volumes",
            ),
            (
                {
                    "blockDeviceMappings": [
                        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "false", "kmsKeyId": KEY}}
                    ]
                },
                "volume /dev/xvda is not encrypted",
            ),
            (
                {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]},
                "volume /dev/xvda names no KMS key",
            ),
        ]
    ),
    *(
        Condition("ec2-volumes-encrypted", INSTANCE, INSTANCE_VOLUMES, c, m)
        for c, m in [
            ({"rootBlockDevice": REMOVE}, "instance declares no rootBlockDevice"),
            ({"rootBlockDevice.encrypted": False}, "root volume is not encrypted"),
            ({"rootBlockDevice.kmsKeyId": "alias/aws/ebs"}, "root volume uses the AWS managed key"),
            (
                {"ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": False, "kmsKeyId": KEY}]},
                "volume /dev/sdf is not encrypted",
            ),
            (
                {"ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]},
                "volume /dev/sdf names no KMS key",
            ),
        ]
    ),
    *(
        Condition("rds-storage-encrypted", type_, {"storageEncrypted": True, "kmsKeyId": KEY}, c, m)
        for type_ in (RDS, RDS_CLUSTER)
        for c, m in [
            ({"storageEncrypted": False}, "database storage is not encrypted"),
            ({"kmsKeyId": REMOVE}, "database storage names no KMS key"),
            ({"kmsKeyId": "alias/aws/rds"}, "database storage uses the AWS managed key"),
        ]
    ),
    # A read replica inherits its source's encryption and may not set its own.
    Condition(
        "rds-storage-encrypted",
        RDS,
        {"storageEncrypted": True, "kmsKeyId": KEY},
        {"replicateSourceDb": "candlefish-db", "storageEncrypted": REMOVE, "kmsKeyId": REMOVE},
        None,
    ),
    *(
        Condition(
            "rds-performance-insights-kms",
            RDS,
            {"performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY},
            c,
            m,
        )
        for c, m in [
            ({"performanceInsightsKmsKeyId": REMOVE}, "Performance Insights names no KMS key"),
            (
                {"performanceInsightsKmsKeyId": "alias/aws/rds"},
                "Performance Insights uses the AWS managed key",
            ),
            ({"performanceInsightsEnabled": False, "performanceInsightsKmsKeyId": REMOVE}, None),
        ]
    ),
    *(
        Condition(
            "elasticache-encryption-at-rest", CACHE, {"atRestEncryptionEnabled": True, "kmsKeyId": KEY}, c, m
        )
        for c, m in [
            ({"atRestEncryptionEnabled": False}, "replication group is not encrypted at rest"),
            ({"kmsKeyId": REMOVE}, "replication group names no KMS key"),
        ]
    ),
    *(
        Condition("elasticache-encryption-in-transit", CACHE, CACHE_TLS, c, m)
        for c, m in [
            ({"transitEncryptionEnabled": False}, "replication group does not require TLS"),
            (
                {"transitEncryptionMode": "preferred"},
                "transitEncryptionMode 'preferred' still accepts plaintext",
            ),
            ({"transitEncryptionMode": REMOVE}, None),  # AWS's default mode is required
            ({"authToken": REMOVE}, "replication group has neither an AUTH token nor RBAC user groups"),
            ({"authToken": REMOVE, "userGroupIds": ["candlefish-redis-users"]}, None),
        ]
    ),
    *key_field("secretsmanager-customer-key", SECRET, "kmsKeyId", "secret", "secretsmanager"),
    *key_field("sns-topic-kms", "aws:sns/topic:Topic", "kmsMasterKeyId", "topic", "sns"),
    *key_field("log-group-kms", LOG_GROUP, "kmsKeyId", "log group", "logs"),
]

HARDENING = [
    *(
        Condition("imdsv2-required", type_, METADATA, c, m)
        for type_ in (LAUNCH_TEMPLATE, INSTANCE)
        for c, m in [
            ({"metadataOptions.httpTokens": "optional"}, "instance metadata accepts IMDSv1"),
            ({"metadataOptions.httpTokens": REMOVE}, "instance metadata accepts IMDSv1"),
            ({"metadataOptions.httpPutResponseHopLimit": 2}, "metadata response hop limit is 2; at most 1"),
            (
                {"metadataOptions.httpPutResponseHopLimit": REMOVE},
                "metadata response hop limit is unset; at most 1",
            ),
            ({"metadataOptions.httpEndpoint": "disabled", "metadataOptions.httpTokens": "optional"}, None),
        ]
    ),
    # A site that runs containers on the nodes may allow one more hop, and only one.
    Condition(
        "imdsv2-required",
        LAUNCH_TEMPLATE,
        METADATA,
        {"metadataOptions.httpPutResponseHopLimit": 2},
        None,
        config={"maximumHopLimit": 2},
    ),
    Condition(
        "imdsv2-required",
        LAUNCH_TEMPLATE,
        METADATA,
        {"metadataOptions.httpPutResponseHopLimit": 3},
        "metadata response hop limit is 3; at most 2",
        config={"maximumHopLimit": 2},
    ),
    *(
        Condition("kms-key-rotation", KMS_KEY, SYMMETRIC_KEY, c, m)
        for c, m in [
            ({"enableKeyRotation": False}, "key rotation is off"),
            ({"enableKeyRotation": REMOVE, "rotationPeriodInDays": REMOVE}, "key rotation is off"),
            ({"rotationPeriodInDays": 366}, "key rotates every 366 days; at most every 365"),
            ({"rotationPeriodInDays": 90}, None),
            ({"enableKeyRotation": False, "customKeyStoreId": "cks-1234567890abcdef0"}, None),
            ({"enableKeyRotation": False, "customerMasterKeySpec": "RSA_2048"}, None),
            ({"enableKeyRotation": False, "keySpec": "ECC_NIST_P256"}, None),
            ({"enableKeyRotation": False, "keyUsage": "GENERATE_VERIFY_MAC"}, None),
        ]
    ),
    *(
        Condition("kms-deletion-window", KMS_KEY, {"tags": tags, "deletionWindowInDays": 30}, c, m)
        for tags, c, m in [
            (PRODUCTION, {"deletionWindowInDays": 29}, "scheduled key deletion waits 29 days; at least 30"),
            (PRODUCTION, {"deletionWindowInDays": REMOVE}, None),  # AWS's default is 30
            (DEV, {"deletionWindowInDays": 7}, None),
            (DEV, {"deletionWindowInDays": 6}, "scheduled key deletion waits 6 days; at least 7"),
        ]
    ),
    *(
        Condition("kms-policy-lockout-check", KMS_KEY, {"enableKeyRotation": True}, c, m)
        for c, m in [
            ({"bypassPolicyLockoutSafetyCheck": True}, "key bypasses the key-policy lockout safety check"),
            ({"bypassPolicyLockoutSafetyCheck": "true"}, "key bypasses the key-policy lockout safety check"),
            ({"bypassPolicyLockoutSafetyCheck": False}, None),
        ]
    ),
    *(
        Condition("secret-recovery-window", SECRET, {"tags": tags, "recoveryWindowInDays": 30}, c, m)
        for tags, c, m in [
            (PRODUCTION, {"recoveryWindowInDays": 29}, "secret deletion waits 29 days; at least 30"),
            (PRODUCTION, {"recoveryWindowInDays": 0}, "secret deletion waits 0 days; at least 30"),
            (PRODUCTION, {"recoveryWindowInDays": REMOVE}, None),  # AWS's default is 30
            (DEV, {"recoveryWindowInDays": 7}, None),
            (DEV, {"recoveryWindowInDays": 6}, "secret deletion waits 6 days; at least 7"),
        ]
    ),
    *(
        Condition("ec2-no-key-pair", type_, {"imageId": "ami-0abc"}, c, m)
        for type_ in (LAUNCH_TEMPLATE, INSTANCE)
        for c, m in [
            ({"keyName": "ops-laptop"}, "instances get the SSH key pair ops-laptop; use Session Manager"),
            ({"keyName": ""}, None),
        ]
    ),
    *(
        Condition("rds-backup-retention", type_, {"backupRetentionPeriod": 7}, c, m)
        for type_ in (RDS, RDS_CLUSTER)
        for c, m in [
            ({"backupRetentionPeriod": 6}, "backups are kept 6 days; at least 7"),
            ({"backupRetentionPeriod": 0}, "backups are kept 0 days; at least 7"),
            ({"backupRetentionPeriod": REMOVE}, "backup retention is not set (AWS keeps 1 day); at least 7"),
        ]
    ),
    Condition(
        "rds-backup-retention",
        RDS,
        {"backupRetentionPeriod": 7},
        {"backupRetentionPeriod": REMOVE, "replicateSourceDb": "candlefish-db"},
        None,
    ),
    *(
        Condition("rds-multi-az", RDS, {"tags": tags, "multiAz": True}, c, m)
        for tags, c, m in [
            (PRODUCTION, {"multiAz": False}, "database is single-AZ in production"),
            (PRODUCTION, {"multiAz": REMOVE}, "database is single-AZ in production"),
            (DEV, {"multiAz": False}, None),
        ]
    ),
    *(
        Condition(
            "rds-deletion-protection",
            type_,
            {"tags": tags, "deletionProtection": True, "skipFinalSnapshot": False},
            c,
            m,
        )
        for type_ in (RDS, RDS_CLUSTER)
        for tags, c, m in [
            (PRODUCTION, {"deletionProtection": False}, "database has no deletion protection in production"),
            (PRODUCTION, {"skipFinalSnapshot": True}, "database would be deleted without a final snapshot"),
            (DEV, {"deletionProtection": False, "skipFinalSnapshot": True}, None),
        ]
    ),
    *(
        Condition("elasticache-automatic-failover", CACHE, CACHE_HA, c, m)
        for c, m in [
            ({"automaticFailoverEnabled": False}, "automatic failover is off"),
            ({"multiAzEnabled": False}, "Multi-AZ is off"),
            ({"numCacheClusters": 1}, "replication group has no replica to fail over to"),
            ({"numCacheClusters": REMOVE}, "replication group has no replica to fail over to"),
            ({"numCacheClusters": REMOVE, "replicasPerNodeGroup": 1}, None),
            ({"numCacheClusters": REMOVE, "replicasPerNodeGroup": 0}, "replication group has no replica"),
            (
                {
                    "tags": DEV,
                    "automaticFailoverEnabled": False,
                    "multiAzEnabled": False,
                    "numCacheClusters": 1,
                },
                None,
            ),
        ]
    ),
    *(
        Condition(
            "security-log-retention",
            LOG_GROUP,
            {"tags": PRODUCTION, "name": "/candlefish/production/vault-audit", "retentionInDays": 365},
            c,
            m,
        )
        for c, m in [
            ({"retentionInDays": 364}, "security log kept 364 days; at least 365 in production"),
            (
                {"name": "/candlefish/production/vpc-flow-logs", "retentionInDays": 180},
                "security log kept 180 days",
            ),
            ({"name": "/candlefish/production/rotation", "retentionInDays": 30}, None),
            ({"retentionInDays": 3653}, None),
            ({"retentionInDays": REMOVE}, None),  # never expires
            ({"tags": DEV, "retentionInDays": 30}, None),
        ]
    ),
]

TAGGED = {"tags": PRODUCTION}
TAGS = [
    *(
        Condition("required-tags", KMS_KEY, TAGGED, {f"tags.{tag}": REMOVE}, f"missing required tags: {tag}")
        for tag in ("Environment", "Project", "Component", "DeployedBy")
    ),
    Condition("required-tags", KMS_KEY, TAGGED, {"tags.Component": ""}, "missing required tags: Component"),
    Condition(
        "required-tags",
        KMS_KEY,
        TAGGED,
        {"tags": REMOVE},
        "missing required tags: Environment, Project, Component, DeployedBy",
    ),
    # A type this stack does not know to be taggable is checked only where it was given tags.
    Condition("required-tags", "aws:ssm/parameter:Parameter", TAGGED, {"tags": REMOVE}, None),
    Condition(
        "required-tags",
        "aws:ssm/parameter:Parameter",
        TAGGED,
        {"tags.Project": REMOVE},
        "missing required tags: Project",
    ),
    Condition("required-tags", "random:index/randomPassword:RandomPassword", TAGGED, {"tags": {}}, None),
]

CONDITIONS = [*ENCRYPTION, *HARDENING, *TAGS]
