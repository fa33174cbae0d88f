"""AWS details a review found: permissions that name what may use them, ARNs in the stack's partition,
creation order AWS checks, and log retention in production."""

import json
import re
from pathlib import Path

import pytest

from components.catalog.rotation import SecretRotationFunction, SecretRotationFunctionArgs
from components.deployment import AwsContext, Deployment
from tests.support.mocks import ROOT, run_program, run_under_mocks

pytestmark = pytest.mark.slow
ACCOUNT = "123456789012"
REGION = "cn-north-1"


def rotation_in_china() -> None:
    """The rotation function in the aws-cn partition, where an `arn:aws:` literal would name nothing."""
    SecretRotationFunction(
        "rotation",
        SecretRotationFunctionArgs(
            deployment=Deployment(
                environment="production",
                production=True,
                aws=AwsContext(ACCOUNT, "aws-cn", REGION),
                vault_nodes=5,
            ),
            vpc_id="vpc-0example",
            vpc_cidr="10.0.0.0/16",
            private_subnet_ids=["subnet-0a", "subnet-0b"],
            logs_key_arn=f"arn:aws-cn:kms:{REGION}:{ACCOUNT}:key/logs",
            log_retention_days=365,
            vault_address="https://vault.internal.example",
            vault_ca_pem="example-ca",
            vault_server_name="vault.production.candlefish.internal",
            alerts_topic_arn=f"arn:aws-cn:sns:{REGION}:{ACCOUNT}:alerts",
            notifications_key_arn=f"arn:aws-cn:kms:{REGION}:{ACCOUNT}:key/notifications",
        ),
    )


@pytest.fixture(scope="module")
def china():
    return run_under_mocks(rotation_in_china, stack="production", region=REGION)


def test_secrets_manager_may_invoke_the_rotation_function_only_for_this_environments_secrets(china):
    permission = china.one("aws:lambda/permission:Permission").inputs
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["sourceAccount"] == ACCOUNT
    assert (
        permission["sourceArn"]
        == f"arn:aws-cn:secretsmanager:{REGION}:{ACCOUNT}:secret:candlefish/production/*"
    )


def test_the_vpc_access_policy_is_named_in_the_stacks_partition(china):
    attachment = china.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert (
        attachment["policyArn"] == "arn:aws-cn:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    )


def test_no_component_writes_the_commercial_partition_literally():
    """ARNs are built from aws.get_partition (AwsContext), never from an `arn:aws:` literal."""
    sources = [*Path(ROOT, "components").rglob("*.py"), *Path(ROOT, "providers").glob("*.py")]
    found = [str(path) for path in sources if re.search(r"[\"']arn:aws:", path.read_text())]
    assert found == []


def test_the_flow_log_is_created_after_its_roles_policy(production):
    flow_log = production.one("aws:ec2/flowLog:FlowLog")
    policy = production.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs-policy")
    assert policy.urn in flow_log.dependencies


def test_production_keeps_vault_server_and_rotation_logs_a_year(production):
    groups = {
        g.inputs["name"]: g.inputs["retentionInDays"]
        for g in production.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    assert groups["/candlefish/production/vault/server"] >= 365
    assert groups["/aws/lambda/candlefish-production-secret-rotation"] >= 365


@pytest.fixture(scope="module")
def production():
    return run_program("production")


def test_every_function_is_traced_and_has_reserved_concurrency(production):
    functions = production.of_type("aws:lambda/function:Function")
    assert functions
    for function in functions:
        assert function.inputs["tracingConfig"] == {"mode": "Active"}, function.name
        assert 1 <= function.inputs["reservedConcurrentExecutions"] <= 10, function.name
        policy = production.one("aws:iam/rolePolicy:RolePolicy", f"{function.name}-policy")
        sids = {s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]}
        assert "SendTraces" in sids, function.name
