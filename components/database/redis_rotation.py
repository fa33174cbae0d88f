"""`RedisAuthRotation`: Secrets Manager rotates the Redis AUTH token on a schedule, without downtime.

A function of its own, packaged from the same `lambdas/rotation` code as the catalog's (the handler picks
the Redis steps from the secret's `RotationTarget` tag, `lambdas/rotation/redis_auth.py`), so its role can
be narrow: it may rotate the one secret `candlefish/<env>/redis/auth`, use the secrets key through Secrets
Manager, and call `ModifyReplicationGroup` / `DescribeReplicationGroups` on the one replication group; it
cannot log in to Vault. It runs in the private subnets and reaches Secrets Manager and the ElastiCache API
through their interface endpoints (HTTPS to the VPC only). Each step may wait for the group to apply a
token change, so it has Lambda's longest timeout; Secrets Manager retries a step that ran out of time.

Pulumi does not fight the rotation: ElastiCache never returns the token, so a refresh sees no drift on the
group, and the stack's own secret version keeps its value while rotations add newer ones (its staging
labels, which rotation moves, are ignored). With a schedule, a rotation by hand is `rotate-secret`; the
`redisAuthTokenGeneration` path is for stacks without one (`redisAuthRotationDays: 0`): its ROTATE has
no room while the schedule keeps two tokens valid (README: "Rotating the Redis AUTH token").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lambda_function import (
    CodeSigning,
    FunctionSpec,
    VpcPlacement,
    https_within_vpc,
    logged_function,
)
from components.lib.component import Component
from components.lib.iam import statement

# Secrets Manager waits for each step; ElastiCache applies a token change in minutes.
STEP_TIMEOUT_S = 900
SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
GROUP_ACTIONS = ("elasticache:DescribeReplicationGroups", "elasticache:ModifyReplicationGroup")


@dataclass(frozen=True)
class RedisAuthRotationArgs:
    """The secret and group to rotate, the schedule, and where the function runs."""

    deployment: Deployment
    secret: aws.secretsmanager.Secret
    replication_group_id: str
    rotation_days: int
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    functions_key_arn: pulumi.Input[str] | None = None
    # The stack's code signing (Signer profile and configuration), when lambdaCodeSigning is not off.
    code_signing: CodeSigning | None = None
    # What must exist before the first rotation can run (the group, the stack's secret version).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class RedisAuthRotation(Component):
    """The Redis AUTH rotation function, its permission to be invoked for the one secret, and the schedule."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    schedule: aws.secretsmanager.SecretRotation

    def __init__(
        self, name: str, args: RedisAuthRotationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:RedisAuthRotation", name, None, opts)
        ctx = args.deployment.aws
        function_name = args.deployment.names.resource("redis-auth-rotation")
        security_group = https_within_vpc(
            f"{name}-function",
            vpc_id=args.vpc_id,
            vpc_cidr=args.vpc_cidr,
            name_tag=function_name,
            purpose="Redis AUTH rotation: HTTPS to the VPC endpoints only",
            egress_description="HTTPS to the Secrets Manager and ElastiCache endpoints inside the VPC",
            parent=self,
        )
        made = logged_function(
            f"{name}-function",
            FunctionSpec(
                function_name=function_name,
                package="rotation",
                description="Secrets Manager rotation of the Redis AUTH token (ElastiCache ROTATE, then SET)",
                statements=[
                    statement("RotateTheRedisAuthSecret", list(SECRET_ACTIONS), [args.secret.arn]),
                    statement(
                        "UseTheSecretsKeyThroughSecretsManager",
                        ["kms:Decrypt", "kms:GenerateDataKey"],
                        [args.secrets_key_arn],
                        condition={"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
                    ),
                    statement(
                        "ChangeTheTokenOfThisGroupOnly",
                        list(GROUP_ACTIONS),
                        [ctx.arn("elasticache", f"replicationgroup:{args.replication_group_id}")],
                    ),
                ],
                vpc=VpcPlacement(args.private_subnet_ids, [security_group.id], ctx.partition),
                timeout=STEP_TIMEOUT_S,
                # One secret: one rotation at a time.
                reserved_concurrency=1,
            ),
            logs_key_arn=args.logs_key_arn,
            functions_key_arn=args.functions_key_arn,
            retention_days=args.log_retention_days,
            code_signing=args.code_signing,
            parent=self,
        )
        self.function, self.role, self.log_group = made.function, made.role, made.log_group
        permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=ctx.account_id,
            source_arn=args.secret.arn,  # this one secret only
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.schedule = aws.secretsmanager.SecretRotation(
            f"{name}-schedule",
            secret_id=args.secret.id,
            rotation_lambda_arn=self.function.arn,
            rotation_rules={"automatically_after_days": args.rotation_days},
            # The first rotation waits for the schedule: the stack's own version must be current first.
            rotate_immediately=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, made.policy, *args.depends_on]),
        )
        self.register_outputs({"functionArn": self.function.arn, "roleArn": self.role.arn})
