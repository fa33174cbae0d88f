"""The Vault cluster: raft nodes in an Auto Scaling group behind an Application Load Balancer.

Nodes run Amazon Linux 2023 (the AWS CLI, SSM agent and EBS device links come with it; the CloudWatch
agent comes from its S3-hosted repository), boot from user-data rendered by components/vault/userdata.py,
unseal with the KMS unseal key, find each other by tag and join over TLS. The group rolls one node at a
time when the launch template changes. Its pieces live in their own modules: security groups, load
balancer, TLS, IAM, and what a node boots from (launch_template.py, with the user-data of userdata.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.vault import TLS_EARLY_RENEWAL_DAYS, LoadBalancerConfig, VaultConfig
from components.deployment import Deployment
from components.lib.component import Component
from components.vault import userdata
from components.vault.iam import METRICS_NAMESPACE, NodeGrants, node_identity, node_role
from components.vault.launch_template import NodeLaunchArgs, node_launch_template
from components.vault.load_balancer import (
    BOOTSTRAP_PORT,
    LoadBalancerArgs,
    listeners,
    vault_load_balancer,
)
from components.vault.security_groups import vault_security_groups
from components.vault.tls import TlsArgs, vault_tls

INSTANCE_WARMUP_SECONDS = 300
DEV_MODE_WARNING = (
    "enableDevMode is on: Vault runs as ONE node keeping everything in memory; every secret is lost when "
    "it restarts. Never put real secrets in it."
)


def rolling_min_healthy_percentage(size: int) -> int:
    """The largest minimum-healthy percentage that still lets an instance refresh replace one node at a
    time: AWS rounds the minimum up to whole instances, so it must round up to exactly size - 1."""
    return 100 * (size - 1) // size


@dataclass(frozen=True)
class VaultClusterArgs:
    """Everything the cluster takes from the config and from the Keys, Network and Storage components."""

    deployment: Deployment
    vault: VaultConfig
    load_balancer: LoadBalancerConfig
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    # Where the load balancer's nodes live: Vault trusts X-Forwarded-For from these blocks only.
    load_balancer_subnet_cidrs: Sequence[str]
    endpoint_security_group_id: pulumi.Input[str]
    unseal_key_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    autoscaling_role_arn: pulumi.Input[str]
    snapshot_bucket: pulumi.Input[str]
    snapshot_bucket_arn: pulumi.Input[str]
    snapshot_prefix: str
    access_log_bucket: pulumi.Input[str]
    access_log_prefix: str
    access_log_policy: pulumi.Resource
    deployer_role_arn: pulumi.Input[str]
    # Configured deployer principals besides the running one (ARN patterns): the TLS bundle admits them too.
    other_deployers: Sequence[pulumi.Input[str]] = ()
    # What must exist before a node boots (the network's `ready`: NAT routes and VPC endpoints, which its
    # install needs).
    depends_on: Sequence[pulumi.Resource] = ()


class VaultCluster(Component):
    """Vault nodes, their load balancer, TLS, IAM identity and log groups."""

    address: pulumi.Output[str]
    ca_certificate_pem: pulumi.Output[str]
    server_name: str
    mode: str
    auto_scaling_group: aws.autoscaling.Group
    launch_template: aws.ec2.LaunchTemplate
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    node_security_group: aws.ec2.SecurityGroup
    node_role: aws.iam.Role
    https_listener: aws.lb.Listener
    bootstrap_listener: aws.lb.Listener
    bootstrap_address: pulumi.Output[str]
    certificate_arn: pulumi.Input[str]
    tls_secret: aws.secretsmanager.Secret
    server_log_group: aws.cloudwatch.LogGroup
    audit_log_group: aws.cloudwatch.LogGroup
    metrics_namespace: str = METRICS_NAMESPACE
    audit_log_path: str = userdata.AUDIT_LOG_PATH
    outputs: dict[str, Any]

    def __init__(self, name: str, args: VaultClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:VaultCluster", name, None, opts)
        self._base = name
        self._args = args
        names, ctx = args.deployment.names, args.deployment.aws
        dev_mode = args.vault.dev_mode
        self.mode = "dev" if dev_mode else "cluster"
        self.server_name = args.vault.server_name
        size = args.deployment.vault_nodes
        if dev_mode:
            pulumi.log.warn(DEV_MODE_WARNING, resource=self)

        self.server_log_group = self._log_group("server", args.vault.log_retention_days)
        self.audit_log_group = self._log_group("audit", args.vault.audit_log_retention_days)

        groups = vault_security_groups(
            name,
            names=names,
            vpc_id=args.vpc_id,
            endpoint_sg=args.endpoint_security_group_id,
            aws_context=ctx,
            allowed_cidrs=args.load_balancer.allowed_cidrs,
            parent=self,
        )
        self.node_security_group = groups.nodes
        lb = vault_load_balancer(
            name,
            LoadBalancerArgs(
                names=names,
                internal=args.load_balancer.internal,
                subnet_ids=args.private_subnet_ids if args.load_balancer.internal else args.public_subnet_ids,
                security_group_id=groups.load_balancer.id,
                vpc_id=args.vpc_id,
                deletion_protection=args.deployment.deletion_protection,
                access_log_bucket=args.access_log_bucket,
                access_log_prefix=args.access_log_prefix,
                access_log_policy=args.access_log_policy,
            ),
            parent=self,
        )
        self.load_balancer, self.target_group = lb.load_balancer, lb.target_group

        self.node_role = node_role(name, names, parent=self)
        tls = vault_tls(
            name,
            TlsArgs(
                names=names,
                server_name=self.server_name,
                load_balancer_dns_name=lb.load_balancer.dns_name,
                validity_days=args.vault.tls_validity_days,
                early_renewal_days=TLS_EARLY_RENEWAL_DAYS,
                secrets_key_arn=args.secrets_key_arn,
                reader_role_arn=self.node_role.arn,
                deployer_role_arn=args.deployer_role_arn,
                other_deployers=args.other_deployers,
                recovery_window_days=args.deployment.recovery_window_days,
                acm_certificate_arn=args.load_balancer.acm_certificate_arn,
            ),
            parent=self,
        )
        self.tls_secret = tls.secret
        self.certificate_arn = tls.certificate_arn
        self.node_certificate_arn = tls.node_certificate_arn
        self.ca_certificate_pem = tls.ca_certificate_pem
        lb_listeners = listeners(name, lb, tls.certificate_arn)
        self.https_listener = lb_listeners.https
        self.bootstrap_listener = lb_listeners.bootstrap

        identity = node_identity(
            name,
            self.node_role,
            NodeGrants(
                region=ctx.region,
                account_id=ctx.account_id,
                partition=ctx.partition,
                unseal_key_arn=args.unseal_key_arn,
                tls_secret_arn=tls.secret.arn,
                secrets_key_arn=args.secrets_key_arn,
                data_key_arn=args.data_key_arn,
                snapshot_bucket_arn=args.snapshot_bucket_arn,
                snapshot_prefix=args.snapshot_prefix,
                log_group_arns=[self.server_log_group.arn, self.audit_log_group.arn],
            ),
            ctx.partition,
        )
        self.launch_template = node_launch_template(
            name,
            NodeLaunchArgs(
                deployment=args.deployment,
                vault=args.vault,
                instance_profile_arn=identity.instance_profile.arn,
                node_security_group_id=self.node_security_group.id,
                unseal_key_arn=args.unseal_key_arn,
                data_key_arn=args.data_key_arn,
                tls_secret_arn=tls.secret.arn,
                snapshot_bucket=args.snapshot_bucket,
                snapshot_prefix=args.snapshot_prefix,
                server_log_group=self.server_log_group.name,
                audit_log_group=self.audit_log_group.name,
                load_balancer_subnet_cidrs=args.load_balancer_subnet_cidrs,
            ),
            parent=self,
        )
        placement = aws.ec2.PlacementGroup(
            f"{name}-placement",
            name=names.resource("vault"),
            # At most seven running instances per zone, each on its own rack.
            strategy="spread",
            spread_level="rack",
            tags={"Name": names.resource("vault")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.auto_scaling_group = aws.autoscaling.Group(
            f"{name}-asg",
            name=names.resource("vault"),
            min_size=size,
            max_size=size,
            desired_capacity=size,
            vpc_zone_identifiers=list(args.private_subnet_ids),
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)
            ),
            placement_group=placement.name,
            # The dedicated service-linked role the data key's policy names, so encrypted volumes launch.
            service_linked_role_arn=args.autoscaling_role_arn,
            # EC2 status only: a sealed or uninitialised node fails the load balancer's check but must not
            # be replaced for it (that would loop forever before the bootstrap initialises Vault).
            health_check_type="EC2",
            health_check_grace_period=INSTANCE_WARMUP_SECONDS,
            default_instance_warmup=INSTANCE_WARMUP_SECONDS,
            target_group_arns=[lb.target_group.arn, lb.bootstrap_target_group.arn],
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=rolling_min_healthy_percentage(size),
                    max_healthy_percentage=100,
                    skip_matching=True,
                ),
            ),
            metrics_granularity="1Minute",
            enabled_metrics=[
                aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
                aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
                aws.autoscaling.Metric.GROUP_PENDING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TERMINATING_INSTANCES,
                aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
            ],
            tags=[
                aws.autoscaling.GroupTagArgs(
                    key="Name", value=names.resource("vault"), propagate_at_launch=True
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *args.depends_on,
                    identity.policy,
                    *tls.ready,
                    self.server_log_group,
                    self.audit_log_group,
                ],
            ),
        )

        self.address = pulumi.Output.concat("https://", lb.load_balancer.dns_name)
        # Where the deploying machine reaches Vault by default: the bootstrap listener, which also routes to
        # an uninitialised node (load_balancer.py).
        self.bootstrap_address = pulumi.Output.concat(
            "https://", lb.load_balancer.dns_name, f":{BOOTSTRAP_PORT}"
        )
        self.outputs = {
            "vaultAddress": self.address,
            "vaultBootstrapAddress": self.bootstrap_address,
            "vaultCaCertificate": self.ca_certificate_pem,
            "vaultMode": self.mode,
            "vaultServerName": self.server_name,
            "vaultAutoScalingGroupName": self.auto_scaling_group.name,
            "vaultNodeSecurityGroupId": self.node_security_group.id,
            "vaultNodeRoleArn": self.node_role.arn,
            "vaultLoadBalancerArnSuffix": lb.load_balancer.arn_suffix,
            "vaultTargetGroupArnSuffix": lb.target_group.arn_suffix,
            "vaultServerLogGroupName": self.server_log_group.name,
            "vaultAuditLogGroupName": self.audit_log_group.name,
        }
        # Usable once the API listens and the nodes exist; depending on the component alone would not wait
        # for the listeners (grandchildren) that the bootstrap calls through.
        self.ready = [self.https_listener, self.bootstrap_listener, self.auto_scaling_group]
        self.register_outputs(self.outputs)

    def _log_group(self, kind: str, retention_days: int) -> aws.cloudwatch.LogGroup:
        names = self._args.deployment.names
        return aws.cloudwatch.LogGroup(
            f"{self._base}-{kind}-logs",
            name=names.log_group(f"vault/{kind}"),
            retention_in_days=retention_days,
            kms_key_id=self._args.logs_key_arn,
            tags={"Name": names.resource(f"vault-{kind}")},
            opts=pulumi.ResourceOptions(parent=self),
        )
