"""The Monitoring component, recorded under the mocks with the production config and fake cluster names.

The Vault cluster, the databases and the catalog are other components; here their names are fake values
shaped like theirs. The tests check the guide's five alarms (thresholds, routing, GuideAlarm tags, as the
policy pack's guide-alarms rule reads them), every other alarm, the metric filters and audit watcher, the
saved queries, and that every dashboard widget shows something this stack really has.
"""

import json
import re

import pytest

from components.config.monitoring import zone_file
from components.config.stack import load_stack_config
from components.deployment import AwsContext, Deployment
from components.monitoring import audit_filters
from components.monitoring.alarm_spec import GUIDE_ALARMS
from components.monitoring.alarms import AGENT_METRICS
from components.monitoring.component import Monitoring, MonitoringArgs
from components.monitoring.dashboards import SERVER_ERRORS
from components.monitoring.targets import TELEMETRY_NAMESPACE, DatabaseTargets, VaultTargets
from components.vault.iam import METRICS_NAMESPACE
from tests.support.audit_samples import AUDIT, ROTATION, line
from tests.support.iam_lint import findings
from tests.support.insights import check, event_fields
from tests.support.mocks import ROOT, run_program

pytestmark = pytest.mark.slow
ACCOUNT = "123456789012"
ALERTS = f"arn:aws:sns:us-east-1:{ACCOUNT}:candlefish-production-alerts"
PAGES = f"arn:aws:sns:us-east-1:{ACCOUNT}:candlefish-production-pages"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs"
ASG = "candlefish-production-vault-20261128094512"
LOAD_BALANCER = "app/candlefish-production-vault/0a1b2c3d4e5f6789"
TARGET_GROUP = "targetgroup/candlefish-production-vault/9876543210fedcba"
SERVER_LOGS = "/candlefish/production/vault/server"
AUDIT_LOGS = "/candlefish/production/vault/audit"
CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0example-vault"
ROTATION_LOGS = "/aws/lambda/candlefish-production-secret-rotation"
RDS = "candlefish-production-postgres"
REDIS = "candlefish-production-redis"
REDIS_NODES = (f"{REDIS}-001", f"{REDIS}-002")
SLACK_FORWARDER = "candlefish-production-slack-forwarder"
NAMESPACE = "Candlefish/VaultAudit/production"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]


def monitoring_program():
    config = load_stack_config()
    Monitoring(
        "monitoring",
        MonitoringArgs(
            deployment=Deployment.from_config(config, AwsContext(ACCOUNT, "aws", config.region)),
            settings=config.monitoring,
            logs_key_arn=LOGS_KEY,
            alerts_topic_arn=ALERTS,
            pages_topic_arn=PAGES,
            vault=VaultTargets(
                auto_scaling_group_name=ASG,
                load_balancer_arn_suffix=LOAD_BALANCER,
                target_group_arn_suffix=TARGET_GROUP,
                server_log_group_name=SERVER_LOGS,
                audit_log_group_name=AUDIT_LOGS,
                certificate_arn=CERTIFICATE,
            ),
            database=DatabaseTargets(
                rds_instance_identifier=RDS,
                rds_allocated_storage_gib=100,
                rds_max_connections=400,
                redis_replication_group_id=REDIS,
                redis_node_count=2,
            ),
            rotation_log_group_name=ROTATION_LOGS,
            vpc_id="vpc-0example",
            vpc_cidr=config.network.vpc_cidr,
            private_subnet_ids=SUBNETS,
            slack_forwarder_function_name=SLACK_FORWARDER,
        ),
    )


@pytest.fixture(scope="module")
def monitoring():
    return run_program("production", program=monitoring_program)


def alarm(recording, key):
    return recording.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"monitoring-{key}")


def guide(recording, guide_id):
    alarms = recording.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    return [a for a in alarms if a.inputs["tags"].get("GuideAlarm") == guide_id]


# --- The deployment guide's five alarms ----------------------------------------------------------------


