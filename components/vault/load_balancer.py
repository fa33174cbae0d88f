"""The Application Load Balancer in front of Vault: HTTPS only (HTTP redirects), nodes checked on 8200.

Clients (443) reach only nodes that are initialised and unsealed, active or standby: a replacement node that
has not joined the raft cluster yet answers 501 to the health check and gets no traffic. The bootstrap has
its own way in, a listener on 8200 whose target group also counts an uninitialised node healthy, so the very
first `pulumi up` can initialise the cluster without bending the clients' health semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.deployment import Names

VAULT_API_PORT = 8200
HTTPS_PORT = 443
HTTP_PORT = 80
# The bootstrap's listener (the deploying machine's way in): same port as the nodes', TLS, allowed CIDRs only.
BOOTSTRAP_PORT = VAULT_API_PORT
# Healthy (200) for the active node and standbys, performance standbys included. An uninitialised node
# answers 501, a sealed one 503, a DR secondary 472: no client traffic.
HEALTH_CHECK_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true"
# The bootstrap's target group also counts an uninitialised node (so the first init can reach one); a
# sealed node still answers 503.
BOOTSTRAP_HEALTH_CHECK_PATH = f"{HEALTH_CHECK_PATH}&uninitcode=200"
# AWS's recommended policy: TLS 1.3 and 1.2 with forward-secret ciphers and hybrid post-quantum key
# exchange for clients that offer it.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
DEREGISTRATION_DELAY_SECONDS = 15


@dataclass(frozen=True)
class LoadBalancerArgs:
    names: Names
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
    bootstrap_target_group: aws.lb.TargetGroup


def _target_group(
    name: str, *, names: Names, role: str, path: str, vpc_id: pulumi.Input[str], parent: pulumi.Resource
) -> aws.lb.TargetGroup:
    return aws.lb.TargetGroup(
        name,
        port=VAULT_API_PORT,
        protocol="HTTPS",
        target_type="instance",
        vpc_id=vpc_id,
        deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            protocol="HTTPS",
            port="traffic-port",
            path=path,
            matcher="200",
            interval=10,
            timeout=5,
            healthy_threshold=2,
            unhealthy_threshold=2,
        ),
        tags={"Name": names.resource(f"vault-{role}")},
        opts=pulumi.ResourceOptions(parent=parent),
    )


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
        tags={"Name": args.names.resource("vault")},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[args.access_log_policy]),
    )
    names, vpc = args.names, args.vpc_id
    target_group = _target_group(
        f"{name}-nodes", names=names, role="nodes", path=HEALTH_CHECK_PATH, vpc_id=vpc, parent=parent
    )
    bootstrap = _target_group(
        f"{name}-bootstrap-nodes",
        names=names,
        role="bootstrap",
        path=BOOTSTRAP_HEALTH_CHECK_PATH,
        vpc_id=vpc,
        parent=parent,
    )
    return VaultLoadBalancer(load_balancer, target_group, bootstrap)


@dataclass(frozen=True)
class Listeners:
    https: aws.lb.Listener
    http_redirect: aws.lb.Listener
    bootstrap: aws.lb.Listener


def _https_forward(
    name: str,
    lb: VaultLoadBalancer,
    port: int,
    target_group: aws.lb.TargetGroup,
    certificate_arn: pulumi.Input[str],
) -> aws.lb.Listener:
    return aws.lb.Listener(
        name,
        load_balancer_arn=lb.load_balancer.arn,
        port=port,
        protocol="HTTPS",
        ssl_policy=SSL_POLICY,
        certificate_arn=certificate_arn,
        default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
        opts=pulumi.ResourceOptions(parent=lb.load_balancer),
    )


def listeners(name: str, lb: VaultLoadBalancer, certificate_arn: pulumi.Input[str]) -> Listeners:
    """HTTPS:443 forwarding to the serving nodes, HTTP:80 answering only with a permanent redirect to HTTPS,
    and HTTPS:8200 forwarding to the bootstrap's target group."""
    https = _https_forward(f"{name}-https", lb, HTTPS_PORT, lb.target_group, certificate_arn)
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
        opts=pulumi.ResourceOptions(parent=lb.load_balancer),
    )
    bootstrap = _https_forward(
        f"{name}-bootstrap", lb, BOOTSTRAP_PORT, lb.bootstrap_target_group, certificate_arn
    )
    return Listeners(https, http, bootstrap)
