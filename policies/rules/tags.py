"""Every taggable resource carries the stack's required tags (who owns it, what it is for, which
environment): cost allocation and incident response read them, and the production-only rules decide
"production" from the Environment tag, so dropping it must not switch those rules off silently."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import settings
from .framework import MANDATORY, MEDIUM, Refs, ResourceContext, resource_policy
from .props import has_key, strings, tags_of

CATEGORY = "tags"
# Types this stack creates that take tags: a resource of these types with no `tags` input at all is a
# violation too (for other types the rule can only check the tags given). tests/policies check this list
# against pulumi_aws.
KNOWN_TAGGABLE = frozenset(
    {
        "aws:acm/certificate:Certificate",
        "aws:autoscaling/group:Group",
        "aws:cloudhsmv2/cluster:Cluster",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:ebs/volume:Volume",
        "aws:dynamodb/table:Table",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/eip:Eip",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/instance:Instance",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/placementGroup:PlacementGroup",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        "aws:kms/key:Key",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "aws:lambda/codeSigningConfig:CodeSigningConfig",
        "aws:lambda/function:Function",
        "aws:lb/listener:Listener",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lb/targetGroup:TargetGroup",
        "aws:rds/instance:Instance",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:scheduler/scheduleGroup:ScheduleGroup",
        "aws:secretsmanager/secret:Secret",
        "aws:signer/signingProfile:SigningProfile",
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    }
)


def _tags(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not context.type.startswith("aws:") or not (has_key(props, "tags") or context.type in KNOWN_TAGGABLE):
        return
    tags = tags_of(props)
    missing = [tag for tag in strings(context.config.get("requiredTags")) if not tags.get(tag)]
    if missing:
        yield f"missing required tags: {', '.join(missing)}"


required_tags = resource_policy(
    "required-tags",
    "Every taggable AWS resource carries Environment, Project, Component and DeployedBy.",
    types=None,
    check=_tags,
    level=MANDATORY,
    severity=MEDIUM,
    refs=Refs(),
    remediation="Keep the stack's tagging transformation (components/lib/tagging.py) registered before any "
    "resource; set the tags in Pulumi.<stack>.yaml.",
    category=CATEGORY,
    config={
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.REQUIRED_TAGS),
        }
    },
)

POLICIES = [required_tags]
