"""What can be reached from outside: public addresses, open security groups, public buckets and databases,
and load balancers that speak anything but modern TLS."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from . import settings
from .encryption import BUCKET_TYPES
from .framework import (
    ADVISORY,
    CRITICAL,
    HIGH,
    MANDATORY,
    MEDIUM,
    Refs,
    ResourceContext,
    StackContext,
    StackView,
    label,
    resource_policy,
    stack_policy,
)
from .props import as_number, is_true, known_get, known_items, mapping, mappings, sequence, strings

CATEGORY = "exposure"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
TARGET_GROUP_TYPES = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
WORLD = ("0.0.0.0/0", "::/0")
ALL_PROTOCOLS = ("-1", "all")
PORT_NAMES = {22: "SSH", 8200: "Vault API", 8201: "Vault cluster", 5432: "PostgreSQL", 6379: "Redis"}
TLS_PROTOCOLS = ("HTTPS", "TLS")


def _public_ip(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if context.type == INSTANCE:
        if is_true(props.get("associatePublicIpAddress")):
            yield "instance gets a public IP (associatePublicIpAddress)"
        return
    for index, interface in enumerate(mappings(props.get("networkInterfaces"))):
        if is_true(interface.get("associatePublicIpAddress")):
            yield f"network interface {index} gets a public IP (associatePublicIpAddress)"


ec2_no_public_ip = resource_policy(
    "ec2-no-public-ip",
    "Vault nodes and other instances get no public IP address, from launch templates or instances.",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    check=_public_ip,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(
        checkov=("CKV_AWS_88",),
        awsguard=("ec2-instance-no-public-ip",),
        compliance=("aws-ec2-launch-template-disallow-public-ip",),
    ),
    remediation="Set associate_public_ip_address='false' on the launch template's network interfaces.",
    category=CATEGORY,
)


def _subnet_public_ip(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if is_true(props.get("mapPublicIpOnLaunch")):
        yield "subnet gives every instance launched in it a public IP (mapPublicIpOnLaunch)"


subnet_no_auto_public_ip = resource_policy(
    "subnet-no-auto-public-ip",
    "Subnets do not assign public IPs by default; only NAT gateways and load balancers are public.",
    types=(SUBNET,),
    check=_subnet_public_ip,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_130",)),
    remediation="Set map_public_ip_on_launch=False.",
    category=CATEGORY,
)


def _routes_to_internet(view: StackView, table: PolicyResource) -> bool:
    """True if a route table sends a default route to an internet gateway."""
    routes = [dict(known_items(route)) for route in mappings(known_get(table.props, "routes"))]
    for route_resource in view.referencing(table, "routeTableId", "aws:ec2/route:Route"):
        gateways = view.referenced(route_resource, "gatewayId")
        gateway = known_get(route_resource.props, "gatewayId")
        routes.append(
            {
                "cidrBlock": known_get(route_resource.props, "destinationCidrBlock"),
                "ipv6CidrBlock": known_get(route_resource.props, "destinationIpv6CidrBlock"),
                "gatewayId": "igw-"
                if any(g.resource_type == "aws:ec2/internetGateway:InternetGateway" for g in gateways)
                else gateway,
            }
        )
    return any(
        isinstance(route.get("gatewayId"), str)
        and str(route["gatewayId"]).startswith("igw-")
        and (route.get("cidrBlock") in WORLD or route.get("ipv6CidrBlock") in WORLD)
        for route in routes
    )


def _public_subnet_problem(view: StackView, subnet: PolicyResource) -> str | None:
    if is_true(subnet.props.get("mapPublicIpOnLaunch")):
        return "assigns public IPs"
    for association in view.referencing(
        subnet, "subnetId", "aws:ec2/routeTableAssociation:RouteTableAssociation"
    ):
        for table in view.referenced(association, "routeTableId"):
            if _routes_to_internet(view, table):
                return f"routes to an internet gateway through {table.name}"
    return None


def _autoscaling_subnets(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for group in view.of_type(AUTOSCALING_GROUP):
        for subnet in view.referenced(group, "vpcZoneIdentifiers"):
            problem = _public_subnet_problem(view, subnet)
            if problem:
                yield (
                    f"Auto Scaling group {label(group)} launches into subnet {subnet.name}, which {problem}",
                    group.urn,
                )


asg_private_subnets = stack_policy(
    "asg-private-subnets",
    "Auto Scaling groups (the Vault nodes) launch only into private subnets: none that assigns public IPs "
    "or routes 0.0.0.0/0 to an internet gateway.",
    check=_autoscaling_subnets,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(),
    remediation="Pass the private subnet ids (routed through NAT) as vpc_zone_identifiers.",
    category=CATEGORY,
)


def _covers(protocol: Any, from_port: Any, to_port: Any, ports: Iterable[int]) -> list[int]:
    """Which of `ports` a rule with this protocol and port range opens."""
    if str(protocol).lower() in ALL_PROTOCOLS:
        return list(ports)
    low, high = as_number(from_port), as_number(to_port)
    if low is None or high is None:
        return []
    return [port for port in ports if low <= port <= high]


def _open_ports(rule: Mapping[str, Any], cidrs: list[str], ports: list[int]) -> Iterable[str]:
    sources = [cidr for cidr in cidrs if cidr in WORLD]
    if not sources:
        return
    for port in _covers(
        rule.get("protocol", rule.get("ipProtocol")), rule.get("fromPort"), rule.get("toPort"), ports
    ):
        yield f"ingress from {', '.join(sources)} to port {port} ({PORT_NAMES.get(port, 'sensitive')})"


def _world_ingress(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    ports = [int(port) for port in sequence(context.config.get("ports"))]
    if context.type == SECURITY_GROUP:
        for rule in mappings(props.get("ingress")):
            yield from _open_ports(
                rule, strings(rule.get("cidrBlocks")) + strings(rule.get("ipv6CidrBlocks")), ports
            )
    elif context.type == INGRESS_RULE:
        yield from _open_ports(props, strings(props.get("cidrIpv4")) + strings(props.get("cidrIpv6")), ports)
    elif str(props.get("type")) == "ingress":
        yield from _open_ports(
            props, strings(props.get("cidrBlocks")) + strings(props.get("ipv6CidrBlocks")), ports
        )


sg_no_world_ingress = resource_policy(
    "sg-no-world-ingress",
    "No security group admits 0.0.0.0/0 or ::/0 to SSH (22), Vault (8200, 8201), PostgreSQL (5432) or "
    "Redis (6379), whether in inline rules, SecurityGroupIngressRule or SecurityGroupRule.",
    types=(SECURITY_GROUP, INGRESS_RULE, SECURITY_GROUP_RULE),
    check=_world_ingress,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_24", "CKV_AWS_277")),
    remediation="Admit these ports only from security groups (referenced_security_group_id) or VPC CIDRs.",
    category=CATEGORY,
    config={
        "ports": {"type": "array", "items": {"type": "integer"}, "default": list(settings.SENSITIVE_PORTS)}
    },
)


def _rule_descriptions(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if context.type == SECURITY_GROUP:
        if not props.get("description") or props.get("description") == "Managed by Pulumi":
            yield "security group has no description of its purpose"
        for direction in ("ingress", "egress"):
            for index, rule in enumerate(mappings(props.get(direction))):
                if not rule.get("description"):
                    yield f"{direction} rule {index} has no description"
    elif not props.get("description"):
        yield "rule has no description"


sg_rule_descriptions = resource_policy(
    "sg-rule-descriptions",
    "Security groups and their rules say what they are for (a reviewer reads why a port is open).",
    types=(SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE, SECURITY_GROUP_RULE),
    check=_rule_descriptions,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_23",), compliance=("aws-ec2-security-group-missing-desciption",)),
    remediation="Give the group and every rule a description.",
    category=CATEGORY,
)


def _rds_public(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if is_true(props.get("publiclyAccessible")):
        yield "database is publicly accessible"


rds_not_public = resource_policy(
    "rds-not-public",
    "RDS instances are not publicly accessible.",
    types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=_rds_public,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(
        checkov=("CKV_AWS_17",),
        awsguard=("rds-instance-public-access-check",),
        compliance=("aws-rds-instance-disallow-public-access",),
    ),
    remediation="Set publicly_accessible=False and use a private subnet group.",
    category=CATEGORY,
)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _public_access_blocks(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for bucket in view.of_type(*BUCKET_TYPES):
        blocks = view.referencing(bucket, "bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        if not blocks:
            yield f"bucket {label(bucket)} has no BucketPublicAccessBlock", bucket.urn
            continue
        if not any(all(is_true(block.props.get(flag)) for flag in PUBLIC_ACCESS_FLAGS) for block in blocks):
            missing = [f for f in PUBLIC_ACCESS_FLAGS if not any(is_true(b.props.get(f)) for b in blocks)]
            yield f"bucket {label(bucket)}'s public access block leaves off {', '.join(missing)}", bucket.urn


s3_public_access_block = stack_policy(
    "s3-public-access-block",
    "Every S3 bucket has a BucketPublicAccessBlock with all four settings on.",
    check=_public_access_blocks,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56")),
    remediation="Add an aws.s3.BucketPublicAccessBlock for the bucket with all four settings on.",
    category=CATEGORY,
)


def _listener_protocol(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    protocol = str(props.get("protocol") or "HTTP").upper()
    if protocol in TLS_PROTOCOLS:
        return
    port = as_number(props.get("port"))
    if (
        protocol == "TCP"
        and port is not None
        and int(port) in [int(p) for p in sequence(context.config.get("tcpPassthroughPorts"))]
    ):
        return
    actions = mappings(props.get("defaultActions"))
    redirects = actions and all(
        a.get("type") == "redirect" and str(mapping(a.get("redirect")).get("protocol")).upper() == "HTTPS"
        for a in actions
    )
    if protocol == "HTTP" and redirects:
        return
    yield f"{protocol} listener serves traffic in plaintext; use HTTPS, or make it a redirect to HTTPS"


lb_listener_https = resource_policy(
    "lb-listener-https",
    "Load balancer listeners speak HTTPS/TLS; an HTTP listener may only redirect to HTTPS.",
    types=LISTENER_TYPES,
    check=_listener_protocol,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(
        checkov=("CKV_AWS_2", "CKV2_AWS_20"),
        awsguard=("alb-http-to-https-redirection",),
        compliance=("aws-alb-listener-disallow-unencrypted-traffic",),
    ),
    remediation="Use protocol HTTPS with a certificate, or a default action redirecting to HTTPS (301).",
    category=CATEGORY,
    config={"tcpPassthroughPorts": {"type": "array", "items": {"type": "integer"}, "default": []}},
)


def _listener_tls_policy(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if str(props.get("protocol") or "").upper() not in TLS_PROTOCOLS:
        return
    policy = props.get("sslPolicy")
    pattern = str(context.config.get("allowedPattern") or "(?!)")
    if policy not in strings(context.config.get("allowedPolicies")) and not re.match(
        pattern, str(policy or "")
    ):
        shown = policy or "unset (AWS default ELBSecurityPolicy-2016-08 allows TLS 1.0)"
        yield f"TLS policy {shown} is not one of the TLS 1.2+ policies allowed"


lb_listener_tls_policy = resource_policy(
    "lb-listener-tls-policy",
    "HTTPS/TLS listeners use a security policy that allows only TLS 1.2 and 1.3.",
    types=LISTENER_TYPES,
    check=_listener_tls_policy,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_103",), compliance=("aws-alb-listener-configure-secure-tls",)),
    remediation="Set ssl_policy to ELBSecurityPolicy-TLS13-1-2-2021-06 (or another allowed policy).",
    category=CATEGORY,
    config={
        "allowedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.TLS12_POLICIES),
        },
        "allowedPattern": {"type": "string", "default": settings.TLS12_POLICY_PATTERN},
    },
)


def _is_application(props: Mapping[str, Any]) -> bool:
    return str(props.get("loadBalancerType") or "application") == "application"


def _drop_headers(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if _is_application(props) and not is_true(props.get("dropInvalidHeaderFields")):
        yield "application load balancer forwards malformed headers (dropInvalidHeaderFields is off)"


lb_drop_invalid_headers = resource_policy(
    "lb-drop-invalid-headers",
    "Application load balancers drop invalid HTTP header fields (request-smuggling defence).",
    types=LOAD_BALANCER_TYPES,
    check=_drop_headers,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_131",)),
    remediation="Set drop_invalid_header_fields=True.",
    category=CATEGORY,
)


def _target_protocol(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if str(props.get("targetType") or "instance") == "lambda":
        return
    protocol = str(props.get("protocol") or "").upper()
    if protocol not in TLS_PROTOCOLS:
        yield f"target group forwards to its targets over {protocol or 'an unset protocol'}, not TLS"
    health = str(mapping(props.get("healthCheck")).get("protocol") or "").upper()
    if health == "HTTP":
        yield "health checks go to the targets over plain HTTP"


lb_target_group_tls = resource_policy(
    "lb-target-group-tls",
    "Load balancer target groups reach their targets over TLS (Vault listens on 8200 with TLS only), "
    "health checks included.",
    types=TARGET_GROUP_TYPES,
    check=_target_protocol,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(),
    remediation="Use protocol HTTPS (ALB) or TLS (NLB) and an HTTPS health check.",
    category=CATEGORY,
)


def _access_logs(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    logs = mapping(props.get("accessLogs"))
    if not (is_true(logs.get("enabled")) and logs.get("bucket")):
        yield "load balancer writes no access logs"


lb_access_logs = resource_policy(
    "lb-access-logs",
    "Load balancers write access logs (who reached Vault, from where).",
    types=LOAD_BALANCER_TYPES,
    check=_access_logs,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(
        checkov=("CKV_AWS_91",),
        awsguard=("elb-logging-enabled",),
        compliance=("aws-alb-loadbalancer-enable-access-logging",),
    ),
    remediation="Set access_logs with enabled=True and the access-log bucket.",
    category=CATEGORY,
)


def _lambda_in_vpc(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not sequence(mapping(props.get("vpcConfig")).get("subnetIds")):
        yield "function runs outside the VPC (no vpcConfig subnets)"


lambda_in_vpc = resource_policy(
    "lambda-in-vpc",
    "Lambda functions run in the VPC's private subnets, so they reach Vault and AWS APIs privately.",
    types=("aws:lambda/function:Function",),
    check=_lambda_in_vpc,
    level=ADVISORY,
    severity=MEDIUM,
    refs=Refs(checkov=("CKV_AWS_117",)),
    remediation="Set vpc_config with the private subnet ids and a security group.",
    category=CATEGORY,
)

POLICIES = [
    ec2_no_public_ip,
    subnet_no_auto_public_ip,
    asg_private_subnets,
    sg_no_world_ingress,
    sg_rule_descriptions,
    rds_not_public,
    s3_public_access_block,
    lb_listener_https,
    lb_listener_tls_policy,
    lb_drop_invalid_headers,
    lb_target_group_tls,
    lb_access_logs,
    lambda_in_vpc,
]
