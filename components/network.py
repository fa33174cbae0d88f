"""The VPC: public and private subnets per zone, NAT, flow logs, and private endpoints for AWS APIs.

Vault nodes live in the private subnets and reach KMS, Secrets Manager, CloudWatch, SSM and STS through
interface endpoints, so their unseal and telemetry traffic never leaves the VPC; S3 and DynamoDB are
reached through gateway endpoints. NAT gateways remain for the Vault release download and OS updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lib.component import Component
from components.lib.iam import assume_role_policy, document, from_source, statement, to_json

INTERFACE_ENDPOINT_SERVICES = (
    "ec2",
    "ec2messages",
    # The Redis AUTH rotation function changes the replication group's token through the ElastiCache API.
    "elasticache",
    "kms",
    "logs",
    "monitoring",
    # EventBridge Scheduler: the break-glass broker schedules each grant's revocation.
    "scheduler",
    "secretsmanager",
    "sns",
    "ssm",
    "ssmmessages",
    "sts",
)
HTTPS = 443
# What applications may reach inside the VPC: Vault through its load balancer and AWS APIs, the databases.
APPLICATION_PORTS = {443: "HTTPS to Vault and AWS APIs", 5432: "PostgreSQL", 6379: "Redis"}


@dataclass(frozen=True)
class NetworkArgs:
    """The network layout from the stack config, and the key that encrypts flow logs."""

    deployment: Deployment
    vpc_cidr: str
    availability_zones: Sequence[str]
    private_subnet_cidrs: Sequence[str]
    public_subnet_cidrs: Sequence[str]
    single_nat_gateway: bool
    flow_log_retention_days: int
    logs_key_arn: pulumi.Input[str]


class Network(Component):
    """VPC, subnets, routing, NAT, flow logs and VPC endpoints."""

    vpc: aws.ec2.Vpc
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    nat_gateways: list[aws.ec2.NatGateway]
    private_route_tables: list[aws.ec2.RouteTable]
    endpoint_security_group: aws.ec2.SecurityGroup
    application_security_group: aws.ec2.SecurityGroup
    flow_log_group: aws.cloudwatch.LogGroup
    default_routes: list[aws.ec2.Route]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Network", name, None, opts)
        self._base = name
        self._names = args.deployment.names
        self._zones = list(args.availability_zones)
        self.default_routes = []
        child = pulumi.ResourceOptions(parent=self)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": self._names.prefix},
            opts=child,
        )
        # Adopting the default security group with no rules strips AWS's allow-all defaults from it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            tags={"Name": self._names.resource("default-unused")},
            opts=child,
        )
        internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": self._names.prefix}, opts=child
        )
        self.public_subnets = self._subnets("public", args.availability_zones, args.public_subnet_cidrs)
        self.private_subnets = self._subnets("private", args.availability_zones, args.private_subnet_cidrs)
        self._public_routing(internet_gateway)
        self.nat_gateways = self._nat_gateways(args.single_nat_gateway, internet_gateway)
        self.private_route_tables = self._private_routing()
        self.flow_log_group = self._flow_logs(args)
        self.endpoint_security_group = self._endpoints(args)
        self.application_security_group = self._application_security_group(args)

        # Default routes are children of their route tables, so depending on the component alone does not
        # wait for them: what must reach the internet at boot (the Vault nodes) waits for `ready`.
        self.ready = [self, *self.default_routes]
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "natGatewayIds": [nat.id for nat in self.nat_gateways],
                "endpointSecurityGroupId": self.endpoint_security_group.id,
                "applicationSecurityGroupId": self.application_security_group.id,
            }
        )

    @property
    def public_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [subnet.id for subnet in self.public_subnets]

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [subnet.id for subnet in self.private_subnets]

    def _subnets(self, tier: str, zones: Sequence[str], blocks: Sequence[str]) -> list[aws.ec2.Subnet]:
        return [
            aws.ec2.Subnet(
                f"{self._base}-{tier}-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=block,
                availability_zone=zone,
                # Nothing gets a public address by default, not even in the public tier: only the NAT
                # gateways' Elastic IPs and an internet-facing load balancer are public.
                map_public_ip_on_launch=False,
                tags={"Name": self._names.resource(f"{tier}-{zone}"), "Tier": tier},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for zone, block in zip(zones, blocks, strict=True)
        ]

    def _route_table(
        self, label: str, default_route: dict[str, pulumi.Input[str]], subnets: dict[str, aws.ec2.Subnet]
    ) -> aws.ec2.RouteTable:
        """A route table with one default route (`gateway_id` or `nat_gateway_id`) for the given subnets."""
        table = aws.ec2.RouteTable(
            f"{self._base}-{label}-rt",
            vpc_id=self.vpc.id,
            tags={"Name": self._names.resource(label)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        route = aws.ec2.Route(
            f"{self._base}-{label}-default-route",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            opts=pulumi.ResourceOptions(parent=table),
            **default_route,
        )
        self.default_routes.append(route)
        for subnet_label, subnet in subnets.items():
            aws.ec2.RouteTableAssociation(
                f"{self._base}-{subnet_label}-rta",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=pulumi.ResourceOptions(parent=table),
            )
        return table

    def _public_routing(self, internet_gateway: aws.ec2.InternetGateway) -> None:
        subnets = {
            f"public-{zone}": subnet for zone, subnet in zip(self._zones, self.public_subnets, strict=True)
        }
        self._route_table("public", {"gateway_id": internet_gateway.id}, subnets)

    def _nat_gateways(
        self, single: bool, internet_gateway: aws.ec2.InternetGateway
    ) -> list[aws.ec2.NatGateway]:
        placements = list(zip(self._zones, self.public_subnets, strict=True))
        gateways = []
        for zone_name, subnet in placements[:1] if single else placements:
            address = aws.ec2.Eip(
                f"{self._base}-nat-eip-{zone_name}",
                domain="vpc",
                tags={"Name": self._names.resource(f"nat-{zone_name}")},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[internet_gateway]),
            )
            gateways.append(
                aws.ec2.NatGateway(
                    f"{self._base}-nat-{zone_name}",
                    allocation_id=address.allocation_id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags={"Name": self._names.resource(f"nat-{zone_name}")},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[internet_gateway]),
                )
            )
        return gateways

    def _private_routing(self) -> list[aws.ec2.RouteTable]:
        # Each private subnet routes through the NAT in its own zone, so losing a zone loses only its NAT.
        return [
            self._route_table(
                f"private-{zone}",
                {"nat_gateway_id": self.nat_gateways[index % len(self.nat_gateways)].id},
                {f"private-{zone}": subnet},
            )
            for index, (zone, subnet) in enumerate(zip(self._zones, self.private_subnets, strict=True))
        ]

    def _flow_logs(self, args: NetworkArgs) -> aws.cloudwatch.LogGroup:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{self._base}-flow-logs",
            name=self._names.log_group("vpc-flow-logs"),
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        ctx = args.deployment.aws
        flow_log_arn = ctx.arn("ec2", "vpc-flow-log/*")
        role = aws.iam.Role(
            f"{self._base}-flow-logs-role",
            description="Lets VPC Flow Logs write to its own log group",
            assume_role_policy=assume_role_policy(
                "vpc-flow-logs.amazonaws.com",
                condition=from_source(ctx.account_id, flow_log_arn),
            ),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._base}-flow-logs-policy",
            role=role.id,
            policy=to_json(
                document(
                    statement(
                        "WriteFlowLogs",
                        ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        [group.arn, pulumi.Output.concat(group.arn, ":log-stream:*")],
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        aws.ec2.FlowLog(
            f"{self._base}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": self._names.resource("vpc")},
            # Flow Logs checks the role can write when the flow log is created: its policy comes first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        return group

    def _endpoints(self, args: NetworkArgs) -> aws.ec2.SecurityGroup:
        child = pulumi.ResourceOptions(parent=self)
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{self._base}-endpoints-sg",
            vpc_id=self.vpc.id,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            tags={"Name": self._names.resource("endpoints")},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._base}-endpoints-https-in",
            security_group_id=endpoint_sg.id,
            description="HTTPS to AWS APIs from inside the VPC",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=args.vpc_cidr,
            opts=pulumi.ResourceOptions(parent=endpoint_sg),
        )
        aws.ec2.VpcEndpoint(
            f"{self._base}-s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=args.deployment.aws.service_name("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in self.private_route_tables],
            tags={"Name": self._names.resource("s3")},
            opts=child,
        )
        # The break-glass broker's requests table; functions allow HTTPS to its prefix list.
        self.dynamodb_endpoint = aws.ec2.VpcEndpoint(
            f"{self._base}-dynamodb-endpoint",
            vpc_id=self.vpc.id,
            service_name=args.deployment.aws.service_name("dynamodb"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in self.private_route_tables],
            tags={"Name": self._names.resource("dynamodb")},
            opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{self._base}-{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=args.deployment.aws.service_name(service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_sg.id],
                tags={"Name": self._names.resource(service)},
                opts=child,
            )
        return endpoint_sg

    def _application_security_group(self, args: NetworkArgs) -> aws.ec2.SecurityGroup:
        """The group application workloads join to reach Vault, PostgreSQL and Redis; it admits nothing."""
        group = aws.ec2.SecurityGroup(
            f"{self._base}-applications-sg",
            vpc_id=self.vpc.id,
            description="Applications using the platform: out to Vault, PostgreSQL, Redis and AWS APIs",
            tags={"Name": self._names.resource("applications")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for port, purpose in APPLICATION_PORTS.items():
            aws.vpc.SecurityGroupEgressRule(
                f"{self._base}-applications-{port}-out",
                security_group_id=group.id,
                description=f"{purpose} inside the VPC",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=args.vpc_cidr,
                opts=pulumi.ResourceOptions(parent=group),
            )
        return group
