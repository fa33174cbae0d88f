"""`SecretRotationFunction`: the Lambda that Secrets Manager calls to rotate the catalog's secrets.

It exists before the catalog and before the Vault bootstrap, because Vault's AWS auth role `rotation` is
bound to this function's IAM role (Vault resolves the role when the auth role is written). What the
role may do with the catalog's secrets is granted by the catalog itself, once the secrets exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alerting import publish_statements
from components.deployment import Deployment
from components.lambda_function import (
    CodeSigning,
    FunctionSpec,
    VpcPlacement,
    https_within_vpc,
    lambda_code,
    logged_function,
)
from components.lib.component import Component
from components.lib.iam import statement
from lambdas.rotation import METRIC_NAMESPACE

__all__ = ["METRIC_NAMESPACE", "SecretRotationFunction", "SecretRotationFunctionArgs", "rotation_code"]


def rotation_code() -> pulumi.AssetArchive:
    """The function's package: only lambdas/rotation (boto3 and botocore come with the runtime)."""
    return lambda_code("rotation")


@dataclass(frozen=True)
class SecretRotationFunctionArgs:
    """Where the function runs, how it reaches Vault, and where it announces manual rotations."""

    deployment: Deployment
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    vault_address: pulumi.Input[str]
    vault_ca_pem: pulumi.Input[str]
    vault_server_name: str
    alerts_topic_arn: pulumi.Input[str]
    notifications_key_arn: pulumi.Input[str]
    vault_auth_role: str = "rotation"
    vault_kv_mount: str = "secret"
    # The customer-managed key for function environments and dead-letter queues.
    functions_key_arn: pulumi.Input[str] | None = None
    # Deploy the function from a package signed by the stack's Signer profile (lambdaCodeSigning).
    code_signing: CodeSigning | None = None


class SecretRotationFunction(Component):
    """The rotation Lambda in the private subnets, with its role, security group and encrypted log group."""

    role: aws.iam.Role
    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    invoke_permission: aws.lambda_.Permission

    def __init__(
        self, name: str, args: SecretRotationFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:SecretRotationFunction", name, None, opts)
        security_group = https_within_vpc(
            f"{name}-function",
            vpc_id=args.vpc_id,
            vpc_cidr=args.vpc_cidr,
            name_tag=args.deployment.names.resource("secret-rotation"),
            purpose="Secret rotation function: HTTPS to VPC endpoints and Vault only",
            egress_description="HTTPS to the AWS API endpoints and the Vault load balancer inside the VPC",
            parent=self,
        )
        statements: list[dict[str, Any]] = [
            statement(
                "PublishRotationMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                condition={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            ),
            *publish_statements([args.alerts_topic_arn], args.notifications_key_arn, args.deployment.aws),
        ]
        made = logged_function(
            f"{name}-function",
            FunctionSpec(
                function_name=args.deployment.names.resource("secret-rotation"),
                package="rotation",
                description="Secrets Manager rotation for the candlefish catalog (keeps Vault KV in step)",
                statements=statements,
                environment={
                    "VAULT_ADDR": args.vault_address,
                    "VAULT_CA_PEM": args.vault_ca_pem,
                    "VAULT_AUTH_ROLE": args.vault_auth_role,
                    "VAULT_KV_MOUNT": args.vault_kv_mount,
                    "VAULT_IAM_SERVER_ID": args.vault_server_name,
                    "ALERTS_TOPIC_ARN": args.alerts_topic_arn,
                },
                vpc=VpcPlacement(args.private_subnet_ids, [security_group.id], args.deployment.aws.partition),
                timeout=60,
                memory_size=256,
                # Secrets Manager may start many rotations at once (one per secret due).
                reserved_concurrency=10,
            ),
            logs_key_arn=args.logs_key_arn,
            functions_key_arn=args.functions_key_arn,
            code_signing=args.code_signing,
            retention_days=args.log_retention_days,
            parent=self,
        )
        self.role, self.function, self.log_group = made.role, made.function, made.log_group
        self.invoke_permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=args.deployment.aws.account_id,
            # Only rotations of this environment's secrets (a prefix: the function serves the whole catalog).
            source_arn=args.deployment.aws.arn(
                "secretsmanager", f"secret:{args.deployment.names.secret('*')}"
            ),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.register_outputs({"functionArn": self.function.arn, "roleArn": self.role.arn})
