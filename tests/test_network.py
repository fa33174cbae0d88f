"""The Network component as the production and dev stacks record it."""

import json

from components.network import INTERFACE_ENDPOINT_SERVICES

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def subnets(recording, tier):
    return sorted(
        (r for r in recording.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["Tier"] == tier),
        key=lambda r: r.inputs["availabilityZone"],
    )


def test_vpc_has_dns_support_and_hostnames(production):
    vpc = production.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_one_public_and_one_private_subnet_per_zone(production):
    vpc_id = production.one("aws:ec2/vpc:Vpc").id
    private, public = subnets(production, "private"), subnets(production, "public")
    assert [(s.inputs["availabilityZone"], s.inputs["cidrBlock"]) for s in private] == list(
        zip(ZONES, ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"], strict=True)
    )
    assert [(s.inputs["availabilityZone"], s.inputs["cidrBlock"]) for s in public] == list(
        zip(ZONES, ["10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24"], strict=True)
    )
    assert all(s.inputs["vpcId"] == vpc_id for s in private + public)
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in private + public)


def test_production_has_a_nat_gateway_in_each_zones_public_subnet(production):
    public_by_id = {s.id: s.inputs["availabilityZone"] for s in subnets(production, "public")}
    nats = production.of_type("aws:ec2/natGateway:NatGateway")
    assert sorted(public_by_id[n.inputs["subnetId"]] for n in nats) == ZONES
    eips = {e.outputs["allocationId"] for e in production.of_type("aws:ec2/eip:Eip")}
    assert {n.inputs["allocationId"] for n in nats} == eips
    assert all(e.inputs["domain"] == "vpc" for e in production.of_type("aws:ec2/eip:Eip"))


def routes_by_table(recording):
    return {r.inputs["routeTableId"]: r.inputs for r in recording.of_type("aws:ec2/route:Route")}


def associations(recording):
    return {
        a.inputs["subnetId"]: a.inputs["routeTableId"]
        for a in recording.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    }


def test_each_private_subnet_routes_through_the_nat_in_its_own_zone(production):
    nat_zone = {
        n.id: {s.id: s.inputs["availabilityZone"] for s in subnets(production, "public")}[
            n.inputs["subnetId"]
        ]
        for n in production.of_type("aws:ec2/natGateway:NatGateway")
    }
    routes, tables = routes_by_table(production), associations(production)
    private_tables = set()
    for subnet in subnets(production, "private"):
        route = routes[tables[subnet.id]]
        assert route["destinationCidrBlock"] == "0.0.0.0/0"
        assert nat_zone[route["natGatewayId"]] == subnet.inputs["availabilityZone"]
        private_tables.add(tables[subnet.id])
    assert len(private_tables) == 3


def test_public_subnets_share_a_route_to_the_internet_gateway(production):
    igw = production.one("aws:ec2/internetGateway:InternetGateway")
    routes, tables = routes_by_table(production), associations(production)
    public_tables = {tables[s.id] for s in subnets(production, "public")}
    assert len(public_tables) == 1
    assert routes[public_tables.pop()]["gatewayId"] == igw.id


def test_dev_uses_a_single_nat_gateway_for_all_private_subnets(dev):
    nats = dev.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1
    routes, tables = routes_by_table(dev), associations(dev)
    assert {routes[tables[s.id]]["natGatewayId"] for s in subnets(dev, "private")} == {nats[0].id}


def test_default_security_group_is_adopted_with_no_rules(production):
    default = production.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == production.one("aws:ec2/vpc:Vpc").id
    assert not default.inputs.get("ingress")
    assert not default.inputs.get("egress")


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(production):
    flow_log = production.one("aws:ec2/flowLog:FlowLog")
    group = production.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    logs_key = production.one("aws:kms/key:Key", "keys-logs")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == production.one("aws:ec2/vpc:Vpc").id
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["kmsKeyId"] == logs_key.outputs["arn"]
    assert group.inputs["retentionInDays"] == 365


def test_flow_log_role_is_confined_to_the_account_and_its_log_group(production):
    role = production.one("aws:iam/role:Role", "network-flow-logs-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    policy = json.loads(
        production.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs-policy").inputs["policy"]
    )
    group_arn = production.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").outputs["arn"]
    resources = policy["Statement"][0]["Resource"]
    assert resources == [group_arn, f"{group_arn}:log-stream:*"]


def test_interface_endpoints_for_every_aws_api_vault_uses(production):
    endpoints = production.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    interface = {
        e.inputs["serviceName"].rsplit(".", 1)[1]: e
        for e in endpoints
        if e.inputs["vpcEndpointType"] == "Interface"
    }
    assert set(interface) == set(INTERFACE_ENDPOINT_SERVICES)
    assert {
        "kms",
        "secretsmanager",
        "logs",
        "ssm",
        "ssmmessages",
        "ec2messages",
        "sts",
        "ec2",
        "monitoring",
    } <= set(interface)
    private_ids = sorted(s.id for s in subnets(production, "private"))
    endpoint_sg = production.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg")
    for endpoint in interface.values():
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert sorted(endpoint.inputs["subnetIds"]) == private_ids
        assert endpoint.inputs["securityGroupIds"] == [endpoint_sg.id]
        assert endpoint.inputs["serviceName"].startswith("com.amazonaws.us-east-1.")


def test_s3_and_dynamodb_gateway_endpoints_serve_the_private_route_tables(production):
    gateway = [
        e
        for e in production.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    assert sorted(g.inputs["serviceName"] for g in gateway) == [
        "com.amazonaws.us-east-1.dynamodb",
        "com.amazonaws.us-east-1.s3",
    ]
    tables = associations(production)
    for endpoint in gateway:
        assert sorted(endpoint.inputs["routeTableIds"]) == sorted(
            tables[s.id] for s in subnets(production, "private")
        )


def test_endpoint_security_group_admits_only_https_from_the_vpc(production):
    endpoint_sg = production.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg")
    rules = [
        r
        for r in production.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == endpoint_sg.id
    ]
    assert [
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in rules
    ] == [("tcp", 443, 443, "10.0.0.0/16")]
    assert not endpoint_sg.inputs.get("ingress") and not endpoint_sg.inputs.get("egress")


def test_network_resources_are_children_of_the_network_component(production):
    network = production.one("candlefish:secrets:Network")
    inside = {r.urn for r in production.descendants_of(network)}
    for type_ in (
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/flowLog:FlowLog",
    ):
        assert all(r.urn in inside for r in production.of_type(type_)), type_


def test_application_security_group_admits_nothing_and_reaches_only_platform_ports(production):
    group = production.one("aws:ec2/securityGroup:SecurityGroup", "network-applications-sg")
    ingress = [
        r
        for r in production.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == group.id
    ]
    egress = sorted(
        (r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in production.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.inputs["securityGroupId"] == group.id
    )
    assert ingress == []
    assert egress == [(443, 443, "10.0.0.0/16"), (5432, 5432, "10.0.0.0/16"), (6379, 6379, "10.0.0.0/16")]
    assert production.outputs["applicationSecurityGroupId"] == group.id
