"""Pass/violate cases for the exposure rules."""

from tests.policies.cases_encryption import BUCKET, bucket
from tests.policies.support import PRODUCTION, UNKNOWN, Case, Res

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ASG = "aws:autoscaling/group:Group"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LISTENER = "aws:lb/listener:Listener"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ALL_BLOCKED = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


def routed_subnet(name: str, zone: str, target: Res, *, ipv6: bool = False) -> list[Res]:
    """A subnet with its own route table whose default route (IPv4, or IPv6 `::/0`) goes to `target`."""
    gateway_input = "gatewayId" if target.type.endswith("InternetGateway") else "natGatewayId"
    destination = {"destinationIpv6CidrBlock": "::/0"} if ipv6 else {"destinationCidrBlock": "0.0.0.0/0"}
    return [
        Res(SUBNET, name, {"availabilityZone": zone, "mapPublicIpOnLaunch": False}),
        Res(ROUTE_TABLE, f"{name}-rt"),
        Res(
            ROUTE,
            f"{name}-default",
            {**destination, gateway_input: UNKNOWN},
            {"routeTableId": [f"{name}-rt"], gateway_input: [target.name]},
        ),
        Res(ASSOCIATION, f"{name}-rta", {}, {"subnetId": [name], "routeTableId": [f"{name}-rt"]}),
    ]


IGW = Res("aws:ec2/internetGateway:InternetGateway", "igw")
NAT = Res("aws:ec2/natGateway:NatGateway", "nat")
NETWORK = [
    IGW,
    NAT,
    *routed_subnet("public-a", "us-east-1a", IGW),
    *routed_subnet("private-a", "us-east-1a", NAT),
]


def group_in(subnet: str) -> Res:
    return Res(ASG, "vault", {"minSize": 3, "maxSize": 3}, {"vpcZoneIdentifiers": [subnet]})


CASES = [
    Case(
        "ec2-no-public-ip",
        type="aws:ec2/launchTemplate:LaunchTemplate",
        good={"networkInterfaces": [{"associatePublicIpAddress": "false"}]},
        bad={"networkInterfaces": [{"associatePublicIpAddress": "true"}]},
        expect="network interface 0 gets a public IP",
    ),
    Case(
        "subnet-no-auto-public-ip",
        type=SUBNET,
        good={"mapPublicIpOnLaunch": False},
        bad={"mapPublicIpOnLaunch": True},
        expect="mapPublicIpOnLaunch",
    ),
    Case(
        "asg-private-subnets",
        good=[*NETWORK, group_in("private-a")],
        bad=[*NETWORK, group_in("public-a")],
        expect="subnet public-a, which routes to an internet gateway through public-a-rt",
    ),
    Case(
        "sg-no-world-ingress",
        type=INGRESS_RULE,
        good={"cidrIpv4": "10.0.0.0/16", "fromPort": 8200, "toPort": 8200, "ipProtocol": "tcp"},
        bad={"cidrIpv4": "0.0.0.0/0", "fromPort": 8200, "toPort": 8200, "ipProtocol": "tcp"},
        expect="ingress from 0.0.0.0/0 to port 8200 (Vault API)",
    ),
    Case(
        "sg-rule-descriptions",
        type="aws:ec2/securityGroup:SecurityGroup",
        good={
            "description": "Vault nodes",
            "ingress": [{"description": "Vault API from the LB", "fromPort": 8200}],
        },
        bad={"description": "Managed by Pulumi", "ingress": [{"fromPort": 8200}]},
        expect="ingress rule 0 has no description",
    ),
    Case(
        "rds-not-public",
        type="aws:rds/instance:Instance",
        good={"publiclyAccessible": False},
        bad={"publiclyAccessible": True},
        expect="publicly accessible",
    ),
    Case(
        "s3-public-access-block",
        good=[bucket("audit"), Res(PUBLIC_ACCESS_BLOCK, "audit-pab", ALL_BLOCKED, {"bucket": ["audit"]})],
        bad=[
            bucket("audit"),
            Res(
                PUBLIC_ACCESS_BLOCK,
                "audit-pab",
                {**ALL_BLOCKED, "restrictPublicBuckets": False},
                {"bucket": ["audit"]},
            ),
        ],
        expect="leaves off restrictPublicBuckets",
    ),
    Case(
        "lb-listener-https",
        type=LISTENER,
        good={
            "protocol": "HTTP",
            "port": 80,
            "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}],
        },
        bad={"protocol": "HTTP", "port": 80, "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}]},
        expect="HTTP listener serves traffic in plaintext",
    ),
    Case(
        "lb-listener-tls-policy",
        type=LISTENER,
        good={"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
        bad={"protocol": "HTTPS"},
        expect="ELBSecurityPolicy-2016-08 allows TLS 1.0",
    ),
    Case(
        "lb-not-internet-facing",
        type=LOAD_BALANCER,
        good={"internal": True, "tags": PRODUCTION},
        bad={"internal": False, "tags": PRODUCTION},
        expect="application load balancer is internet-facing (internal is not true): Vault's API",
    ),
    Case(
        "lb-drop-invalid-headers",
        type=LOAD_BALANCER,
        good={"loadBalancerType": "application", "dropInvalidHeaderFields": True},
        bad={"loadBalancerType": "application"},
        expect="dropInvalidHeaderFields is off",
    ),
    Case(
        "lb-target-group-tls",
        type="aws:lb/targetGroup:TargetGroup",
        good={
            "protocol": "HTTPS",
            "port": 8200,
            "healthCheck": {"protocol": "HTTPS", "path": "/v1/sys/health"},
        },
        bad={"protocol": "HTTP", "port": 8200, "healthCheck": {"protocol": "HTTP"}},
        expect="over HTTP, not TLS",
    ),
    Case(
        "lb-access-logs",
        type=LOAD_BALANCER,
        good={"accessLogs": {"bucket": "lb-logs-b", "enabled": True}},
        bad={"accessLogs": {"bucket": "lb-logs-b", "enabled": False}},
        expect="writes no access logs",
    ),
    Case(
        "lambda-in-vpc",
        type="aws:lambda/function:Function",
        good={"vpcConfig": {"subnetIds": ["subnet-0a"], "securityGroupIds": ["sg-0a"]}},
        bad={"runtime": "python3.12"},
        expect="runs outside the VPC",
    ),
]

__all__ = ["BUCKET", "CASES", "MORE_CASES"]

# More cases of the same rules, each breaking one other condition (tests/policies/test_rule_cases.py).
MORE_CASES = [
    Case(
        "asg-private-subnets",
        good=[*NETWORK, group_in("private-a")],
        # An IPv6 default route to the internet gateway makes a subnet just as public.
        bad=[*NETWORK, *routed_subnet("public6-a", "us-east-1a", IGW, ipv6=True), group_in("public6-a")],
        expect="subnet public6-a, which routes to an internet gateway through public6-a-rt",
    ),
]
