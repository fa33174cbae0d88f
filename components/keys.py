"""Customer-managed KMS keys, one per purpose, and the Vault unseal key (optionally CloudHSM-backed).

`Keys` makes the data, logs, secrets and notifications keys before anything else exists, because the
network's flow logs already need the logs key. `UnsealKey` comes after the network: with CloudHSM on,
the unseal key lives in a KMS custom key store whose HSMs sit in the private subnets.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.deployment import AwsContext, Deployment, Names
from components.lib.component import Component
from components.lib.key_policies import PURPOSES, KeyPolicyContext, KeyPurpose, key_policy

# KMS custom key stores need a FIPS-mode cluster; hsm2m.medium is the current HSM type.
HSM_TYPE = "hsm2m.medium"
HSM_MODE = "FIPS"
# KMS requires the kmsuser password to be 7-32 characters.
KMSUSER_PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class KeysArgs:
    """What the keys need to know: where they live and how long a scheduled deletion waits."""

    deployment: Deployment
    deletion_window_days: int
    # With a DR region (and no CloudHSM), the data key is multi-Region with a replica there.
    dr_region: str | None = None


# The DR stack's environment is the primary's with this suffix (Pulumi.dr.yaml): its node role is named
# from it, so the replica keys' policies can name that role before the DR stack exists.
DR_ENVIRONMENT_SUFFIX = "-dr"


def key_policy_json(
    purpose: KeyPurpose,
    context: AwsContext,
    autoscaling_role_arn: pulumi.Input[str] | None = None,
    unseal_role_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    """The purpose's key policy as JSON, once the account facts are known (for a key in `context.region`)."""
    facts = pulumi.Output.all(context.account_id, context.partition, autoscaling_role_arn, unseal_role_arn)
    return facts.apply(
        lambda known: json.dumps(
            key_policy(purpose, KeyPolicyContext(known[0], known[1], context.region, known[2], known[3])),
            indent=2,
        )
    )


class Keys(Component):
    """The data, logs, secrets and notifications keys, each with rotation on and an alias."""

    data: aws.kms.Key
    logs: aws.kms.Key
    secrets: aws.kms.Key
    notifications: aws.kms.Key
    autoscaling_role: aws.iam.ServiceLinkedRole
    data_replica: aws.kms.ReplicaKey | None = None

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Keys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A dedicated Auto Scaling service-linked role: the data key policy must name the role that
        # launches encrypted volumes, and the account's default role may not exist yet.
        self.autoscaling_role = aws.iam.ServiceLinkedRole(
            f"{name}-autoscaling-role",
            aws_service_name="autoscaling.amazonaws.com",
            custom_suffix=args.deployment.names.prefix,
            description="Launches the Vault nodes with volumes encrypted by the data key",
            opts=child,
        )
        self.data = self._key(
            name, args, "data", self.autoscaling_role.arn, multi_region=bool(args.dr_region)
        )
        if args.dr_region:
            # S3, EBS and RDS in the DR region use the replica through their services there.
            self.data_replica = replica_key(
                f"{name}-data-replica",
                self.data,
                dataclasses.replace(args.deployment.aws, region=args.dr_region),
                "data",
                names=args.deployment.names,
                deletion_window_days=args.deletion_window_days,
            )
        self.logs = self._key(name, args, "logs")
        self.secrets = self._key(name, args, "secrets")
        self.notifications = self._key(name, args, "notifications")
        self.functions = self._key(name, args, "functions")
        self.register_outputs(
            {
                "dataKeyArn": self.data.arn,
                "logsKeyArn": self.logs.arn,
                "secretsKeyArn": self.secrets.arn,
                "notificationsKeyArn": self.notifications.arn,
                "functionsKeyArn": self.functions.arn,
            }
        )

    def _key(
        self,
        name: str,
        args: KeysArgs,
        purpose: KeyPurpose,
        autoscaling_role_arn: pulumi.Input[str] | None = None,
        *,
        multi_region: bool = False,
    ) -> aws.kms.Key:
        key = aws.kms.Key(
            f"{name}-{purpose}",
            description=f"{args.deployment.names.prefix}: {PURPOSES[purpose]}",
            # KMS cannot make an existing key multi-Region: a change here replaces the key (README: DR).
            multi_region=multi_region or None,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            policy=key_policy_json(purpose, args.deployment.aws, autoscaling_role_arn),
            tags={"Name": args.deployment.names.resource(purpose), "KeyPurpose": purpose},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-{purpose}-alias",
            name=args.deployment.names.kms_alias(purpose),
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=key),
        )
        return key


