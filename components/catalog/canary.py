"""`ValidationCanary`: the Secrets Manager secret `tools.validate` writes and reads back.

`candlefish/<env>/canary/validate` holds nothing secret: each validate run writes a fresh random marker
(`validate-canary-not-a-secret-<hex>`) and reads it back, proving that Secrets Manager, the secrets key and
the caller's access all work end to end. It is encrypted with the catalog's secrets key like every
catalog secret, so a broken key grant shows up here before an application notices.

Like the catalog's secrets, its resource policy denies by `aws:PrincipalArn`: only the operators who run
validate (the role running `pulumi up`, every `deployerPrincipals` role and every `validatorPrincipals`
role) may write and read the value, and only the deployers may change the policy, the tags or delete it.
Everyone else is denied whatever their identity policies allow. The stack never writes a value, so no
`pulumi up` fights validate's writes; the secret has no rotation (there is nothing to rotate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lib.component import Component
from components.lib.iam import document, to_json
from components.lib.secret_policy import CHANGE_POLICY, READ_VALUE, RETAG, deny_all_but

CANARY_SECRET = "canary/validate"  # noqa: S105 - a secret's name, not a value
# What validate does with the value; everything else that changes the secret is the deployers' alone.
CHECK_ACTIONS = (*READ_VALUE, "secretsmanager:PutSecretValue")
MANAGE_ACTIONS = (
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RotateSecret",
    *RETAG,
    *CHANGE_POLICY,
)


def canary_policy(deployers: Sequence[Any], validators: Sequence[Any]) -> dict[str, Any]:
    """Deny writing and reading the canary to all but deployers and validators; managing it to all but
    deployers. `deployers`/`validators` are role ARNs or ARN patterns (aws:PrincipalArn, ArnNotLike)."""
    return document(
        deny_all_but("OnlyOperatorsWriteAndReadTheCanary", CHECK_ACTIONS, [*deployers, *validators]),
        deny_all_but("OnlyDeployersManageTheCanary", MANAGE_ACTIONS, list(deployers)),
    )


@dataclass(frozen=True)
class ValidationCanaryArgs:
    """Where the canary lives, its key, and who may use it."""

    deployment: Deployment
    secrets_key_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    other_deployers: Sequence[pulumi.Input[str]] = ()
    validators: Sequence[pulumi.Input[str]] = ()


class ValidationCanary(Component):
    """The canary secret and its resource policy."""

    secret: aws.secretsmanager.Secret
    policy: aws.secretsmanager.SecretPolicy

    def __init__(
        self, name: str, args: ValidationCanaryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:ValidationCanary", name, None, opts)
        secret_name = args.deployment.names.secret(CANARY_SECRET)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=secret_name,
            description="tools.validate writes a random non-secret marker here and reads it back",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=args.deployment.recovery_window_days,
            tags={"Name": secret_name, "Purpose": "validate-canary", "Owner": "platform-team"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy = aws.secretsmanager.SecretPolicy(
            f"{name}-policy",
            secret_arn=self.secret.arn,
            policy=to_json(
                canary_policy([args.deployer_role_arn, *args.other_deployers], list(args.validators))
            ),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=self.secret),
        )
        self.register_outputs({"canarySecretArn": self.secret.arn})
