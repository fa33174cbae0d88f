"""BreakGlassAccess in the plan: the production stack's table, broker, URL, people's roles, schedules and
alarm, their encryption and least-privilege documents, and the stack without it (dev)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.deployment import Names
from tests.support.iam_lint import findings, trust_findings
from tests.support.mocks import Recording, run_program

pytestmark = pytest.mark.slow
ACCOUNT = "123456789012"
PREFIX = "candlefish-production-break-glass"


def policy_of(recording: Recording, type_: str, name: str, field: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(recording.one(type_, name).inputs[field])
    return document


def test_the_requests_table_is_encrypted_recoverable_expiring_and_protected(production: Recording) -> None:
    table = production.one("aws:dynamodb/table:Table", "break-glass-requests").inputs
    key = production.one("aws:kms/key:Key", "break-glass-table-key")
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key.outputs["arn"]}
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["ttl"] == {"attributeName": "expires_record_at", "enabled": True}
    assert table["deletionProtectionEnabled"] is True
    assert key.inputs["enableKeyRotation"] is True
    key_policy = json.loads(key.inputs["policy"])
    use = key_policy["Statement"][1]
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == "dynamodb.us-east-1.amazonaws.com"
    broker = production.one("aws:iam/role:Role", "break-glass-broker-role").outputs["arn"]
    assert broker in use["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    accepted = {"PERMISSIONS_MANAGEMENT_ACTIONS": "key administration statement"}
    assert findings(key_policy, resource_policy=True, accepted=accepted) == []


def test_the_broker_sits_in_the_private_subnets_behind_an_iam_authenticated_url(
    production: Recording,
) -> None:
    function = production.one("aws:lambda/function:Function", "break-glass-broker").inputs
    assert function["vpcConfig"]["subnetIds"] and function["handler"].startswith(
        "lambdas.break_glass_broker."
    )
    # Production deploys the signed package of the archive it uploads (tests/test_code_signing.py).
    package = production.one("aws:s3/bucketObjectv2:BucketObjectv2", "break-glass-broker-package").inputs
    assert "lambdas/rotation/vault.py" in package["source"].assets
    variables = function["environment"]["variables"]
    assert variables["MIN_APPROVALS"] == "2" and variables["MAX_DURATION_SECONDS"] == "3600"
    assert json.loads(variables["PEOPLE"])["marcus"] == ["approver", "requester"]
    egress = production.one(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "break-glass-broker-dynamodb-out"
    )
    endpoint = production.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-dynamodb-endpoint")
    assert egress.inputs["prefixListId"] == endpoint.outputs["prefixListId"]
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    url = production.one("aws:lambda/functionUrl:FunctionUrl", "break-glass-url").inputs
    assert url["authorizationType"] == "AWS_IAM"
    assert not production.of_type("aws:lambda/permission:Permission") or all(
        p.inputs.get("functionUrlAuthType") != "NONE"
        for p in production.of_type("aws:lambda/permission:Permission")
    )


def test_the_broker_may_do_exactly_its_job(production: Recording) -> None:
    policy = policy_of(production, "aws:iam/rolePolicy:RolePolicy", "break-glass-broker-policy")
    actions = {
        action
        for item in policy["Statement"]
        for action in ([item["Action"]] if isinstance(item["Action"], str) else item["Action"])
    }
    assert actions == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
        "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*",
        "logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData", "sns:Publish",
        "scheduler:CreateSchedule", "scheduler:DeleteSchedule", "iam:PassRole",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords",  # every function is traced
        "sqs:SendMessage",  # its dead-letter queue: the sweeper's schedule invokes it asynchronously
    }  # fmt: skip
    by_sid = {item["Sid"]: item for item in policy["Statement"]}
    assert by_sid["OneShotRevocations"]["Resource"] == [
        f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/{PREFIX}/break-glass-revoke-*"
    ]
    assert by_sid["PassTheSchedulerRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    accepted = {"PERMISSIONS_MANAGEMENT_ACTIONS": "iam:PassRole of the scheduler role to Scheduler only"}
    assert findings(policy, accepted=accepted) == []


def test_each_person_has_an_mfa_role_that_only_reaches_the_broker(production: Recording) -> None:
    roles = {
        r.inputs["name"]: r
        for r in production.of_type("aws:iam/role:Role")
        if r.name.startswith("break-glass-person-")
    }
    names = Names("production")
    assert set(roles) == {names.break_glass_person_role(p) for p in ("elena", "marcus", "priya", "tomas")}
    assert set(roles) == {f"candlefish-production-bg-{p}" for p in ("elena", "marcus", "priya", "tomas")}
    marcus = roles[names.break_glass_person_role("marcus")]
    trust = json.loads(marcus.inputs["assumeRolePolicy"])
    [only] = trust["Statement"]
    assert only["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "StringEquals": {"sts:SourceIdentity": "marcus"},
    }
    assert only["Principal"]["AWS"] == [
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformTeam_0a1b2c3d4e5f6a7b"
    ]
    assert trust_findings(trust, marcus.outputs["arn"]) == []
    # No rights of its own: the broker function's resource policy lets it call the URL, and invoke the
    # function only through the URL (a direct Invoke would let the caller write the event).
    assert not [p for p in production.of_type("aws:iam/rolePolicy:RolePolicy") if "person-marcus" in p.name]
    permissions = {
        p.inputs["action"]: p.inputs
        for p in production.of_type("aws:lambda/permission:Permission")
        if p.name.startswith("break-glass-person-marcus-")
    }
    assert permissions["lambda:InvokeFunctionUrl"]["functionUrlAuthType"] == "AWS_IAM"
    assert permissions["lambda:InvokeFunction"]["invokedViaFunctionUrl"] is True
    assert {p["principal"] for p in permissions.values()} == {marcus.outputs["arn"]}


def test_revocations_are_scheduled_and_swept_and_a_sweep_pages(production: Recording) -> None:
    sweeper = production.one("aws:scheduler/schedule:Schedule", "break-glass-sweeper").inputs
    assert sweeper["scheduleExpression"] == "rate(5 minutes)"
    assert json.loads(sweeper["target"]["input"]) == {"action": "sweep"}
    scheduler_role = production.one("aws:iam/role:Role", "break-glass-scheduler-role")
    assert sweeper["target"]["roleArn"] == scheduler_role.outputs["arn"]
    trust = json.loads(scheduler_role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    invoke = policy_of(production, "aws:iam/rolePolicy:RolePolicy", "break-glass-scheduler-policy")
    assert [s["Action"] for s in invoke["Statement"]] == ["lambda:InvokeFunction"]
    alarm = production.one("aws:cloudwatch/metricAlarm:MetricAlarm", "break-glass-swept").inputs
    pages = production.one("aws:sns/topic:Topic", "alerting-pages").outputs["arn"]
    assert alarm["alarmActions"] == [pages] and alarm["namespace"] == "Candlefish/BreakGlass"
    events = production.one("aws:cloudwatch/logGroup:LogGroup", "break-glass-events").inputs
    assert events["retentionInDays"] >= 365 and events["kmsKeyId"]


def test_the_bootstrap_binds_the_broker_role_in_vault(production: Recording) -> None:
    bootstrap = production.one("pulumi-python:dynamic/candlefish:BootstrappedVault", "bootstrap-vault").inputs
    broker_role = production.one("aws:iam/role:Role", "break-glass-broker-role").outputs["arn"]
    assert bootstrap["break_glass"] == {"broker_role_arn": broker_role, "max_ttl": "3600s"}
    assert {"break-glass-broker", "break-glass-drill"} <= set(bootstrap["policies"])


def test_dev_has_no_break_glass_unless_enabled(dev: Recording) -> None:
    assert not [r for r in dev.resources if r.name.startswith("break-glass")]
    bootstrap = dev.one("pulumi-python:dynamic/candlefish:BootstrappedVault", "bootstrap-vault").inputs
    assert bootstrap.get("break_glass") is None
    people = {"ann": ["user/ann"], "ben": ["user/ben"], "cy": ["user/cy"]}
    enabled = run_program(
        "dev",
        overrides={
            "candlefish-secrets:breakGlass": {"enabled": True, "requesters": people, "approvers": people}
        },
    )
    table = enabled.one("aws:dynamodb/table:Table", "break-glass-requests").inputs
    assert table["deletionProtectionEnabled"] is False and table["pointInTimeRecovery"] == {"enabled": True}
    ann = enabled.one("aws:iam/role:Role", "break-glass-person-ann")
    assert json.loads(ann.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["AWS"] == [
        f"arn:aws:iam::{ACCOUNT}:user/ann"
    ]
