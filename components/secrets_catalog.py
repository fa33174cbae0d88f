"""The secrets catalog: each entry a Secrets Manager secret, seeded once there and in Vault KV, and rotated.

Per entry: a secret named `candlefish/<environment>/<name>` encrypted with the secrets key and tagged with
what rotation needs; a resource policy that lets only the owner team's role, the rotation function, the
deployer and the consuming roles touch the value; the first value (generated with pulumi-random or
supplied through secure config) written by the seeding providers; and a rotation schedule that calls the
catalog's rotation function every `rotationDays`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.config_catalog import SecretEntry
from components.iam import AwsContext, assume_role_policy, document, statement, to_json
from providers.secrets_manager_seed import SecretsManagerSeed
from providers.vault_kv_seed import VaultKvSeed

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_RUNTIME = "python3.13"
LAMBDA_HANDLER = "lambdas.rotation.handler.lambda_handler"
METRIC_NAMESPACE = "Candlefish/Secrets"
VPC_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
# Actions that read a value, and those that change one.
READ_VALUE = ("secretsmanager:GetSecretValue",)
CHANGE_VALUE = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)


@dataclass(frozen=True)
class VaultAccess:
    """How the seeds reach Vault: its address, the CA that signed it, and the provisioner token (secret)."""

    address: pulumi.Input[str]
    ca_pem: pulumi.Input[str]
    token: pulumi.Input[str]
    kv_mount: str = "secret"
    rotation_auth_role: str = "rotation"


@dataclass(frozen=True)
class SecretsCatalogArgs:
    """Everything the catalog needs, passed in explicitly."""

    environment: str
    production: bool
    context: AwsContext
    entries: Sequence[SecretEntry]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    log_retention_days: int
    supplied_values: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    team_roles: Mapping[str, str] = field(default_factory=dict)
    reader_role_arns: Sequence[pulumi.Input[str]] = ()
    vault: VaultAccess | None = None
    vault_address: pulumi.Input[str] = ""
    vault_ca_pem: pulumi.Input[str] = ""
    alerts_topic_arn: pulumi.Input[str] | None = None


def role_arn_pattern(role: str, context: AwsContext) -> pulumi.Input[str]:
    """A configured team role (name, name pattern or ARN) as an ARN pattern for aws:PrincipalArn."""
    if role.startswith("arn:"):
        return role
    return pulumi.Output.concat("arn:", context.partition, ":iam::", context.account_id, ":role/", role)


def secret_policy(
    owner_role: pulumi.Input[str] | None,
    writers: Sequence[pulumi.Input[str]],
    readers: Sequence[pulumi.Input[str]],
) -> dict[str, Any]:
    """Deny reading the value to all but owner, writers and readers; changing it to all but owner, writers."""
    changers = [*([owner_role] if owner_role else []), *writers]
    return document(
        statement(
            "OnlyOwnerRotationAndConsumersReadTheValue",
            READ_VALUE,
            "*",
            effect="Deny",
            principal="*",
            condition={"ArnNotLike": {"aws:PrincipalArn": [*changers, *readers]}},
        ),
        statement(
            "OnlyOwnerRotationAndDeployerChangeTheValue",
            CHANGE_VALUE,
            "*",
            effect="Deny",
            principal="*",
            condition={"ArnNotLike": {"aws:PrincipalArn": changers}},
        ),
    )


def catalog_tags(entry: SecretEntry) -> dict[str, str]:
    """Tags the rotation function and the policy pack read from each secret."""
    return {
        "Name": entry.name,
        "Owner": entry.owner,
        "SecretType": entry.type,
        "RotationDays": str(entry.rotation_days),
        "Source": entry.source,
        "VaultPath": entry.vault_path,
        "ValueFormat": entry.value_format if entry.source == "generate" else "supplied",
    }


def lambda_code() -> pulumi.AssetArchive:
    """The rotation function's package: only lambdas/ (boto3 and botocore come with the runtime)."""
    files = [ROOT / "lambdas" / "__init__.py", *sorted((ROOT / "lambdas" / "rotation").glob("*.py"))]
    return pulumi.AssetArchive({str(path.relative_to(ROOT)): pulumi.FileAsset(str(path)) for path in files})