def test_every_guide_alarm_exists_tagged_as_the_policy_pack_expects(monitoring):
    assert GUIDE_ALARMS == ("seal-status", "failed-auth", "off-hours-access", "audit-log-gap", "node-failure")
    for guide_id in GUIDE_ALARMS:
        found = guide(monitoring, guide_id)
        assert found, guide_id
        for each in found:
            # What the guide-alarms rule checks on every tagged alarm: someone is notified.
            assert each.inputs["actionsEnabled"] is True
            assert each.inputs["alarmActions"]


def test_seal_status_pages_when_any_node_reports_sealed_or_none_report(monitoring):
    [sealed] = guide(monitoring, "seal-status")
    inputs = sealed.inputs
    assert (inputs["namespace"], inputs["metricName"]) == (TELEMETRY_NAMESPACE, "vault.core.unsealed")
    assert inputs["dimensions"] == {"vault_cluster": "candlefish-production"}
    assert (inputs["statistic"], inputs["period"], inputs["evaluationPeriods"]) == ("Minimum", 60, 1)
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("LessThanThreshold", 1)
    assert inputs["treatMissingData"] == "breaching"
    assert inputs["alarmActions"] == inputs["okActions"] == [ALERTS, PAGES]


def test_failed_authentications_alert_above_five_a_minute(monitoring):
    [failed] = guide(monitoring, "failed-auth")
    inputs = failed.inputs
    assert (inputs["namespace"], inputs["metricName"]) == (NAMESPACE, "FailedAuthentications")
    assert (inputs["statistic"], inputs["period"], inputs["evaluationPeriods"]) == ("Sum", 60, 1)
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("GreaterThanThreshold", 5)
    assert inputs["alarmActions"] == [ALERTS]


def test_out_of_hours_access_alerts_on_any_read(monitoring):
    [off_hours] = guide(monitoring, "off-hours-access")
    inputs = off_hours.inputs
    assert (inputs["namespace"], inputs["metricName"]) == (NAMESPACE, "OffHoursSecretReads")
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("GreaterThanThreshold", 0)
    assert inputs["treatMissingData"] == "notBreaching"
    assert inputs["alarmActions"] == [ALERTS]


def test_an_audit_gap_of_15_minutes_pages_missing_data_included(monitoring):
    [gap] = guide(monitoring, "audit-log-gap")
    inputs = gap.inputs
    assert (inputs["namespace"], inputs["metricName"]) == ("AWS/Logs", "IncomingLogEvents")
    assert inputs["dimensions"] == {"LogGroupName": AUDIT_LOGS}
    assert (inputs["statistic"], inputs["comparisonOperator"], inputs["threshold"]) == (
        "Sum",
        "LessThanThreshold",
        1,
    )
    assert inputs["period"] * inputs["evaluationPeriods"] == 15 * 60
    assert inputs["treatMissingData"] == "breaching"
    assert inputs["alarmActions"] == [ALERTS, PAGES]


def test_node_failures_page_from_three_signals(monitoring):
    found = {a.name: a.inputs for a in guide(monitoring, "node-failure")}
    assert set(found) == {
        "monitoring-vault-nodes-in-service",
        "monitoring-vault-unhealthy-targets",
        "monitoring-vault-status-checks",
    }
    in_service = found["monitoring-vault-nodes-in-service"]
    assert (in_service["namespace"], in_service["metricName"]) == (
        "AWS/AutoScaling",
        "GroupInServiceInstances",
    )
    assert in_service["dimensions"] == {"AutoScalingGroupName": ASG}
    assert (in_service["comparisonOperator"], in_service["threshold"]) == ("LessThanThreshold", 5)
    unhealthy = found["monitoring-vault-unhealthy-targets"]
    assert (unhealthy["namespace"], unhealthy["metricName"]) == ("AWS/ApplicationELB", "UnHealthyHostCount")
    assert unhealthy["dimensions"] == {"LoadBalancer": LOAD_BALANCER, "TargetGroup": TARGET_GROUP}
    assert (unhealthy["comparisonOperator"], unhealthy["threshold"]) == ("GreaterThanThreshold", 0)
    checks = found["monitoring-vault-status-checks"]
    assert (checks["namespace"], checks["metricName"]) == ("AWS/EC2", "StatusCheckFailed")
    assert checks["dimensions"] == {"AutoScalingGroupName": ASG}
    for inputs in found.values():
        assert inputs["alarmActions"] == [ALERTS, PAGES]


