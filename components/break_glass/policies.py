"""The break-glass IAM and KMS documents as plain data (parliament lints them; tests read them).

- `person_trust`: a person's own role may be assumed only by that person's principals, only with MFA; a
  shared role principal (an Identity Center permission set) only by sessions whose source identity is the
  person, which STS lets nobody change once an identity provider has set it.
- `broker_statements`: the broker reads and writes its table, writes its event log, pages, publishes the
  sweeper metric, creates and deletes its own one-shot schedules and passes the scheduler role to them.
- `table_key_policy`: the table's key, usable only through DynamoDB by the broker.
- `scheduler_trust`: EventBridge Scheduler, for this account's schedules only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.deployment import AwsContext
from components.lib.iam import concat, document, statement
from components.lib.key_policies import ADMIN_ACTIONS
from lambdas.break_glass_broker import METRIC_NAMESPACE
from lambdas.break_glass_broker.broker import schedule_name

MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
KEY_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"]


def principal_arn(principal: str, context: AwsContext) -> Any:
    """`user/<name>` or `role/<path/name>` in the stack's account, or a full ARN as given."""
    if principal.startswith("arn:"):
        return principal
    return context.arn("iam", principal, region=False)


def person_trust(person: str, principals: Sequence[str], context: AwsContext) -> dict[str, Any]:
    """Only `person`'s principals, with MFA, and only as `person` (their source identity): their own IAM user
    sets it when assuming the role, an identity provider sets it for a shared role's sessions."""
    return document(
        statement(
            "OnlyThisPersonWithMfa",
            ["sts:AssumeRole", "sts:SetSourceIdentity"],
            principal={"AWS": [principal_arn(principal, context) for principal in principals]},
            resources=None,
            condition={**MFA, "StringEquals": {"sts:SourceIdentity": person}},
        )
    )


def broker_statements(
    *,
    table_arn: pulumi.Input[str],
    table_key_arn: pulumi.Input[str],
    event_log_group_arn: pulumi.Input[str],
    schedule_group: str,
    scheduler_role_arn: pulumi.Input[str],
    context: AwsContext,
) -> list[dict[str, Any]]:
    schedules = context.arn("scheduler", f"schedule/{schedule_group}/{schedule_name('*')}")
    return [
        statement("RequestsTable", TABLE_ACTIONS, [table_arn, concat(table_arn, "/index/*")]),
        statement("RequestsTableKey", KEY_USE, [table_key_arn], condition=_via(context, "dynamodb")),
        statement(
            "RecordEvents", ["logs:CreateLogStream", "logs:PutLogEvents"], [concat(event_log_group_arn, ":*")]
        ),
        statement(
            "SweeperMetric",
            ["cloudwatch:PutMetricData"],
            "*",
            condition={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        ),
        statement(
            "OneShotRevocations", ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"], [schedules]
        ),
        statement(
            "PassTheSchedulerRole",
            ["iam:PassRole"],
            [scheduler_role_arn],
            condition={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        ),
    ]


def table_key_policy(
    broker_role_arn: pulumi.Input[str], deployer_role_arn: pulumi.Input[str], context: AwsContext
) -> dict[str, Any]:
    """The account administers the key; only the broker and the deployer (who creates the table, and may
    restore it) use it, and only through DynamoDB in this region."""
    return document(
        statement("KeyAdministration", ADMIN_ACTIONS, "*", principal={"AWS": context.account_root()}),
        statement(
            "BrokerAndDeployerThroughDynamoDb",
            [*KEY_USE, "kms:CreateGrant"],
            "*",
            principal={"AWS": context.account_root()},
            condition={
                "StringEquals": {
                    "kms:ViaService": f"dynamodb.{context.region}.amazonaws.com",
                    "kms:CallerAccount": context.account_id,
                },
                "ArnEquals": {"aws:PrincipalArn": [broker_role_arn, deployer_role_arn]},
            },
        ),
    )


def scheduler_trust(context: AwsContext) -> dict[str, Any]:
    return document(
        statement(
            "EventBridgeSchedulerOfThisAccount",
            ["sts:AssumeRole"],
            principal={"Service": "scheduler.amazonaws.com"},
            resources=None,
            condition={"StringEquals": {"aws:SourceAccount": context.account_id}},
        )
    )


def _via(context: AwsContext, service: str) -> dict[str, Any]:
    return {"StringEquals": {"kms:ViaService": f"{service}.{context.region}.amazonaws.com"}}
