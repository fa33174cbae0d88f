"""Monitoring: metric filters on the audit and rotation logs, the audit watcher, alarms, queries, dashboards.

What it watches arrives by name (the Vault cluster creates its server and audit log groups, the catalog its
rotation function's): metric filters turn audit and rotation log lines into counts (audit_filters.py); the
audit watcher, subscribed to the audit log, counts secret reads outside business hours; every alarm in
alarms.py notifies the alerts topic, and paging ones the pages topic too; saved Logs Insights queries and
four dashboards (dashboards.py, from the widgets in widgets.py) make the same data readable.

The audit watcher runs in the private subnets with HTTPS egress to the VPC only: it reads audit content and
needs nothing but CloudWatch, which it reaches through the VPC's monitoring endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config.monitoring import MonitoringConfig, zone_file
from components.deployment import Deployment
from components.lambda_function import (
    CodeSigning,
    FunctionSpec,
    LoggedFunction,
    VpcPlacement,
    https_within_vpc,
    logged_function,
)
from components.lib.component import Component
from components.lib.iam import statement
from components.monitoring import audit_filters
from components.monitoring.alarm_spec import GUIDE_ALARM_TAG, AlarmSpec
from components.monitoring.alarms import all_alarms
from components.monitoring.audit_filters import LogSource, MetricFilterSpec
from components.monitoring.certificates import certificate_alarms
from components.monitoring.dashboards import DashboardInputs, dashboards
from components.monitoring.targets import DatabaseTargets, StorageTargets, VaultTargets, Watched
from components.monitoring.widgets import dashboard_body


@dataclass(frozen=True)
class MonitoringArgs:
    """Everything monitoring needs, passed in explicitly."""

    deployment: Deployment
    settings: MonitoringConfig
    logs_key_arn: pulumi.Input[str]
    alerts_topic_arn: pulumi.Input[str]
    pages_topic_arn: pulumi.Input[str]
    vault: VaultTargets
    database: DatabaseTargets
    rotation_log_group_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    slack_forwarder_function_name: pulumi.Input[str] | None = None
    # The Redis AUTH rotation function, when the stack has a schedule: a failed rotation step is an error.
    redis_auth_rotation_function_name: pulumi.Input[str] | None = None
    # Alarms and metric filters wait for these (the bootstrap): a first deployment pages no one while the
    # cluster is still uninitialised, and the bootstrap's own root token (revoked at its end) counts nothing.
    after: Sequence[pulumi.Resource] = ()
    # The customer-managed key for function environments and dead-letter queues.
    functions_key_arn: pulumi.Input[str] | None = None
    # Deploy the function from a package signed by the stack's Signer profile (lambdaCodeSigning).
    code_signing: CodeSigning | None = None
    # The audit log's Firehose stream and the buckets' replication rules (delivery and replication alarms).
    storage: StorageTargets = field(default_factory=StorageTargets)


class Monitoring(Component):
    """Metric filters, the audit watcher, alarms, saved queries and dashboards."""

    metric_filters: dict[str, aws.cloudwatch.LogMetricFilter]
    audit_watcher: LoggedFunction
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    guide_alarms: dict[str, list[aws.cloudwatch.MetricAlarm]]
    queries: dict[str, aws.cloudwatch.QueryDefinition]
    dashboards: dict[str, aws.cloudwatch.Dashboard]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Monitoring", name, None, opts)
        self._base = name
        self._args = args
        self._names = args.deployment.names
        self._namespace = self._names.audit_metrics_namespace
        self.metric_filters = {
            spec.key: self._metric_filter(spec)
            for spec in audit_filters.metric_filters(args.settings.audit_read_prefixes)
        }
        self.audit_watcher = self._audit_watcher()
        log_groups: dict[LogSource, pulumi.Input[str]] = {
            "audit": args.vault.audit_log_group_name,
            "rotation": args.rotation_log_group_name,
            "watcher": self.audit_watcher.log_group.name,
        }
        watched = self._watched()
        self.alarms, self.guide_alarms = {}, {}
        for spec in [
            *all_alarms(watched),
            *certificate_alarms(args.vault.certificate_arn, args.vault.node_certificate_arn),
        ]:
            alarm = self._alarm(spec)
            self.alarms[spec.key] = alarm
            if spec.guide:
                self.guide_alarms.setdefault(spec.guide, []).append(alarm)
        self.queries = {
            query.key: aws.cloudwatch.QueryDefinition(
                f"{name}-query-{query.key}",
                name=self._names.saved_query(query.key),
                log_group_names=[log_groups[query.source]],
                query_string=query.query,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for query in audit_filters.QUERIES
        }
        inputs = DashboardInputs(
            region=args.deployment.aws.region,
            watched=watched,
            alarms={key: alarm.arn for key, alarm in self.alarms.items()},
            read_prefixes=args.settings.audit_read_prefixes,
            log_groups=log_groups,
            server_log_group=args.vault.server_log_group_name,
        )
        self.dashboards = {
            suffix: aws.cloudwatch.Dashboard(
                f"{name}-dashboard-{suffix}",
                dashboard_name=self._names.resource(suffix),
                dashboard_body=dashboard_body(rows, args.deployment.aws.region),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for suffix, rows in dashboards(inputs).items()
        }
        self.register_outputs(
            {
                "alarmNames": {key: alarm.name for key, alarm in self.alarms.items()},
                "dashboardNames": {key: board.dashboard_name for key, board in self.dashboards.items()},
                "auditWatcher": self.audit_watcher.function.name,
            }
        )

    def _metric_filter(self, spec: MetricFilterSpec) -> aws.cloudwatch.LogMetricFilter:
        args = self._args
        source = args.vault.audit_log_group_name if spec.source == "audit" else args.rotation_log_group_name
        return aws.cloudwatch.LogMetricFilter(
            f"{self._base}-{spec.key}",
            name=self._names.resource(spec.key),
            log_group_name=source,
            pattern=spec.pattern,
            metric_transformation={
                "name": spec.metric,
                "namespace": self._namespace,
                "value": "1",
                # Publishing 0 for non-matching events keeps the series continuous while logs flow.
                "default_value": "0",
                "unit": "Count",
            },
            # Metric filters count only events ingested after they exist.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )

    def _audit_watcher(self) -> LoggedFunction:
        args = self._args
        hours = args.settings.business_hours
        compiled_zone = zone_file(hours.time_zone)
        if compiled_zone is None:
            raise ValueError(f"no tz database entry for {hours.time_zone} on this machine")
        base = f"{self._base}-audit-watcher"
        security_group = https_within_vpc(
            base,
            vpc_id=args.vpc_id,
            vpc_cidr=args.vpc_cidr,
            name_tag=self._names.resource("audit-watcher"),
            purpose="Audit watcher: HTTPS to the AWS API endpoints inside the VPC only",
            egress_description="HTTPS to the CloudWatch (monitoring) interface endpoint inside the VPC",
            parent=self,
        )
        watcher = logged_function(
            base,
            FunctionSpec(
                asynchronous=True,
                function_name=self._names.resource("audit-watcher"),
                package="audit_watcher",
                description="Counts Vault secret reads outside business hours (from the audit log)",
                statements=[
                    statement(
                        "PublishOffHoursReads",
                        ["cloudwatch:PutMetricData"],
                        "*",
                        condition={"StringEquals": {"cloudwatch:namespace": self._namespace}},
                    )
                ],
                environment={
                    "BUSINESS_TIMEZONE": hours.time_zone,
                    "BUSINESS_DAYS": ",".join(hours.days),
                    "BUSINESS_START_HOUR": str(hours.start_hour),
                    "BUSINESS_END_HOUR": str(hours.end_hour),
                    "READ_PREFIXES": ",".join(args.settings.audit_read_prefixes),
                    "EXEMPT_POLICIES": ",".join(args.settings.off_hours_exempt_policies),
                    "METRIC_NAMESPACE": self._namespace,
                },
                # The zone's compiled rules from this machine's tz database (README: business hours).
                extra_files={"lambdas/audit_watcher/zone.tzif": pulumi.FileAsset(str(compiled_zone))},
                vpc=VpcPlacement(args.private_subnet_ids, [security_group.id], args.deployment.aws.partition),
                timeout=60,
                memory_size=256,
            ),
            logs_key_arn=args.logs_key_arn,
            functions_key_arn=args.functions_key_arn,
            code_signing=args.code_signing,
            retention_days=args.settings.alert_log_retention_days,
            parent=self,
        )
        context = args.deployment.aws
        invoke = aws.lambda_.Permission(
            f"{base}-invoke",
            action="lambda:InvokeFunction",
            function=watcher.function.name,
            principal=f"logs.{context.region}.amazonaws.com",
            source_account=context.account_id,
            source_arn=pulumi.Output.concat(
                "arn:",
                context.partition,
                f":logs:{context.region}:",
                context.account_id,
                ":log-group:",
                args.vault.audit_log_group_name,
                ":*",
            ),
            opts=pulumi.ResourceOptions(parent=watcher.function),
        )
        aws.cloudwatch.LogSubscriptionFilter(
            f"{base}-subscription",
            name=self._names.resource("audit-watcher"),
            log_group=args.vault.audit_log_group_name,
            filter_pattern=audit_filters.watcher_subscription_pattern(args.settings.audit_read_prefixes),
            destination_arn=watcher.function.arn,
            opts=pulumi.ResourceOptions(parent=watcher.function, depends_on=[invoke]),
        )
        return watcher

    def _watched(self) -> Watched:
        args = self._args
        functions: dict[str, pulumi.Input[str]] = {"audit-watcher": self.audit_watcher.function.name}
        if args.slack_forwarder_function_name is not None:
            functions["slack-forwarder"] = args.slack_forwarder_function_name
        if args.redis_auth_rotation_function_name is not None:
            functions["redis-auth-rotation"] = args.redis_auth_rotation_function_name
        return Watched(
            vault=args.vault,
            database=args.database,
            names=args.deployment.names,
            cluster_size=args.deployment.vault_nodes,
            functions=functions,
            storage=args.storage,
        )

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        args = self._args
        alarm_name = self._names.resource(spec.key)
        actions = [args.alerts_topic_arn, args.pages_topic_arn] if spec.page else [args.alerts_topic_arn]
        tags = {"Name": alarm_name, "Severity": spec.severity}
        if spec.guide:
            tags[GUIDE_ALARM_TAG] = spec.guide
        single = spec.metrics[0] if spec.combine is None else None
        # Percentiles are extended statistics; AWS takes one of statistic or extended_statistic.
        percentile = spec.statistic.startswith("p")
        return aws.cloudwatch.MetricAlarm(
            f"{self._base}-{spec.key}",
            name=alarm_name,
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            namespace=single.namespace if single else None,
            metric_name=single.name if single else None,
            dimensions=(dict(single.dimensions) or None) if single else None,
            period=spec.period if single else None,
            statistic=spec.statistic if single and not percentile else None,
            extended_statistic=spec.statistic if single and percentile else None,
            metric_queries=None if single else combined_queries(spec),
            actions_enabled=True,
            alarm_actions=actions,
            ok_actions=actions,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )


def combined_queries(spec: AlarmSpec) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """Metric math over several metrics (one per node): `MAX([m1, m2])` or `SUM(...)` is what alarms."""
    ids = [f"m{index}" for index in range(1, len(spec.metrics) + 1)]
    queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
        {
            "id": "combined",
            "expression": f"{spec.combine}([{', '.join(ids)}])",
            "label": f"{spec.key} ({(spec.combine or '').lower()} over {spec.combined_over})",
            "return_data": True,
        }
    ]
    for metric_id, metric in zip(ids, spec.metrics, strict=True):
        queries.append(
            {
                "id": metric_id,
                "return_data": False,
                "metric": {
                    "namespace": metric.namespace,
                    "metric_name": metric.name,
                    "dimensions": dict(metric.dimensions),
                    "period": spec.period,
                    "stat": spec.statistic,
                },
            }
        )
    return queries