# --- Every other alarm ---------------------------------------------------------------------------------

OTHER_ALARMS = {
    "break-glass-used": True,
    "root-token-used": True,
    "rotation-failures": False,
    "tls-certificate-expiry": False,
    "vault-leader-elections": False,
    "lb-5xx": False,
    "vault-5xx": False,
    "vault-p99-latency": False,
    "rds-cpu": False,
    "rds-free-storage": False,
    "rds-connections": False,
    "redis-cpu": False,
    "redis-memory": False,
    "redis-evictions": False,
    "audit-watcher-errors": False,
    "slack-forwarder-errors": False,
    "snapshot-stale": True,
}


def test_every_alarm_says_what_it_means_and_the_first_thing_to_do(monitoring):
    alarms = monitoring.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {
        a.name.removeprefix("monitoring-") for a in alarms if "GuideAlarm" not in a.inputs["tags"]
    } == set(OTHER_ALARMS)
    for each in alarms:
        inputs = each.inputs
        assert inputs["name"] == "candlefish-production-" + each.name.removeprefix("monitoring-")
        description = inputs["alarmDescription"]
        assert re.fullmatch(r"\[(page|alert)\] .{20,} First step: .{20,}", description), description
        assert len(description) <= 1024
        severity = description[1:5] if description.startswith("[page]") else "alert"
        assert inputs["tags"]["Severity"] == severity
        assert inputs["alarmActions"] == ([ALERTS, PAGES] if severity == "page" else [ALERTS])


@pytest.mark.parametrize(("key", "pages"), sorted(OTHER_ALARMS.items()))
def test_other_alarms_route_by_severity(monitoring, key, pages):
    inputs = alarm(monitoring, key).inputs
    assert inputs["alarmActions"] == ([ALERTS, PAGES] if pages else [ALERTS])


def test_break_glass_pages_on_the_first_use(monitoring):
    inputs = alarm(monitoring, "break-glass-used").inputs
    assert (inputs["namespace"], inputs["metricName"]) == (NAMESPACE, "BreakGlassUses")
    assert (inputs["period"], inputs["evaluationPeriods"], inputs["threshold"]) == (60, 1, 0)


def test_p99_latency_uses_an_extended_statistic_and_the_guides_100_ms(monitoring):
    inputs = alarm(monitoring, "vault-p99-latency").inputs
    assert inputs["metricName"] == "TargetResponseTime"
    assert inputs["extendedStatistic"] == "p99"
    assert "statistic" not in inputs  # AWS takes one or the other
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("GreaterThanThreshold", 0.1)


