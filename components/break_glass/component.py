"""`BreakGlassAccess`: emergency access to Vault with a justification, two approvals and automatic revocation.

- a DynamoDB table (its own KMS key, point-in-time recovery, TTL on `expires_record_at`, deletion
  protection in production) holding requests and their events;
- the broker Lambda in the private subnets (it reaches Vault through the internal load balancer and logs
  in with AWS IAM auth to the `break-glass-broker` role) behind a function URL with AWS_IAM auth;
- one role per listed person, which only that person's principals may assume, with MFA, and which may
  call the broker's URL and nothing else;
- a KMS-encrypted, dedicated event log group (kept a year or more in production);
- an EventBridge Scheduler group for the one-shot revocations, a role Scheduler uses to invoke the broker,
  the sweeper schedule every five minutes, and an alarm that pages when the sweeper had to revoke.
The Vault side (token roles, the broker's auth role and policies) is written by the Vault bootstrap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alerting import publish_statements
from components.break_glass import policies
from components.config.break_glass import BreakGlassConfig
from components.deployment import Deployment
from components.lambda_function import (
    ROOT,
    CodeSigning,
    FunctionSpec,
    VpcPlacement,
    https_within_vpc,
    logged_function,
)
from components.lib.component import Component
from components.lib.iam import assume_role_policy, document, statement, to_json
from lambdas.break_glass_broker import METRIC_NAMESPACE, SWEPT_METRIC
from lambdas.break_glass_broker.store import STATUS_INDEX

SWEEP_EVERY = "rate(5 minutes)"
KEY_DELETION_DAYS = 30


@dataclass(frozen=True)
class BreakGlassAccessArgs:
    """Who may break the glass and how (the config), where the broker runs, and whom it pages."""

    deployment: Deployment
    settings: BreakGlassConfig
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    # The DynamoDB gateway endpoint's prefix list: the broker reaches its table through it.
    dynamodb_prefix_list_id: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    vault_address: pulumi.Input[str]
    vault_ca_pem: pulumi.Input[str]
    vault_server_name: str
    pages_topic_arn: pulumi.Input[str]
    notifications_key_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    # The customer-managed key for function environments and dead-letter queues.
    functions_key_arn: pulumi.Input[str] | None = None
    # Deploy the function from a package signed by the stack's Signer profile (lambdaCodeSigning).
    code_signing: CodeSigning | None = None


class BreakGlassAccess(Component):
    table: aws.dynamodb.Table
    table_key: aws.kms.Key
    event_log_group: aws.cloudwatch.LogGroup
    function: aws.lambda_.Function
    broker_role: aws.iam.Role
    url: aws.lambda_.FunctionUrl
    person_roles: Mapping[str, aws.iam.Role]

    def __init__(
        self, name: str, args: BreakGlassAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:BreakGlassAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names, ctx = args.deployment.names, args.deployment.aws
        # The revocation schedules' group; the broker schedules into it by name.
        group = names.resource("break-glass")
        # The broker's role exists first (empty of rights) so the table's key policy can name it.
        self.broker_role = aws.iam.Role(
            f"{name}-broker-role",
            name=names.resource("break-glass-broker"),
            description="The break-glass broker Lambda: the only holder of the right to mint break-glass "
            "tokens",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=child,
        )
        self.table_key = aws.kms.Key(
            f"{name}-table-key",
            description="Break-glass requests table",
            enable_key_rotation=True,
            tags={"KeyPurpose": "break-glass-requests"},
            deletion_window_in_days=KEY_DELETION_DAYS,
            policy=to_json(policies.table_key_policy(self.broker_role.arn, args.deployer_role_arn, ctx)),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-table-key-alias",
            name=names.kms_alias("break-glass-requests"),
            target_key_id=self.table_key.key_id,
            opts=pulumi.ResourceOptions(parent=self.table_key),
        )
        self.table = aws.dynamodb.Table(
            f"{name}-requests",
            name=names.resource("break-glass-requests"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="request_id",
            range_key="sk",
            attributes=[
                {"name": "request_id", "type": "S"},
                {"name": "sk", "type": "S"},
                {"name": "status", "type": "S"},
                {"name": "created_at", "type": "N"},
            ],
            global_secondary_indexes=[
                {
                    "name": STATUS_INDEX,
                    "hash_key": "status",
                    "range_key": "created_at",
                    "projection_type": "ALL",
                }
            ],
            server_side_encryption={"enabled": True, "kms_key_arn": self.table_key.arn},
            point_in_time_recovery={"enabled": True},
            ttl={"attribute_name": "expires_record_at", "enabled": True},
            deletion_protection_enabled=args.deployment.deletion_protection,
            tags={"Name": names.resource("break-glass-requests")},
            opts=child,
        )
        self.event_log_group = aws.cloudwatch.LogGroup(
            f"{name}-events",
            name=names.log_group("break-glass/events"),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        schedule_group = aws.scheduler.ScheduleGroup(f"{name}-schedules", name=group, opts=child)
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            name=names.resource("break-glass-scheduler"),
            description="EventBridge Scheduler invoking the break-glass broker (revocations, sweeper)",
            assume_role_policy=to_json(policies.scheduler_trust(ctx)),
            opts=child,
        )
        security_group = https_within_vpc(
            f"{name}-broker",
            vpc_id=args.vpc_id,
            vpc_cidr=args.vpc_cidr,
            name_tag=names.resource("break-glass-broker"),
            purpose="Break-glass broker: HTTPS to VPC endpoints and the Vault load balancer only",
            egress_description="HTTPS to the AWS API endpoints and the Vault load balancer inside the VPC",
            parent=self,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-broker-dynamodb-out",
            security_group_id=security_group.id,
            description="HTTPS to DynamoDB through the VPC gateway endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=args.dynamodb_prefix_list_id,
            opts=pulumi.ResourceOptions(parent=security_group),
        )
        made = logged_function(
            f"{name}-broker",
            FunctionSpec(
                asynchronous=True,
                function_name=names.resource("break-glass-broker"),
                package="break_glass_broker",
                description="Break-glass broker: requests, approvals, wrapped short-lived Vault tokens",
                statements=[
                    *policies.broker_statements(
                        table_arn=self.table.arn,
                        table_key_arn=self.table_key.arn,
                        event_log_group_arn=self.event_log_group.arn,
                        schedule_group=group,
                        scheduler_role_arn=scheduler_role.arn,
                        context=ctx,
                    ),
                    *publish_statements([args.pages_topic_arn], args.notifications_key_arn, ctx),
                ],
                environment=self._environment(args, group, scheduler_role.arn),
                # The broker speaks to Vault with the rotation function's small HTTP client.
                extra_files={
                    f"lambdas/rotation/{file}": pulumi.FileAsset(str(ROOT / "lambdas" / "rotation" / file))
                    for file in ("__init__.py", "vault.py")
                },
                vpc=VpcPlacement(args.private_subnet_ids, [security_group.id], ctx.partition),
                timeout=60,
                memory_size=256,
            ),
            logs_key_arn=args.logs_key_arn,
            functions_key_arn=args.functions_key_arn,
            code_signing=args.code_signing,
            retention_days=args.log_retention_days,
            parent=self,
            role=self.broker_role,
        )
        self.function = made.function
        self.url = aws.lambda_.FunctionUrl(
            f"{name}-url",
            function_name=self.function.name,
            authorization_type="AWS_IAM",
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=to_json(
                document(statement("InvokeBroker", ["lambda:InvokeFunction"], [self.function.arn]))
            ),
            opts=pulumi.ResourceOptions(parent=scheduler_role),
        )
        aws.scheduler.Schedule(
            f"{name}-sweeper",
            name=names.resource("break-glass-sweeper"),
            group_name=schedule_group.name,
            description="Revokes break-glass grants past their window; expires stale requests",
            schedule_expression=SWEEP_EVERY,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": self.function.arn,
                "role_arn": scheduler_role.arn,
                "input": json.dumps({"action": "sweep"}),
                "retry_policy": {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 300},
            },
            opts=child,
        )
        self.person_roles = self._people(name, args)
        aws.cloudwatch.MetricAlarm(
            f"{name}-swept",
            name=names.resource("break-glass-sweeper-revoked"),
            alarm_description="The break-glass sweeper had to revoke a grant past its window: the one-shot "
            "revocation failed. Check the broker's log and the event log.",
            namespace=METRIC_NAMESPACE,
            metric_name=SWEPT_METRIC,
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.pages_topic_arn],
            opts=child,
        )
        self.register_outputs({"brokerUrl": self.url.function_url, "tableName": self.table.name})

    def _environment(
        self, args: BreakGlassAccessArgs, schedule_group: str, scheduler_role_arn: pulumi.Output[str]
    ) -> dict[str, pulumi.Input[str]]:
        settings = args.settings
        return {
            "TABLE_NAME": self.table.name,
            "EVENT_LOG_GROUP": self.event_log_group.name,
            "PAGE_TOPIC_ARN": args.pages_topic_arn,
            "ACCOUNT_ID": args.deployment.aws.account_id,
            "ROLE_PREFIX": args.deployment.names.break_glass_person_prefix,
            "PEOPLE": json.dumps({person: sorted(may) for person, may in settings.people.items()}),
            "VAULT_ADDR": args.vault_address,
            "VAULT_CA_PEM": args.vault_ca_pem,
            "VAULT_IAM_SERVER_ID": args.vault_server_name,
            "SCHEDULE_GROUP": schedule_group,
            "SCHEDULER_ROLE_ARN": scheduler_role_arn,
            "MIN_APPROVALS": str(settings.minimum_approvals),
            "MAX_DURATION_SECONDS": str(settings.max_duration_s),
            "DEFAULT_DURATION_SECONDS": str(settings.default_duration_s),
            "APPROVAL_WINDOW_SECONDS": str(settings.approval_window_s),
        }

    def _people(self, name: str, args: BreakGlassAccessArgs) -> dict[str, aws.iam.Role]:
        roles = {}
        for person in args.settings.people:
            role = aws.iam.Role(
                f"{name}-person-{person}",
                name=args.deployment.names.break_glass_person_role(person),
                description=f"Break-glass: {person}, through the broker only",
                assume_role_policy=to_json(
                    policies.person_trust(person, args.settings.principals(person), args.deployment.aws)
                ),
                max_session_duration=3600,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The function's resource policy, not the role's: the role may call the URL and invoke the
            # function only through it (a direct Invoke would let the caller write the whole event).
            aws.lambda_.Permission(
                f"{name}-person-{person}-url",
                action="lambda:InvokeFunctionUrl",
                function=self.function.name,
                principal=role.arn,
                function_url_auth_type="AWS_IAM",
                opts=pulumi.ResourceOptions(parent=role),
            )
            aws.lambda_.Permission(
                f"{name}-person-{person}-invoke",
                action="lambda:InvokeFunction",
                function=self.function.name,
                principal=role.arn,
                invoked_via_function_url=True,
                opts=pulumi.ResourceOptions(parent=role),
            )
            roles[person] = role
        return roles
