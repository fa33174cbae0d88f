"""Rules AWS enforces at the API that mocks would accept: checked over every recorded resource."""

import re

import pytest

STACKS = ("production", "dev")
# EC2's CreateSecurityGroup / rule descriptions: a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*
SG_DESCRIPTION = re.compile(r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}")
SG_TYPES = (
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
# Name limits of load balancers and target groups (32), ElastiCache replication groups (40), RDS (63),
# IAM roles (64) and S3 buckets (63).
NAME_LIMITS = {
    "aws:lb/loadBalancer:LoadBalancer": ("name", 32),
    "aws:lb/targetGroup:TargetGroup": ("name", 32),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", 40),
    "aws:rds/instance:Instance": ("identifier", 63),
    "aws:iam/role:Role": ("name", 64),
    "aws:s3/bucket:Bucket": ("bucket", 63),
}


@pytest.fixture(params=STACKS)
def recording(request):
    return request.getfixturevalue(request.param)


def test_security_group_descriptions_use_only_characters_ec2_accepts(recording):
    for resource in recording.resources:
        if resource.type in SG_TYPES:
            description = resource.inputs.get("description", "")
            assert SG_DESCRIPTION.fullmatch(description), (resource.name, description)


def test_physical_names_fit_aws_limits(recording):
    for resource in recording.resources:
        field, limit = NAME_LIMITS.get(resource.type, (None, 0))
        name = resource.outputs.get(field) if field else None
        if isinstance(name, str):
            assert len(name) <= limit, (resource.name, name)


def test_lambda_environments_fit_in_four_kilobytes(recording):
    for function in recording.of_type("aws:lambda/function:Function"):
        variables = (function.inputs.get("environment") or {}).get("variables") or {}
        assert sum(len(key) + len(str(value)) for key, value in variables.items()) < 4096, function.name
