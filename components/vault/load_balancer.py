"""The Application Load Balancer in front of Vault: HTTPS only (HTTP redirects), nodes checked on 8200."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

VAULT_API_PORT = 8200
HTTPS_PORT = 443
HTTP_PORT = 80
# Healthy for the active node, standbys and an uninitialised cluster (so the bootstrap can reach it);
# sealed nodes answer 503 and receive no traffic.
HEALTH_CHECK_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true&uninitcode=200"
# AWS's recommended policy: TLS 1.3 and 1.2 with forward-secret ciphers and hybrid post-quantum key
# exchange for clients that offer it.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
DEREGISTRATION_DELAY_SECONDS = 15


@dataclass(frozen=True)
class LoadBalancerArgs:
    environment: str
    internal: bool
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    deletion_protection: bool
    access_log_bucket: pulumi.Input[str]
    access_log_prefix: str
    # The access-log bucket's policy: ELB checks it can write there when logging is turned on.
    access_log_policy: pulumi.Resource


@dataclass(frozen=True)
class VaultLoadBalancer:
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup


def vault_load_balancer(name: str, args: LoadBalancerArgs, parent: pulumi.Resource) -> VaultLoadBalancer:
    """The load balancer and target group; listeners come once the certificate (which names the load
    balancer's DNS name) exists."""
    load_balancer = aws.lb.LoadBalancer(
        f"{name}-lb",
        load_balancer_type="application",
        internal=args.internal,
        subnets=list(args.subnet_ids),
        security_groups=[args.security_group_id],
        drop_invalid_header_fields=True,
        desync_mitigation_mode="strictest",
        enable_deletion_protection=args.deletion_protection,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(
            bucket=args.access_log_bucket, prefix=args.access_log_prefix, enabled=True
        ),
        tags={"Name": f"candlefish-{args.environment}-vault"},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[args.access_log_policy]),
    )
    target_group = aws.lb.TargetGroup(
        f"{name}-nodes",
        port=VAULT_API_PORT,
        protocol="HTTPS",
        target_type="instance",
        vpc_id=args.vpc_id,
        deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            protocol="HTTPS",
            port="traffic-port",
            path=HEALTH_CHECK_PATH,
            matcher="200",
            interval=10,
            timeout=5,
            healthy_threshold=2,
            unhealthy_threshold=2,
        ),
        tags={"Name": f"candlefish-{args.environment}-vault-nodes"},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return VaultLoadBalancer(load_balancer=load_balancer, target_group=target_group)


def listeners(
    name: str, lb: VaultLoadBalancer, certificate_arn: pulumi.Input[str]
) -> tuple[aws.lb.Listener, aws.lb.Listener]:
    """HTTPS:443 forwarding to the nodes, and HTTP:80 answering only with a permanent redirect to HTTPS."""
    child = pulumi.ResourceOptions(parent=lb.load_balancer)
    https = aws.lb.Listener(
        f"{name}-https",
        load_balancer_arn=lb.load_balancer.arn,
        port=HTTPS_PORT,
        protocol="HTTPS",
        ssl_policy=SSL_POLICY,
        certificate_arn=certificate_arn,
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=lb.target_group.arn)
        ],
        opts=child,
    )
    http = aws.lb.Listener(
        f"{name}-http-redirect",
        load_balancer_arn=lb.load_balancer.arn,
        port=HTTP_PORT,
        protocol="HTTP",
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                ),
            )
        ],
        opts=child,
    )
    return https, http
