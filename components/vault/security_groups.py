"""Security groups of the Vault nodes and their load balancer, one rule resource per rule.

Nodes: the API (8200) from the load balancer, from each other (raft joins call the leader's API) and from
the allow-listed networks; cluster traffic (8201) only between nodes; no SSH (Session Manager instead).
Outbound: HTTPS to the VPC endpoints and the S3 gateway endpoint, and HTTPS to the internet through the
NAT gateways for the one thing with no endpoint: the Vault release at releases.hashicorp.com (served
from a CDN without a fixed address range) and OS packages. 8200/8201 go only to other nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.deployment import AwsContext, Names
from components.vault.load_balancer import BOOTSTRAP_PORT, HTTP_PORT, HTTPS_PORT, VAULT_API_PORT

VAULT_CLUSTER_PORT = 8201
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Rule:
    """One security group rule: a TCP port and exactly one peer (CIDR, security group or prefix list)."""

    direction: Literal["ingress", "egress"]
    port: int
    label: str
    description: str
    cidr: str | None = None
    security_group: Any = None
    prefix_list: Any = None


def node_rules(
    *,
    node_sg: Any,
    lb_sg: Any,
    endpoint_sg: Any,
    s3_prefix_list: Any,
    allowed_cidrs: Sequence[str],
) -> list[Rule]:
    return [
        Rule(
            "ingress", VAULT_API_PORT, "api-from-lb", "Vault API from the load balancer", security_group=lb_sg
        ),
        Rule(
            "ingress",
            VAULT_API_PORT,
            "api-from-nodes",
            "Vault API between nodes: raft retry_join calls the API of the leader",
            security_group=node_sg,
        ),
        *[
            Rule(
                "ingress",
                VAULT_API_PORT,
                f"api-from-cidr-{index}",
                f"Vault API from allow-listed {cidr}",
                cidr=cidr,
            )
            for index, cidr in enumerate(allowed_cidrs)
        ],
        Rule(
            "ingress",
            VAULT_CLUSTER_PORT,
            "cluster-from-nodes",
            "Vault cluster traffic (raft, request forwarding) between nodes",
            security_group=node_sg,
        ),
        Rule(
            "egress",
            HTTPS_PORT,
            "https-to-endpoints",
            "AWS APIs (KMS, Secrets Manager, CloudWatch, SSM, STS, EC2) via VPC interface endpoints",
            security_group=endpoint_sg,
        ),
        Rule(
            "egress",
            HTTPS_PORT,
            "https-to-s3",
            "S3 via the gateway endpoint (snapshots, OS packages)",
            prefix_list=s3_prefix_list,
        ),
        Rule(
            "egress",
            HTTPS_PORT,
            "https-to-internet",
            "Vault release from releases.hashicorp.com (no fixed range) and OS updates, through NAT",
            cidr=ANYWHERE,
        ),
        Rule(
            "egress",
            VAULT_API_PORT,
            "api-to-nodes",
            "Vault API to other nodes (raft joins)",
            security_group=node_sg,
        ),
        Rule(
            "egress",
            VAULT_CLUSTER_PORT,
            "cluster-to-nodes",
            "Vault cluster traffic to other nodes",
            security_group=node_sg,
        ),
    ]


def load_balancer_rules(*, node_sg: Any, allowed_cidrs: Sequence[str]) -> list[Rule]:
    rules = []
    for index, cidr in enumerate(allowed_cidrs):
        rules += [
            Rule(
                "ingress",
                HTTPS_PORT,
                f"https-from-cidr-{index}",
                f"HTTPS from allow-listed {cidr}",
                cidr=cidr,
            ),
            Rule(
                "ingress",
                HTTP_PORT,
                f"http-from-cidr-{index}",
                f"HTTP from allow-listed {cidr}, only redirected to HTTPS",
                cidr=cidr,
            ),
            Rule(
                "ingress",
                BOOTSTRAP_PORT,
                f"bootstrap-from-cidr-{index}",
                f"Bootstrap listener (HTTPS) for the deploying machine from allow-listed {cidr}",
                cidr=cidr,
            ),
        ]
    rules.append(
        Rule(
            "egress",
            VAULT_API_PORT,
            "api-to-nodes",
            "Vault API on the nodes (traffic and health checks)",
            security_group=node_sg,
        )
    )
    return rules


def create_rules(prefix: str, security_group: aws.ec2.SecurityGroup, rules: Sequence[Rule]) -> None:
    for rule in rules:
        kwargs: dict[str, Any] = {
            "security_group_id": security_group.id,
            "description": rule.description,
            "ip_protocol": "tcp",
            "from_port": rule.port,
            "to_port": rule.port,
            "cidr_ipv4": rule.cidr,
            "referenced_security_group_id": rule.security_group,
            "prefix_list_id": rule.prefix_list,
            "tags": {"Name": f"{prefix}-{rule.label}"},
            "opts": pulumi.ResourceOptions(parent=security_group),
        }
        if rule.direction == "ingress":
            aws.vpc.SecurityGroupIngressRule(f"{prefix}-{rule.label}", **kwargs)
        else:
            aws.vpc.SecurityGroupEgressRule(f"{prefix}-{rule.label}", **kwargs)


@dataclass(frozen=True)
class VaultSecurityGroups:
    nodes: aws.ec2.SecurityGroup
    load_balancer: aws.ec2.SecurityGroup


def vault_security_groups(
    name: str,
    *,
    names: Names,
    vpc_id: pulumi.Input[str],
    endpoint_sg: pulumi.Input[str],
    aws_context: AwsContext,
    allowed_cidrs: Sequence[str],
    parent: pulumi.Resource,
) -> VaultSecurityGroups:
    def group(role: str, description: str) -> aws.ec2.SecurityGroup:
        return aws.ec2.SecurityGroup(
            f"{name}-{role}-sg",
            vpc_id=vpc_id,
            description=description,
            tags={"Name": names.resource(f"vault-{role}")},
            opts=pulumi.ResourceOptions(parent=parent),
        )

    nodes = group(
        "nodes", "Vault nodes: API from the load balancer and allow-list, cluster port between nodes"
    )
    lb = group("lb", "Vault load balancer: HTTPS (and HTTP redirect) from the allow-list")
    s3 = aws.ec2.get_managed_prefix_list_output(
        name=aws_context.service_name("s3"), opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    create_rules(
        f"{name}-nodes",
        nodes,
        node_rules(
            node_sg=nodes.id,
            lb_sg=lb.id,
            endpoint_sg=endpoint_sg,
            s3_prefix_list=s3.id,
            allowed_cidrs=allowed_cidrs,
        ),
    )
    create_rules(f"{name}-lb", lb, load_balancer_rules(node_sg=nodes.id, allowed_cidrs=allowed_cidrs))
    return VaultSecurityGroups(nodes=nodes, load_balancer=lb)
