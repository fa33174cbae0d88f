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
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.catalog.rotation import SecretRotationFunction
from components.config.catalog import SecretEntry
from components.deployment import AwsContext, Deployment
from components.lib.component import Component
from components.lib.iam import document, statement, to_json
from components.lib.secret_policy import secret_policy
from providers.secrets_manager_seed import SecretsManagerSeed
from providers.vault_kv_seed import VaultKvSeed


@dataclass(frozen=True)
class VaultAccess:
    """How the seeds reach Vault: its address, the CA that signed it, and the provisioner token (secret)."""

    address: pulumi.Input[str]
    ca_pem: pulumi.Input[str]
    token: pulumi.Input[str]
    kv_mount: str = "secret"


@dataclass(frozen=True)
class SecretsCatalogArgs:
    """Everything the catalog needs, passed in explicitly."""

    deployment: Deployment
    catalog: Sequence[SecretEntry]
    secrets_key_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    rotation: SecretRotationFunction
    supplied_values: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    team_roles: Mapping[str, str] = field(default_factory=dict)
    reader_role_arns: Sequence[pulumi.Input[str]] = ()
    vault: VaultAccess | None = None


def role_arn_pattern(role: str, context: AwsContext) -> pulumi.Input[str]:
    """A configured team role (name, name pattern or ARN) as an ARN pattern for aws:PrincipalArn."""
    if role.startswith("arn:"):
        return role
    return pulumi.Output.concat("arn:", context.partition, ":iam::", context.account_id, ":role/", role)


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


class SecretsCatalog(Component):
    """The catalog's secrets, their seeds and their rotation."""

    secrets: dict[str, aws.secretsmanager.Secret]
    status: dict[str, pulumi.Output[Any]]

    def __init__(
        self, name: str, args: SecretsCatalogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:SecretsCatalog", name, None, opts)
        self._base = name
        self._args = args
        self.secrets = {entry.name: self._secret(entry) for entry in args.catalog}
        access = self._rotation_access()
        self.status = {entry.name: self._seed_and_rotate(entry, access) for entry in args.catalog}
        self.register_outputs(
            {"secretArns": {n: s.arn for n, s in self.secrets.items()}, "status": self.status}
        )

    def _secret(self, entry: SecretEntry) -> aws.secretsmanager.Secret:
        args = self._args
        secret = aws.secretsmanager.Secret(
            f"{self._base}-{entry.name}",
            name=args.deployment.names.secret(entry.name),
            description=entry.description,
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=args.deployment.recovery_window_days,
            tags=catalog_tags(entry),
            opts=pulumi.ResourceOptions(parent=self),
        )
        owner = args.team_roles.get(entry.owner)
        policy = secret_policy(
            role_arn_pattern(owner, args.deployment.aws) if owner else None,
            [args.rotation.role.arn, args.deployer_role_arn],
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

    def _seed_and_rotate(self, entry: SecretEntry, access: aws.iam.RolePolicy) -> pulumi.Output[Any]:
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
                    region=args.deployment.aws.region,
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
            rotation_lambda_arn=args.rotation.function.arn,
            rotation_rules={"automatically_after_days": entry.rotation_days},
            # The first rotation waits for the schedule: the seeds must have written a value first.
            rotate_immediately=False,
            opts=pulumi.ResourceOptions(
                parent=secret, depends_on=[args.rotation.invoke_permission, access, *seeds]
            ),
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

    def _rotation_access(self) -> aws.iam.RolePolicy:
        """Let the rotation function rotate exactly the catalog's secrets, with the key that encrypts them."""
        args = self._args
        return aws.iam.RolePolicy(
            f"{self._base}-rotation-access",
            role=args.rotation.role.id,
            policy=to_json(
                document(
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
                        [secret.arn for secret in self.secrets.values()],
                    ),
                    statement(
                        "UseSecretsKey", ["kms:Decrypt", "kms:GenerateDataKey"], [args.secrets_key_arn]
                    ),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
