"""`SecretRotationFunction`: the Lambda that Secrets Manager calls to rotate the catalog's secrets.

It exists before the catalog and before the Vault bootstrap, because Vault's AWS auth role `rotation` is
bound to this function's IAM role (Vault resolves the role when the auth role is written). What the
role may do with the catalog's secrets is granted by the catalog itself, once the secrets exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy, document, statement, to_json

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_RUNTIME = "python3.13"
LAMBDA_HANDLER = "lambdas.rotation.handler.lambda_handler"
METRIC_NAMESPACE = "Candlefish/Secrets"
VPC_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def lambda_code() -> pulumi.AssetArchive:
    """The function's package: only lambdas/ (boto3 and botocore come with the runtime)."""
    files = [ROOT / "lambdas" / "__init__.py", *sorted((ROOT / "lambdas" / "rotation").glob("*.py"))]
    return pulumi.AssetArchive({str(path.relative_to(ROOT)): pulumi.FileAsset(str(path)) for path in files})


@dataclass(frozen=True)
class SecretRotationFunctionArgs:
    """Where the function runs and how it reaches Vault."""

    environment: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    vault_address: pulumi.Input[str]
    vault_ca_pem: pulumi.Input[str]
    vault_server_name: str
    vault_auth_role: str = "rotation"
    vault_kv_mount: str = "secret"
    alerts_topic_arn: pulumi.Input[str] | None = None


class SecretRotationFunction(pulumi.ComponentResource):
    """The rotation Lambda in the private subnets, its role, security group and encrypted log group."""

    role: aws.iam.Role
    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    invoke_permission: aws.lambda_.Permission

    def __init__(
        self, name: str, args: SecretRotationFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:SecretRotationFunction", name, None, opts)
        function_name = f"candlefish-{args.environment}-secret-rotation"
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=function_name,
            description="Rotates the catalog's secrets and writes the new values to Vault",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=child,
        )
        permissions = self._base_permissions(name, args)
        security_group = self._security_group(name, args)
        environment: dict[str, pulumi.Input[str]] = {
            "VAULT_ADDR": args.vault_address,
            "VAULT_CA_PEM": args.vault_ca_pem,
            "VAULT_AUTH_ROLE": args.vault_auth_role,
            "VAULT_KV_MOUNT": args.vault_kv_mount,
            "VAULT_IAM_SERVER_ID": args.vault_server_name,
        }
        if args.alerts_topic_arn is not None:
            environment["ALERTS_TOPIC_ARN"] = args.alerts_topic_arn
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Secrets Manager rotation for the candlefish catalog (keeps Vault KV in step)",
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=LAMBDA_HANDLER,
            code=lambda_code(),
            architectures=["arm64"],
            timeout=60,
            memory_size=256,
            vpc_config={
                "subnet_ids": list(args.private_subnet_ids),
                "security_group_ids": [security_group.id],
            },
            environment={"variables": environment},
            # Lambda checks at creation that the role may create network interfaces in the VPC, and the
            # log group must exist (KMS-encrypted, with retention) before Lambda would create its own.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, *permissions]),
        )
        self.invoke_permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=self.role.arn.apply(lambda arn: arn.split(":")[4]),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.register_outputs({"functionArn": self.function.arn, "roleArn": self.role.arn})

    def _base_permissions(self, name: str, args: SecretRotationFunctionArgs) -> list[pulumi.Resource]:
        """What the function needs whatever the catalog holds: logs, metrics, the VPC, the alerts topic."""
        statements = [
            statement(
                "PublishRotationMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                condition={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            ),
            statement(
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [pulumi.Output.concat(self.log_group.arn, ":*")],
            ),
        ]
        if args.alerts_topic_arn is not None:
            statements.append(statement("AnnounceManualRotation", ["sns:Publish"], [args.alerts_topic_arn]))
        policy = aws.iam.RolePolicy(
            f"{name}-base-policy",
            role=self.role.id,
            policy=to_json(document(*statements)),
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        vpc_access = aws.iam.RolePolicyAttachment(
            f"{name}-vpc-access",
            role=self.role.name,
            policy_arn=VPC_ACCESS_POLICY,
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        return [policy, vpc_access]

    def _security_group(self, name: str, args: SecretRotationFunctionArgs) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Secret rotation function: HTTPS to VPC endpoints and Vault only",
            tags={"Name": f"candlefish-{args.environment}-secret-rotation"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=group.id,
            description="HTTPS to the AWS API endpoints and the Vault load balancer inside the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            opts=pulumi.ResourceOptions(parent=group),
        )
        return group