def test_load_balancer_5xx_watch_both_the_balancer_and_vault(monitoring):
    assert alarm(monitoring, "lb-5xx").inputs["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert alarm(monitoring, "lb-5xx").inputs["dimensions"] == {"LoadBalancer": LOAD_BALANCER}
    assert alarm(monitoring, "vault-5xx").inputs["metricName"] == "HTTPCode_Target_5XX_Count"


def test_leader_elections_come_from_raft_telemetry(monitoring):
    inputs = alarm(monitoring, "vault-leader-elections").inputs
    assert (inputs["namespace"], inputs["metricName"]) == (TELEMETRY_NAMESPACE, "vault.raft.state.leader")
    assert (inputs["statistic"], inputs["period"], inputs["threshold"]) == ("Sum", 900, 1)


def test_rds_thresholds_follow_its_size(monitoring):
    storage = alarm(monitoring, "rds-free-storage").inputs
    assert storage["dimensions"] == {"DBInstanceIdentifier": RDS}
    assert storage["threshold"] == 0.1 * 100 * 1024**3
    assert alarm(monitoring, "rds-connections").inputs["threshold"] == 320
    assert alarm(monitoring, "rds-cpu").inputs["threshold"] == 80


def test_redis_alarms_take_the_worst_node(monitoring):
    inputs = alarm(monitoring, "redis-memory").inputs
    assert "metricName" not in inputs and "statistic" not in inputs
    combined, *nodes = inputs["metricQueries"]
    assert combined == {
        "id": "combined",
        "expression": "MAX([m1, m2])",
        "label": "redis-memory (max over nodes)",
        "returnData": True,
    }
    assert [q["metric"]["dimensions"] for q in nodes] == [{"CacheClusterId": node} for node in REDIS_NODES]
    assert {q["metric"]["metricName"] for q in nodes} == {"DatabaseMemoryUsagePercentage"}
    assert alarm(monitoring, "redis-evictions").inputs["metricQueries"][0]["expression"] == "SUM([m1, m2])"


def test_the_monitoring_functions_errors_alarm(monitoring):
    watcher = monitoring.one("aws:lambda/function:Function").outputs["name"]
    assert alarm(monitoring, "audit-watcher-errors").inputs["dimensions"] == {"FunctionName": watcher}
    assert alarm(monitoring, "slack-forwarder-errors").inputs["dimensions"] == {
        "FunctionName": SLACK_FORWARDER
    }


# --- Metric filters and the audit watcher ---------------------------------------------------------------


def test_metric_filters_count_audit_and_rotation_events(monitoring):
    recorded = {
        f.name.removeprefix("monitoring-"): f.inputs
        for f in monitoring.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    specs = {spec.key: spec for spec in audit_filters.metric_filters(["secret/data/candlefish/"])}
    assert set(recorded) == set(specs)
    for key, inputs in recorded.items():
        spec = specs[key]
        assert inputs["pattern"] == spec.pattern
        assert inputs["logGroupName"] == (AUDIT_LOGS if spec.source == "audit" else ROTATION_LOGS)
        assert inputs["metricTransformation"] == {
            "name": spec.metric,
            "namespace": NAMESPACE,
            "value": "1",
            "defaultValue": "0",
            "unit": "Count",
        }
    assert recorded["rotation-failures"]["logGroupName"] == ROTATION_LOGS


def test_the_audit_watcher_is_subscribed_to_secret_reads(monitoring):
    function = monitoring.one("aws:lambda/function:Function")
    subscription = monitoring.one("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    assert subscription.inputs["logGroup"] == AUDIT_LOGS
    assert subscription.inputs["destinationArn"] == function.outputs["arn"]
    assert subscription.inputs["filterPattern"] == audit_filters.watcher_subscription_pattern(
        ["secret/data/candlefish/"]
    )
    permission = monitoring.one("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "logs.us-east-1.amazonaws.com"
    assert permission.inputs["sourceArn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{AUDIT_LOGS}:*"
    assert permission.inputs["sourceAccount"] == ACCOUNT
    assert permission.urn in subscription.dependencies


def test_the_audit_watcher_knows_business_hours_and_ships_its_zone(monitoring):
    function = monitoring.one("aws:lambda/function:Function")
    assert function.inputs["handler"] == "lambdas.audit_watcher.handler.lambda_handler"
    assert function.inputs["environment"]["variables"] == {
        "BUSINESS_TIMEZONE": "America/New_York",
        "BUSINESS_DAYS": "Mon,Tue,Wed,Thu,Fri",
        "BUSINESS_START_HOUR": "8",
        "BUSINESS_END_HOUR": "18",
        "READ_PREFIXES": "secret/data/candlefish/",
        "EXEMPT_POLICIES": "rotation",
        "METRIC_NAMESPACE": NAMESPACE,
    }
    code = function.inputs["code"]
    assets = code.assets
    assert sorted(assets) == [
        "lambdas/__init__.py",
        "lambdas/audit_watcher/__init__.py",
        "lambdas/audit_watcher/business_hours.py",
        "lambdas/audit_watcher/events.py",
        "lambdas/audit_watcher/handler.py",
        "lambdas/audit_watcher/zone.tzif",
    ]
    assert assets["lambdas/audit_watcher/zone.tzif"].path == str(zone_file("America/New_York"))


def test_the_audit_watcher_runs_in_the_vpc_reaching_only_its_endpoints(monitoring):
    function = monitoring.one("aws:lambda/function:Function")
    group = monitoring.one("aws:ec2/securityGroup:SecurityGroup")
    assert function.inputs["vpcConfig"] == {"subnetIds": SUBNETS, "securityGroupIds": [group.outputs["id"]]}
    egress = monitoring.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in egress] == [
        (443, 443, "10.0.0.0/16")
    ]
    attachment = monitoring.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"].endswith(":policy/service-role/AWSLambdaVPCAccessExecutionRole")


def test_the_audit_watcher_may_publish_only_its_namespace_and_write_its_logs(monitoring):
    policy = json.loads(monitoring.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # And its dead-letter queue: a log subscription invokes it asynchronously.
    assert set(by_sid) == {"PublishOffHoursReads", "WriteOwnLogs", "SendTraces", "SendFailedEvents"}
    assert by_sid["PublishOffHoursReads"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": NAMESPACE}
    }
    log_group = monitoring.one("aws:cloudwatch/logGroup:LogGroup")
    assert by_sid["WriteOwnLogs"]["Resource"] == [log_group.outputs["arn"] + ":*"]
    assert (
        findings(
            policy, accepted={"RESOURCE_STAR": "PutMetricData and X-Ray have no resource-level permissions"}
        )
        == []
    )
    assert log_group.inputs["name"] == "/aws/lambda/candlefish-production-audit-watcher"
    assert (log_group.inputs["kmsKeyId"], log_group.inputs["retentionInDays"]) == (LOGS_KEY, 365)


# --- Saved queries and dashboards -----------------------------------------------------------------------


def sample_events():
    """Sample events of each log the queries and log widgets read, keyed by log group name."""
    watcher_line = json.dumps(
        {
            "event": "off_hours_secret_read",
            "path": "secret/data/candlefish/mongodb/connection",
            "display_name": "userpass-oncall-alice",
            "remote_address": "10.0.1.37",
            "local_time": "2026-03-28T23:12:44-04:00",
            "weekday": "Sat",
        }
    )
    server = [
        '2026-03-30T14:05:09.123Z [ERROR] core: failed to acquire lock: error="context deadline exceeded"',
        json.dumps(
            {"@level": "error", "@message": "failed to unseal", "@module": "core"}, separators=(",", ":")
        ),
        "2026-03-30T14:05:10.001Z [INFO]  core: vault is unsealed",
    ]
    return {
        AUDIT_LOGS: [event_fields(line(entry), entry["time"]) for entry in AUDIT.values()],
        ROTATION_LOGS: [event_fields(text) for text in ROTATION.values()],
        "/aws/lambda/candlefish-production-audit-watcher": [event_fields(watcher_line)],
        SERVER_LOGS: [event_fields(text) for text in server],
    }


def test_saved_queries_run_against_the_logs_they_name(monitoring):
    definitions = monitoring.of_type("aws:cloudwatch/queryDefinition:QueryDefinition")
    assert {d.inputs["name"] for d in definitions} == {
        f"candlefish-production/{query.key}" for query in audit_filters.QUERIES
    }
    samples = sample_events()
    for definition in definitions:
        [group] = definition.inputs["logGroupNames"]
        rows = check(definition.inputs["queryString"], samples[group])
        assert rows, f"{definition.inputs['name']} finds nothing in its sample events"


def test_the_server_error_widget_finds_errors_in_both_log_formats():
    rows = check(SERVER_ERRORS, sample_events()[SERVER_LOGS])
    assert len(rows) == 2


def dashboards(recording):
    return {
        board.inputs["dashboardName"]: json.loads(board.inputs["dashboardBody"])
        for board in recording.of_type("aws:cloudwatch/dashboard:Dashboard")
    }


def test_the_four_dashboards_the_guide_names_exist(monitoring):
    assert set(dashboards(monitoring)) == {
        "candlefish-production-vault-health",
        "candlefish-production-secret-access",
        "candlefish-production-performance",
        "candlefish-production-security-events",
    }


def test_widgets_tile_the_grid_without_overlapping(monitoring):
    for name, body in dashboards(monitoring).items():
        cells = set()
        for widget in body["widgets"]:
            assert widget["type"] in ("metric", "log", "alarm", "text")
            assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24, name
            for x in range(widget["x"], widget["x"] + widget["width"]):
                for y in range(widget["y"], widget["y"] + widget["height"]):
                    assert (x, y) not in cells, f"{name}: widgets overlap at {(x, y)}"
                    cells.add((x, y))
        # Read top to bottom: the first row is the dashboard's purpose, in words.
        assert body["widgets"][0]["type"] == "text"


# AWS service metrics the dashboards and alarms may use, with the dimensions each is published under.
SERVICE_METRICS = {
    "AWS/ApplicationELB": {
        "HealthyHostCount",
        "UnHealthyHostCount",
        "RequestCount",
        "TargetResponseTime",
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
    },
    "AWS/AutoScaling": {"GroupInServiceInstances", "GroupDesiredCapacity"},
    "AWS/EC2": {"StatusCheckFailed"},
    "AWS/Logs": {"IncomingLogEvents"},
    "AWS/RDS": {"CPUUtilization", "DatabaseConnections", "FreeStorageSpace"},
    "AWS/ElastiCache": {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"},
    "AWS/Lambda": {"Errors"},
    "AWS/CertificateManager": {"DaysToExpiry"},  # ACM: one datapoint a day per certificate
}
SERVICE_DIMENSIONS = {
    "CertificateArn": {CERTIFICATE},
    "LoadBalancer": {LOAD_BALANCER},
    "TargetGroup": {TARGET_GROUP},
    "AutoScalingGroupName": {ASG},
    "LogGroupName": {AUDIT_LOGS},
    "DBInstanceIdentifier": {RDS},
    "CacheClusterId": set(REDIS_NODES),
    "FunctionName": {SLACK_FORWARDER, "candlefish-production-audit-watcher"},
}


def published_metrics(recording):
    """Custom metrics something in the stack publishes: metric filters, the watcher, the Vault agent."""
    published = {
        (f.inputs["metricTransformation"]["namespace"], f.inputs["metricTransformation"]["name"])
        for f in recording.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    watcher = recording.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    published.add((watcher["METRIC_NAMESPACE"], audit_filters.OFF_HOURS_METRIC))
    published |= {(TELEMETRY_NAMESPACE, name) for name in AGENT_METRICS}
    # The hourly snapshot job publishes into the nodes' metric namespace (the same as the agent's).
    job = (ROOT / "components" / "vault" / "templates" / "vault-snapshot.sh").read_text()
    assert 'METRICS_NAMESPACE="{{ metrics_namespace }}"' in job and METRICS_NAMESPACE == TELEMETRY_NAMESPACE
    published |= {(TELEMETRY_NAMESPACE, name) for name in re.findall(r"--metric-name (\w+)", job)}
    return published


def assert_real_metric(namespace, name, dimensions, published):
    if namespace.startswith("AWS/"):
        assert name in SERVICE_METRICS[namespace], f"{namespace} publishes no {name}"
        for key, value in dimensions.items():
            assert value in SERVICE_DIMENSIONS[key], f"{namespace} {name}: {key}={value} is not ours"
    else:
        assert (namespace, name) in published, f"nothing publishes {namespace} {name}"
        if namespace == TELEMETRY_NAMESPACE:
            assert dimensions == {"vault_cluster": "candlefish-production"}


def test_every_widget_shows_a_metric_log_or_alarm_the_stack_has(monitoring):
    published = published_metrics(monitoring)
    alarm_arns = {a.outputs["arn"] for a in monitoring.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    log_groups = {g.inputs["name"] for g in monitoring.of_type("aws:cloudwatch/logGroup:LogGroup")}
    log_groups |= {AUDIT_LOGS, SERVER_LOGS, ROTATION_LOGS}  # created by the cluster and the catalog
    samples = sample_events()
    seen = set()
    for name, body in dashboards(monitoring).items():
        for widget in body["widgets"]:
            properties = widget["properties"]
            seen.add(widget["type"])
            if widget["type"] == "metric":
                assert properties["metrics"], name
                for entry in properties["metrics"]:
                    namespace, metric, *rest = entry
                    pairs, options = rest[:-1], rest[-1]
                    assert isinstance(options, dict) and options["stat"]
                    dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
                    assert_real_metric(namespace, metric, dimensions, published)
            elif widget["type"] == "log":
                sources = re.findall(r"SOURCE '([^']+)' \| ", properties["query"])
                assert sources and set(sources) <= log_groups, (name, sources)
                query = re.sub(r"^(SOURCE '[^']+' \| )+", "", properties["query"])
                check(query, [event for source in sources for event in samples[source]])
            elif widget["type"] == "alarm":
                assert properties["alarms"] and set(properties["alarms"]) <= alarm_arns, name
    assert seen == {"metric", "log", "alarm", "text"}


def test_every_alarm_watches_a_metric_the_stack_has(monitoring):
    published = published_metrics(monitoring)
    for each in monitoring.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        inputs = each.inputs
        if "metricQueries" in inputs:
            for query in inputs["metricQueries"][1:]:
                metric = query["metric"]
                assert_real_metric(metric["namespace"], metric["metricName"], metric["dimensions"], published)
        else:
            assert_real_metric(
                inputs["namespace"], inputs["metricName"], inputs.get("dimensions", {}), published
            )


def test_the_component_logs_no_deprecation_and_names_children_after_itself(monitoring):
    assert not [w for w in monitoring.warnings if "deprecat" in w.lower()]
    component = monitoring.one("candlefish:secrets:Monitoring")
    for resource in monitoring.descendants_of(component):
        assert resource.name.startswith("monitoring-"), resource.name


def test_the_tls_certificate_alarms_a_month_before_it_expires(monitoring):
    expiry = alarm(monitoring, "tls-certificate-expiry").inputs
    assert (expiry["namespace"], expiry["metricName"]) == ("AWS/CertificateManager", "DaysToExpiry")
    assert expiry["dimensions"] == {"CertificateArn": CERTIFICATE}
    assert (expiry["comparisonOperator"], expiry["threshold"]) == ("LessThanThreshold", 30)
    assert (expiry["statistic"], expiry["period"]) == ("Minimum", 86400)
    assert expiry["treatMissingData"] == "notBreaching"  # ACM publishes daily; a new certificate has none yet
    assert expiry["alarmActions"] == [ALERTS]


def test_alarms_and_metric_filters_start_after_the_bootstrap(production_recording):
    bootstrap = production_recording.one("pulumi-python:dynamic/candlefish:BootstrappedVault")
    component = production_recording.one("candlefish:secrets:Monitoring")
    watched = production_recording.descendants_of(component)
    alarms = [r for r in watched if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    filters = [r for r in watched if r.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter"]
    assert alarms and filters
    late = [r.name for r in alarms + filters if bootstrap.urn not in r.dependencies]
    assert late == [], "these could fire (or count the bootstrap's root token) before the cluster is ready"


@pytest.fixture(scope="module")
def production_recording():
    return run_program("production")
