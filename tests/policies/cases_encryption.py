"""Pass/violate cases for the encryption rules."""

from tests.policies.support import KEY, Case, Res, document

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RDS = "aws:rds/instance:Instance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"


def sse(bucket: str, algorithm: str, key: str | None = None) -> Res:
    default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
    return Res(
        SSE,
        f"{bucket}-sse",
        {"bucket": f"{bucket}-b", "rules": [{"applyServerSideEncryptionByDefault": default}]},
        {"bucket": [bucket]},
    )


ELB_DELIVERY = document(
    {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::lb-logs-b/AWSLogs/123456789012/*",
    }
)


def bucket(name: str, tags: dict[str, str] | None = None) -> Res:
    return Res(BUCKET, name, {"bucket": f"{name}-b", "tags": tags or {}})


def bucket_policy(name: str, policy: str) -> Res:
    return Res(BUCKET_POLICY, f"{name}-policy", {"bucket": f"{name}-b", "policy": policy}, {"bucket": [name]})


CASES = [
    Case(
        "s3-bucket-sse-kms",
        good=[
            bucket("audit"),
            sse("audit", "aws:kms", KEY),
            bucket("lb-logs"),
            sse("lb-logs", "AES256"),
            bucket_policy("lb-logs", ELB_DELIVERY),
        ],
        bad=[bucket("backup"), sse("backup", "AES256")],
        expect="backup (aws:s3/bucket:Bucket) uses SSE-S3",
    ),
    Case(
        "ebs-volume-encrypted",
        type="aws:ebs/volume:Volume",
        good={"encrypted": True, "kmsKeyId": KEY},
        bad={"encrypted": False},
        expect="not encrypted",
    ),
    Case(
        "ec2-volumes-encrypted",
        type=LAUNCH_TEMPLATE,
        good={
            "blockDeviceMappings": [
                {"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}
            ]
        },
        bad={
            "blockDeviceMappings": [
                {"deviceName": "/dev/sdf", "ebs": {"encrypted": "false", "kmsKeyId": KEY}}
            ]
        },
        expect="volume /dev/sdf is not encrypted",
    ),
    Case(
        "rds-storage-encrypted",
        type=RDS,
        good={"storageEncrypted": True, "kmsKeyId": KEY},
        bad={"storageEncrypted": False, "kmsKeyId": KEY},
        expect="storage is not encrypted",
    ),
    Case(
        "rds-performance-insights-kms",
        type=RDS,
        good={"performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY},
        bad={"performanceInsightsEnabled": True},
        expect="Performance Insights names no KMS key",
    ),
    Case(
        "elasticache-encryption-at-rest",
        type=CACHE,
        good={"atRestEncryptionEnabled": True, "kmsKeyId": KEY},
        bad={"atRestEncryptionEnabled": False, "kmsKeyId": KEY},
        expect="not encrypted at rest",
    ),
    Case(
        "elasticache-encryption-in-transit",
        type=CACHE,
        good={"transitEncryptionEnabled": True, "transitEncryptionMode": "required", "authToken": "[secret]"},
        bad={"transitEncryptionEnabled": True, "transitEncryptionMode": "preferred", "authToken": "[secret]"},
        expect="'preferred' still accepts plaintext",
    ),
    Case(
        "secretsmanager-customer-key",
        type="aws:secretsmanager/secret:Secret",
        good={"kmsKeyId": KEY},
        bad={"kmsKeyId": "alias/aws/secretsmanager"},
        expect="uses the AWS managed key alias/aws/secretsmanager",
    ),
    Case(
        "sns-topic-kms",
        type="aws:sns/topic:Topic",
        good={"kmsMasterKeyId": KEY},
        bad={"name": "alerts"},
        expect="topic names no KMS key",
    ),
    Case(
        "log-group-kms",
        type="aws:cloudwatch/logGroup:LogGroup",
        good={"kmsKeyId": KEY, "retentionInDays": 365},
        bad={"retentionInDays": 365},
        expect="log group names no KMS key",
    ),
    Case(
        "lambda-environment-kms",
        type="aws:lambda/function:Function",
        good={"environment": {"variables": {"VAULT_ADDR": "https://vault.internal:8200"}}, "kmsKeyArn": KEY},
        bad={"environment": {"variables": {"VAULT_ADDR": "https://vault.internal:8200"}}},
        expect="no customer-managed kmsKeyArn",
    ),
]
