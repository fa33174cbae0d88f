"""The Vault nodes' IAM role and instance profile, with a least-privilege policy built as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import VAULT_METRICS_NAMESPACE, Names
from components.lib.iam import assume_role_policy, concat, document, statement, to_json

# CloudWatch metrics the nodes publish (through the agent's statsd listener) go to this namespace only.
METRICS_NAMESPACE = VAULT_METRICS_NAMESPACE
# Session Manager replaces SSH: AWS's managed policy for the SSM agent.
SSM_MANAGED_POLICY = "AmazonSSMManagedInstanceCore"


@dataclass(frozen=True)
class NodeGrants:
    """The exact resources a Vault node may use (values may be Outputs)."""

    region: str
    account_id: Any
    partition: Any
    unseal_key_arn: Any
    tls_secret_arn: Any
    secrets_key_arn: Any
    data_key_arn: Any
    snapshot_bucket_arn: Any
    snapshot_prefix: str
    log_group_arns: Sequence[Any]


def node_policy(grants: NodeGrants) -> dict[str, Any]:
    """What Vault, the CloudWatch agent and the snapshot timer on a node need, and nothing more."""
    via = lambda service: {"kms:ViaService": f"{service}.{grants.region}.amazonaws.com"}  # noqa: E731
    log_streams = [concat(arn, ":log-stream:*") for arn in grants.log_group_arns]
    return document(
        # seal "awskms": wrap and unwrap the root key, and check the key at startup.
        statement(
            "UnsealWithKms", ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"], [grants.unseal_key_arn]
        ),
        # retry_join auto_join finds peers by tag. EC2 Describe* calls cannot be scoped to resources.
        statement("DiscoverRaftPeers", ["ec2:DescribeInstances"], "*"),
        # The AWS auth method (enabled by the bootstrap) resolves bound roles to their unique ids.
        statement(
            "ResolveAwsAuthRoles",
            ["iam:GetRole"],
            [concat("arn:", grants.partition, ":iam::", grants.account_id, ":role/*")],
        ),
        statement("ReadTlsBundle", ["secretsmanager:GetSecretValue"], [grants.tls_secret_arn]),
        statement(
            "DecryptTlsBundle",
            ["kms:Decrypt"],
            [grants.secrets_key_arn],
            condition={"StringEquals": via("secretsmanager")},
        ),
        statement(
            "UploadRaftSnapshots",
            ["s3:PutObject"],
            [concat(grants.snapshot_bucket_arn, "/", grants.snapshot_prefix, "*")],
        ),
        # SSE-KMS uploads need a data key, and multipart uploads also decrypt it. With an S3 bucket key
        # the encryption context is the bucket's ARN.
        statement(
            "EncryptRaftSnapshots",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [grants.data_key_arn],
            condition={
                "StringEquals": via("s3"),
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [grants.snapshot_bucket_arn]},
            },
        ),
        statement(
            "PublishVaultMetrics",
            ["cloudwatch:PutMetricData"],
            "*",
            condition={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
        ),
        statement(
            "ShipVaultLogs",
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [*grants.log_group_arns, *log_streams],
        ),
    )


@dataclass(frozen=True)
class NodeIdentity:
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    instance_profile: aws.iam.InstanceProfile


def node_role(name: str, names: Names, parent: pulumi.Resource) -> aws.iam.Role:
    """The role alone: other resources (the TLS secret's policy) name it before its policy exists."""
    return aws.iam.Role(
        f"{name}-node-role",
        name=names.vault_node_role,
        description=f"Vault nodes of {names.prefix}",
        assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def node_identity(
    name: str, role: aws.iam.Role, grants: NodeGrants, partition: pulumi.Input[str]
) -> NodeIdentity:
    """The role's inline policy, Session Manager access and the instance profile."""
    child = pulumi.ResourceOptions(parent=role)
    policy = aws.iam.RolePolicy(
        f"{name}-node-policy", role=role.id, policy=to_json(node_policy(grants)), opts=child
    )
    aws.iam.RolePolicyAttachment(
        f"{name}-node-ssm",
        role=role.name,
        policy_arn=pulumi.Output.concat("arn:", partition, f":iam::aws:policy/{SSM_MANAGED_POLICY}"),
        opts=child,
    )
    profile = aws.iam.InstanceProfile(f"{name}-node-profile", name=role.name, role=role.name, opts=child)
    return NodeIdentity(role=role, policy=policy, instance_profile=profile)