class SecretsCatalog(pulumi.ComponentResource):
    """The catalog's secrets, their seeds and their rotation."""

    secrets: dict[str, aws.secretsmanager.Secret]
    rotation_function: aws.lambda_.Function
    rotation_role: aws.iam.Role
    rotation_log_group: aws.cloudwatch.LogGroup
    status: dict[str, pulumi.Output[Any]]

    def __init__(
        self, name: str, args: SecretsCatalogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:SecretsCatalog", name, None, opts)
        self._base = name
        self._args = args
        function_name = f"candlefish-{args.environment}-secret-rotation"
        self.rotation_log_group = aws.cloudwatch.LogGroup(
            f"{name}-rotation-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rotation_role = aws.iam.Role(
            f"{name}-rotation-role",
            description="Rotates the catalog's secrets and writes the new values to Vault",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secrets = {entry.name: self._secret(entry) for entry in args.entries}
        self._rotation_permissions()
        self.rotation_function = self._rotation_function(function_name)
        invoke = aws.lambda_.Permission(
            f"{name}-rotation-invoke",
            action="lambda:InvokeFunction",
            function=self.rotation_function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=args.context.account_id,
            opts=pulumi.ResourceOptions(parent=self.rotation_function),
        )
        self.status = {entry.name: self._seed_and_rotate(entry, invoke) for entry in args.entries}
        self.register_outputs(
            {"secretArns": {n: s.arn for n, s in self.secrets.items()}, "status": self.status}
        )

    def _secret(self, entry: SecretEntry) -> aws.secretsmanager.Secret:
        args = self._args
        secret = aws.secretsmanager.Secret(
            f"{self._base}-{entry.name}",
            name=f"candlefish/{args.environment}/{entry.name}",
            description=entry.description,
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=30 if args.production else 7,
            tags=catalog_tags(entry),
            opts=pulumi.ResourceOptions(parent=self),
        )
        owner = args.team_roles.get(entry.owner)
        policy = secret_policy(
            role_arn_pattern(owner, args.context) if owner else None,
            [self.rotation_role.arn, args.deployer_role_arn],
            list(args.reader_role_arns),
        )
        aws.secretsmanager.SecretPolicy(
            f"{self._base}-{entry.name}-policy",
            secret_arn=secret.arn,
            policy=to_json(policy),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=secret),
        )
        return secret

    def _value(self, entry: SecretEntry) -> pulumi.Input[str] | None:
        """The first value: generated in the entry's format, or the supplied secure config value."""
        if entry.source == "config":
            return self._args.supplied_values.get(entry.name)
        kind, size = entry.value_format.split("-")
        parent = pulumi.ResourceOptions(parent=self.secrets[entry.name])
        if kind == "base64":
            return random.RandomBytes(
                f"{self._base}-{entry.name}-value", length=int(size), opts=parent
            ).base64
        return random.RandomPassword(
            f"{self._base}-{entry.name}-value",
            length=int(size),
            special=True,
            override_special="-_",
            min_lower=4,
            min_upper=4,
            min_numeric=4,
            opts=parent,
        ).result

    def _seed_and_rotate(self, entry: SecretEntry, invoke: aws.lambda_.Permission) -> pulumi.Output[Any]:
        args = self._args
        secret = self.secrets[entry.name]
        value = self._value(entry)
        seeds: list[pulumi.Resource] = []
        if value is not None:
            seeds.append(
                SecretsManagerSeed(
                    f"{self._base}-{entry.name}-sm-seed",
                    secret_id=secret.arn,
                    value=value,
                    region=args.context.region,
                    reseed=entry.reseed,
                    opts=pulumi.ResourceOptions(parent=secret),
                )
            )
            if args.vault is not None:
                seeds.append(
                    VaultKvSeed(
                        f"{self._base}-{entry.name}-vault-seed",
                        address=args.vault.address,
                        ca_pem=args.vault.ca_pem,
                        token=args.vault.token,
                        mount=args.vault.kv_mount,
                        path=entry.vault_path,
                        value=value,
                        reseed=entry.reseed,
                        destroy_on_delete=entry.destroy_on_delete,
                        custom_metadata={
                            "owner": entry.owner,
                            "type": entry.type,
                            "rotation_days": str(entry.rotation_days),
                            "source": entry.source,
                        },
                        opts=pulumi.ResourceOptions(parent=secret),
                    )
                )
        else:
            pulumi.log.warn(
                f"catalog entry {entry.name} takes its value from secure config, which is not set: run "
                f"`pulumi config set --secret {entry.config_value.key if entry.config_value else '?'}`",
                resource=secret,
            )
        aws.secretsmanager.SecretRotation(
            f"{self._base}-{entry.name}-rotation",
            secret_id=secret.id,
            rotation_lambda_arn=self.rotation_function.arn,
            rotation_rules={"automatically_after_days": entry.rotation_days},
            # The first rotation waits for the schedule: the seeds must have written a value first.
            rotate_immediately=False,
            opts=pulumi.ResourceOptions(parent=secret, depends_on=[invoke, *seeds]),
        )
        return pulumi.Output.from_input(
            {
                "secretArn": secret.arn,
                "vaultPath": f"{args.vault.kv_mount if args.vault else 'secret'}/{entry.vault_path}",
                "rotation": (
                    f"automatic every {entry.rotation_days} days"
                    if entry.source == "generate"
                    else f"manual: externally issued, a notice is sent every {entry.rotation_days} days"
                ),
                "value": "seeded" if value is not None else "not set",
            }
        )

    def _rotation_permissions(self) -> None:
        args = self._args
        secret_arns = [secret.arn for secret in self.secrets.values()]
        statements = [
            statement(
                "RotateCatalogSecrets",
                [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:TagResource",
                    "secretsmanager:UntagResource",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                secret_arns,
            ),
            statement("UseSecretsKey", ["kms:Decrypt", "kms:GenerateDataKey"], [args.secrets_key_arn]),
            statement(
                "PublishRotationMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                condition={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            ),
            statement(
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [pulumi.Output.concat(self.rotation_log_group.arn, ":*")],
            ),
        ]
        if args.alerts_topic_arn is not None:
            statements.append(statement("AnnounceManualRotation", ["sns:Publish"], [args.alerts_topic_arn]))
        aws.iam.RolePolicy(
            f"{self._base}-rotation-policy",
            role=self.rotation_role.id,
            policy=to_json(document(*statements)),
            opts=pulumi.ResourceOptions(parent=self.rotation_role),
        )
        aws.iam.RolePolicyAttachment(
            f"{self._base}-rotation-vpc-access",
            role=self.rotation_role.name,
            policy_arn=VPC_ACCESS_POLICY,
            opts=pulumi.ResourceOptions(parent=self.rotation_role),
        )

    def _rotation_function(self, function_name: str) -> aws.lambda_.Function:
        args = self._args
        security_group = aws.ec2.SecurityGroup(
            f"{self._base}-rotation-sg",
            vpc_id=args.vpc_id,
            description="Secret rotation function: HTTPS to VPC endpoints and Vault only",
            tags={"Name": f"candlefish-{args.environment}-secret-rotation"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._base}-rotation-https-out",
            security_group_id=security_group.id,
            description="HTTPS to the AWS API endpoints and the Vault load balancer inside the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            opts=pulumi.ResourceOptions(parent=security_group),
        )
        environment: dict[str, pulumi.Input[str]] = {
            "VAULT_ADDR": args.vault_address,
            "VAULT_CA_PEM": args.vault_ca_pem,
            "VAULT_AUTH_ROLE": args.vault.rotation_auth_role if args.vault else "rotation",
            "VAULT_KV_MOUNT": args.vault.kv_mount if args.vault else "secret",
        }
        if args.alerts_topic_arn is not None:
            environment["ALERTS_TOPIC_ARN"] = args.alerts_topic_arn
        return aws.lambda_.Function(
            f"{self._base}-rotation",
            name=function_name,
            description="Secrets Manager rotation for the candlefish catalog (keeps Vault KV in step)",
            role=self.rotation_role.arn,
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.rotation_log_group]),
        )