def replica_key(
    name: str,
    primary: aws.kms.Key,
    context: AwsContext,
    purpose: KeyPurpose,
    *,
    names: Names,
    deletion_window_days: int,
    unseal_role_arn: pulumi.Input[str] | None = None,
) -> aws.kms.ReplicaKey:
    """A multi-Region key's replica in `context.region`, with the purpose's policy written for that region."""
    return aws.kms.ReplicaKey(
        name,
        primary_key_arn=primary.arn,
        region=context.region,
        description=f"{names.prefix}: {PURPOSES[purpose]} (replica in {context.region})",
        deletion_window_in_days=deletion_window_days,
        policy=key_policy_json(purpose, context, unseal_role_arn=unseal_role_arn),
        tags={"Name": names.resource(f"{purpose}-replica"), "KeyPurpose": purpose},
        opts=pulumi.ResourceOptions(parent=primary),
    )


@dataclass(frozen=True)
class UnsealKeyArgs:
    """The unseal key's settings; `hsm_subnet_ids` (two or more zones) only when CloudHSM is on."""

    deployment: Deployment
    deletion_window_days: int
    enable_hsm: bool
    hsm_subnet_ids: Sequence[pulumi.Input[str]] = ()
    hsm_trust_anchor_certificate: str | None = None
    hsm_key_store_connected: bool = False
    secrets_key_arn: pulumi.Input[str] | None = None
    # Production protects the key: replacing it (e.g. moving it into the CloudHSM key store) would leave
    # an initialised Vault unable to unseal, so Pulumi must refuse instead.
    protect: bool = False
    # The Vault nodes' role, the one principal allowed to use the key (None: any IAM policy in the account).
    node_role_arn: pulumi.Input[str] | None = None
    # Without CloudHSM: a multi-Region key with a replica here, for the DR stack's node role.
    dr_region: str | None = None
    dr_node_role_arn: pulumi.Input[str] | None = None
    # The DR stack: use the primary key's replica in this region instead of creating a key.
    existing_key_arn: str | None = None


