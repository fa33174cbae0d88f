"""Single-condition cases for the mandatory exposure rules.

Sensitive ports are the platform's own: SSH 22, Vault's API 8200 and cluster port 8201, PostgreSQL 5432,
Redis 6379; the world is 0.0.0.0/0 and ::/0. A port range opens a port when from <= port <= to, so each
port is tried at both ends of a range and one past them.
"""

from __future__ import annotations

from tests.policies.conditions import REMOVE, Condition

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LISTENER = "aws:lb/listener:Listener"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TLS13 = "ELBSecurityPolicy-TLS13-1-2-2021-06"

PRIVATE_RULE = {"protocol": "tcp", "fromPort": 8200, "toPort": 8200, "cidrBlocks": ["10.0.0.0/16"]}
HTTPS_LISTENER = {"protocol": "HTTPS", "port": 443, "sslPolicy": TLS13}
REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
FORWARD = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/v/1"}]


def world_rule(from_port: int, to_port: int, protocol: str = "tcp") -> dict[str, object]:
    return {"protocol": protocol, "fromPort": from_port, "toPort": to_port, "cidrBlocks": ["0.0.0.0/0"]}


EXPOSURE = [
    *(
        Condition("ec2-no-public-ip", INSTANCE, {"associatePublicIpAddress": False}, c, m)
        for c, m in [
            ({"associatePublicIpAddress": True}, "instance gets a public IP"),
            ({"associatePublicIpAddress": "true"}, "instance gets a public IP"),
            ({"associatePublicIpAddress": REMOVE}, None),
        ]
    ),
    *(
        Condition(
            "ec2-no-public-ip",
            LAUNCH_TEMPLATE,
            {"networkInterfaces": [{"associatePublicIpAddress": "false"}, {"deviceIndex": 1}]},
            c,
            m,
        )
        for c, m in [
            (
                {
                    "networkInterfaces": [
                        {"associatePublicIpAddress": "false"},
                        {"associatePublicIpAddress": "true"},
                    ]
                },
                "network interface 1 gets a public IP",
            ),
            (
                {"networkInterfaces": [{"associatePublicIpAddress": "true"}]},
                "network interface 0 gets a public IP",
            ),
        ]
    ),
    *(
        Condition("subnet-no-auto-public-ip", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False}, c, m)
        for c, m in [
            ({"mapPublicIpOnLaunch": True}, "subnet gives every instance launched in it a public IP"),
            ({"mapPublicIpOnLaunch": REMOVE}, None),  # AWS's default for a subnet is false
        ]
    ),
    *(
        Condition("sg-no-world-ingress", SECURITY_GROUP, {"ingress": [PRIVATE_RULE]}, {"ingress": [rule]}, m)
        for rule, m in [
            (world_rule(22, 22), "ingress from 0.0.0.0/0 to port 22 (SSH)"),
            (world_rule(8200, 8200), "ingress from 0.0.0.0/0 to port 8200 (Vault API)"),
            (world_rule(8201, 8300), "ingress from 0.0.0.0/0 to port 8201 (Vault cluster)"),
            (world_rule(5000, 5432), "ingress from 0.0.0.0/0 to port 5432 (PostgreSQL)"),
            (world_rule(6379, 6379), "ingress from 0.0.0.0/0 to port 6379 (Redis)"),
            (world_rule(23, 5431), None),  # between SSH and PostgreSQL: nothing sensitive
            (world_rule(5433, 6378), None),
            (world_rule(443, 443), None),  # the load balancer's HTTPS
            (
                world_rule(0, 0, "-1"),  # every protocol, every port
                tuple(f"ingress from 0.0.0.0/0 to port {port}" for port in (22, 8200, 8201, 5432, 6379)),
            ),
            (
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]},
                "ingress from ::/0 to port 22 (SSH)",
            ),
            ({"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/1"]}, None),
        ]
    ),
    *(
        Condition(
            "sg-no-world-ingress",
            INGRESS_RULE,
            {"ipProtocol": "tcp", "fromPort": 8200, "toPort": 8200, "cidrIpv4": "10.0.0.0/16"},
            c,
            m,
        )
        for c, m in [
            ({"cidrIpv4": "0.0.0.0/0"}, "ingress from 0.0.0.0/0 to port 8200 (Vault API)"),
            ({"cidrIpv4": REMOVE, "cidrIpv6": "::/0"}, "ingress from ::/0 to port 8200 (Vault API)"),
            (
                {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "-1", "fromPort": REMOVE, "toPort": REMOVE},
                tuple(f"ingress from 0.0.0.0/0 to port {port}" for port in (22, 8200, 8201, 5432, 6379)),
            ),
        ]
    ),
    *(
        Condition("sg-no-world-ingress", SECURITY_GROUP_RULE, {"type": "ingress", **PRIVATE_RULE}, c, m)
        for c, m in [
            ({"cidrBlocks": ["0.0.0.0/0"]}, "ingress from 0.0.0.0/0 to port 8200 (Vault API)"),
            ({"cidrBlocks": ["0.0.0.0/0"], "type": "egress"}, None),  # egress opens nothing to the world
            ({"ipv6CidrBlocks": ["::/0"]}, "ingress from ::/0 to port 8200 (Vault API)"),
        ]
    ),
    *(
        Condition("rds-not-public", "aws:rds/instance:Instance", {"publiclyAccessible": False}, c, m)
        for c, m in [
            ({"publiclyAccessible": True}, "database is publicly accessible"),
            ({"publiclyAccessible": REMOVE}, None),
        ]
    ),
    *(
        Condition("lb-listener-https", LISTENER, HTTPS_LISTENER, c, m)
        for c, m in [
            (
                {"protocol": "HTTP", "port": 80, "sslPolicy": REMOVE},
                "HTTP listener serves traffic in plaintext",
            ),
            ({"protocol": REMOVE, "sslPolicy": REMOVE}, "HTTP listener serves traffic in plaintext"),
            ({"protocol": "HTTP", "sslPolicy": REMOVE, "defaultActions": REDIRECT}, None),
            (
                {"protocol": "HTTP", "sslPolicy": REMOVE, "defaultActions": [*REDIRECT, *FORWARD]},
                "HTTP listener serves traffic in plaintext",
            ),
            (
                {
                    "protocol": "HTTP",
                    "sslPolicy": REMOVE,
                    "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTP"}}],
                },
                "HTTP listener serves traffic in plaintext",
            ),
            (
                {"protocol": "TCP", "port": 8200, "sslPolicy": REMOVE},
                "TCP listener serves traffic in plaintext",
            ),
            ({"protocol": "TLS", "port": 8200}, None),
        ]
    ),
    Condition(
        "lb-listener-https",
        LISTENER,
        HTTPS_LISTENER,
        {"protocol": "TCP", "port": 8200, "sslPolicy": REMOVE},
        None,
        config={"tcpPassthroughPorts": [8200]},
    ),
    Condition(
        "lb-listener-https",
        LISTENER,
        HTTPS_LISTENER,
        {"protocol": "TCP", "port": 8201, "sslPolicy": REMOVE},
        "TCP listener serves traffic in plaintext",
        config={"tcpPassthroughPorts": [8200]},
    ),
    *(
        Condition("lb-listener-tls-policy", LISTENER, HTTPS_LISTENER, c, m)
        for c, m in [
            (
                {"sslPolicy": "ELBSecurityPolicy-2016-08"},
                "TLS policy ELBSecurityPolicy-2016-08 is not one of the TLS 1.2+",
            ),
            (
                {"sslPolicy": REMOVE},
                "TLS policy unset (AWS default ELBSecurityPolicy-2016-08 allows TLS 1.0)",
            ),
            (
                {"sslPolicy": "ELBSecurityPolicy-TLS-1-1-2017-01"},
                "TLS policy ELBSecurityPolicy-TLS-1-1-2017-01 is not",
            ),
            ({"sslPolicy": "ELBSecurityPolicy-TLS-1-2-Ext-2018-06"}, None),
            ({"sslPolicy": "ELBSecurityPolicy-FS-1-2-Res-2020-10"}, None),
            ({"protocol": "TLS"}, None),
            (
                {"protocol": "HTTP", "sslPolicy": REMOVE, "defaultActions": REDIRECT},
                None,
            ),  # no TLS, no policy
        ]
    ),
    *(
        Condition("lb-drop-invalid-headers", LOAD_BALANCER, {"dropInvalidHeaderFields": True}, c, m)
        for c, m in [
            ({"dropInvalidHeaderFields": False}, "application load balancer forwards malformed headers"),
            ({"dropInvalidHeaderFields": REMOVE}, "application load balancer forwards malformed headers"),
            (
                {"dropInvalidHeaderFields": REMOVE, "loadBalancerType": "network"},
                None,
            ),  # no HTTP headers at L4
        ]
    ),
    *(
        Condition(
            "lb-target-group-tls",
            TARGET_GROUP,
            {"protocol": "HTTPS", "healthCheck": {"protocol": "HTTPS"}},
            c,
            m,
        )
        for c, m in [
            ({"protocol": "HTTP"}, "target group forwards to its targets over HTTP, not TLS"),
            ({"protocol": REMOVE}, "target group forwards to its targets over an unset protocol, not TLS"),
            ({"healthCheck.protocol": "HTTP"}, "health checks go to the targets over plain HTTP"),
            ({"protocol": "TLS", "healthCheck.protocol": "HTTPS"}, None),
            ({"protocol": REMOVE, "targetType": "lambda"}, None),  # a Lambda target has no protocol
        ]
    ),
]
