"""Least-privilege KMS key policies, one shape per key purpose, as plain data.

Every key keeps the same administration statement (the account can manage the key, so it can never
become unmanageable) but use of the key is granted only for its purpose: through IAM policies in this
account and, where a service does the encrypting, only via that service or to that service principal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from components.lib.iam import document, statement

KeyPurpose = Literal["unseal", "data", "logs", "secrets", "notifications"]

PURPOSES: Mapping[KeyPurpose, str] = MappingProxyType(
    {
        "unseal": "Vault auto-unseal (seal awskms)",
        "data": "data at rest: S3 buckets, EBS volumes, RDS, ElastiCache, raft snapshots",
        "logs": "CloudWatch Logs log groups",
        "secrets": "Secrets Manager secrets",
        "notifications": "SNS alert topics",
    }
)

# Managing a key, never using it. Listed one by one: the wildcard forms would also grant kms:CreateGrant,
# with which an administrator could hand themselves Decrypt.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
ENVELOPE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
# Vault's awskms seal wraps and unwraps its root key and checks the key exists: nothing else.
UNSEAL_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt")

# Services allowed to use the data key on a caller's behalf.
DATA_SERVICES = ("ec2", "elasticache", "rds", "s3")


@dataclass(frozen=True)
class KeyPolicyContext:
    """Resolved account facts a key policy is written for."""

    account_id: str
    partition: str
    region: str
    # The Auto Scaling service-linked role that launches Vault nodes with encrypted volumes.
    autoscaling_role_arn: str | None = None
    # The Vault nodes' role: the only principal that may use the unseal key. Named by a condition rather
    # than as the principal, because the role is created after the key.
    unseal_role_arn: str | None = None

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def via(self, *services: str) -> list[str]:
        return [f"{service}.{self.region}.amazonaws.com" for service in services]


def key_policy(purpose: KeyPurpose, ctx: KeyPolicyContext) -> dict[str, Any]:
    """The key policy for a key of the given purpose."""
    account = {"AWS": ctx.root}
    in_account = {"kms:CallerAccount": ctx.account_id}
    statements = [statement("KeyAdministration", ADMIN_ACTIONS, "*", principal=account)]

    if purpose == "unseal":
        statements.append(
            statement(
                "UnsealThroughIamPolicies",
                UNSEAL_ACTIONS,
                "*",
                principal=account,
                condition=(
                    {"StringEquals": in_account, "ArnEquals": {"aws:PrincipalArn": ctx.unseal_role_arn}}
                    if ctx.unseal_role_arn
                    else {"StringEquals": in_account}
                ),
            )
        )
    elif purpose == "data":
        via = {**in_account, "kms:ViaService": ctx.via(*DATA_SERVICES)}
        statements += [
            statement(
                "UseViaStorageServices",
                ENVELOPE_ACTIONS,
                "*",
                principal=account,
                condition={"StringEquals": via},
            ),
            statement(
                "GrantsForStorageServices",
                GRANT_ACTIONS,
                "*",
                principal=account,
                condition={"StringEquals": via, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
        if ctx.autoscaling_role_arn:
            # EC2 Auto Scaling launches the encrypted volumes with its service-linked role, which IAM
            # policies cannot extend: the key policy has to name it.
            launcher = {"AWS": ctx.autoscaling_role_arn}
            statements += [
                statement("AutoScalingUsesKeyForVolumes", ENVELOPE_ACTIONS, "*", principal=launcher),
                statement(
                    "AutoScalingGrantsForVolumes",
                    ("kms:CreateGrant",),
                    "*",
                    principal=launcher,
                    condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
            ]
    elif purpose == "logs":
        log_groups = f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}:log-group:*"
        statements.append(
            statement(
                "CloudWatchLogsEncryptsThisAccountsLogGroups",
                ENVELOPE_ACTIONS,
                "*",
                principal={"Service": f"logs.{ctx.region}.amazonaws.com"},
                condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )
    elif purpose == "secrets":
        statements.append(
            statement(
                "UseViaSecretsManager",
                ENVELOPE_ACTIONS,
                "*",
                principal=account,
                condition={"StringEquals": {**in_account, "kms:ViaService": ctx.via("secretsmanager")}},
            )
        )
    elif purpose == "notifications":
        statements += [
            statement(
                "UseViaSns",
                ("kms:Decrypt", "kms:GenerateDataKey*"),
                "*",
                principal=account,
                condition={"StringEquals": {**in_account, "kms:ViaService": ctx.via("sns")}},
            ),
            # CloudWatch alarms publish to the encrypted topic as the cloudwatch service principal.
            statement(
                "CloudWatchAlarmsPublish",
                ("kms:Decrypt", "kms:GenerateDataKey*"),
                "*",
                principal={"Service": "cloudwatch.amazonaws.com"},
                condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            ),
        ]
    else:  # pragma: no cover - Literal exhausts the purposes
        raise ValueError(f"unknown key purpose {purpose!r}")
    return document(*statements)