class UnsealKey(Component):
    """Vault's auto-unseal key, in standard KMS or in a CloudHSM-backed custom key store.

    CloudHSM cannot be brought up in one apply: AWS requires the cluster to be initialised with a
    signed certificate and activated by hand before a key store can use it. So this component creates
    the cluster and two HSMs; once `hsmTrustAnchorCertificate` is set it creates the custom key store;
    once `hsmKeyStoreConnected` is true it creates the unseal key inside it. Until then the unseal key is
    a standard KMS key and a warning says so (README: CloudHSM).
    """

    key: aws.kms.Key | None = None
    key_arn: pulumi.Output[str]
    backing: str
    hsm_cluster: aws.cloudhsmv2.Cluster | None = None
    key_store: aws.kms.CustomKeyStore | None = None
    replica: aws.kms.ReplicaKey | None = None

    def __init__(self, name: str, args: UnsealKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:UnsealKey", name, None, opts)
        if args.existing_key_arn:
            # The DR stack unseals with the primary unseal key's replica; the primary stack manages it.
            self.backing = "kms-replica"
            self.key_arn = pulumi.Output.from_input(args.existing_key_arn)
            self.register_outputs({"unsealKeyArn": self.key_arn, "backing": self.backing})
            return
        custom_key_store_id: pulumi.Input[str] | None = None
        self.backing = "kms"
        if args.enable_hsm:
            custom_key_store_id = self._hsm(name, args)
        if args.enable_hsm and custom_key_store_id is None:
            pulumi.log.warn(
                "enableHsm is on but the CloudHSM key store is not connected yet: the Vault unseal key is a "
                "standard KMS key until the README's CloudHSM activation steps are done",
                resource=self,
            )
        hsm_backed = custom_key_store_id is not None
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.deployment.names.prefix}: {PURPOSES['unseal']}",
            custom_key_store_id=custom_key_store_id,
            # AWS cannot rotate keys held in a custom key store; standard keys rotate yearly.
            enable_key_rotation=not hsm_backed,
            rotation_period_in_days=None if hsm_backed else 365,
            deletion_window_in_days=args.deletion_window_days,
            # KMS cannot make an existing key multi-Region: a change here replaces the key (README: DR).
            multi_region=True if args.dr_region and not args.enable_hsm else None,
            policy=key_policy_json("unseal", args.deployment.aws, unseal_role_arn=args.node_role_arn),
            tags={
                "Name": args.deployment.names.resource("unseal"),
                "KeyPurpose": "unseal",
                "KeyBacking": self.backing,
            },
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=args.deployment.names.kms_alias("unseal"),
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self.key),
        )
        self.key_arn = self.key.arn
        if args.dr_region and not args.enable_hsm:
            self.replica = replica_key(
                f"{name}-replica",
                self.key,
                dataclasses.replace(args.deployment.aws, region=args.dr_region),
                "unseal",
                names=args.deployment.names,
                deletion_window_days=args.deletion_window_days,
                unseal_role_arn=args.dr_node_role_arn,
            )
        self.register_outputs({"unsealKeyArn": self.key.arn, "backing": self.backing})

    def _hsm(self, name: str, args: UnsealKeyArgs) -> pulumi.Output[str] | None:
        """The CloudHSM cluster and HSMs, and the key store once a trust anchor is known.

        Returns the key store id once the store is connected, else None.
        """
        if len(args.hsm_subnet_ids) < 2:
            raise ValueError("a CloudHSM key store needs HSMs in at least two availability zones")
        child = pulumi.ResourceOptions(parent=self)
        self.hsm_cluster = aws.cloudhsmv2.Cluster(
            f"{name}-hsm-cluster",
            hsm_type=HSM_TYPE,
            mode=HSM_MODE,
            subnet_ids=list(args.hsm_subnet_ids),
            tags={"Name": args.deployment.names.resource("unseal-hsm")},
            opts=child,
        )
        for index, subnet_id in enumerate(args.hsm_subnet_ids[:2]):
            aws.cloudhsmv2.Hsm(
                f"{name}-hsm-{index + 1}",
                cluster_id=self.hsm_cluster.cluster_id,
                subnet_id=subnet_id,
                opts=pulumi.ResourceOptions(parent=self.hsm_cluster),
            )
        if not args.hsm_trust_anchor_certificate:
            return None
        # The password of the HSM's kmsuser crypto user: generated here, set on the HSM during activation.
        kmsuser_password = random.RandomPassword(
            f"{name}-kmsuser-password",
            length=KMSUSER_PASSWORD_LENGTH,
            special=False,
            opts=child,
        )
        kmsuser_secret = aws.secretsmanager.Secret(
            f"{name}-kmsuser-password-secret",
            name=args.deployment.names.secret("cloudhsm/kmsuser-password"),
            description="Password of the CloudHSM kmsuser that the KMS custom key store logs in as",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=30,
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-kmsuser-password-value",
            secret_id=kmsuser_secret.id,
            secret_string=kmsuser_password.result,
            opts=pulumi.ResourceOptions(parent=kmsuser_secret),
        )
        self.key_store = aws.kms.CustomKeyStore(
            f"{name}-key-store",
            custom_key_store_name=args.deployment.names.resource("unseal"),
            custom_key_store_type="AWS_CLOUDHSM",
            cloud_hsm_cluster_id=self.hsm_cluster.cluster_id,
            trust_anchor_certificate=args.hsm_trust_anchor_certificate,
            key_store_password=kmsuser_password.result,
            opts=child,
        )
        if not args.hsm_key_store_connected:
            return None
        self.backing = "cloudhsm"
        return self.key_store.id
