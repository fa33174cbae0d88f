"""The Alerting component, recorded under the mocks with the production config and fake secure values."""

import json

import pulumi
import pytest

from components.alerting import (
    PAGERDUTY_DELIVERY_POLICY,
    Alerting,
    AlertingArgs,
    publish_statements,
)
from components.config.stack import load_stack_config
from components.deployment import AwsContext, Deployment
from components.lambda_function import lambda_code
from tests.support.iam_lint import findings
from tests.support.mocks import run_program

pytestmark = pytest.mark.slow
ACCOUNT = "123456789012"
CONTEXT = AwsContext(ACCOUNT, "aws", "us-east-1")
NOTIFICATIONS_KEY = "arn:aws:kms:us-east-1:123456789012:key/notifications"
SECRETS_KEY = "arn:aws:kms:us-east-1:123456789012:key/secrets"
LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/logs"
DEPLOYER = "arn:aws:iam::123456789012:role/candlefish-deployer"
# Shaped like the real thing, assembled at run time so no webhook-looking literal is ever committed.
WEBHOOK = (
    "https://" + ".".join(("hooks", "slack", "com")) + "/services/" + "/".join(("T0000", "B0000", "example"))
)
PAGERDUTY_KEY = "example-not-a-secret-integration"
SECRETS = {
    "candlefish-secrets:slackWebhookUrl": WEBHOOK,
    "candlefish-secrets:pagerdutyIntegrationKey": PAGERDUTY_KEY,
}


def alerting_program():
    config = load_stack_config()
    secure = pulumi.Config()
    Alerting(
        "alerting",
        AlertingArgs(
            deployment=Deployment.from_config(config, CONTEXT),
            notifications_key_arn=NOTIFICATIONS_KEY,
            secrets_key_arn=SECRETS_KEY,
            logs_key_arn=LOGS_KEY,
            deployer_role_arn=DEPLOYER,
            alert_email=config.alerting.email,
            log_retention_days=config.monitoring.alert_log_retention_days,
            slack_webhook_url=secure.get_secret("slackWebhookUrl")
            if config.alerting.slack_webhook_url
            else None,
            pagerduty_integration_key=(
                secure.get_secret("pagerdutyIntegrationKey")
                if config.alerting.pagerduty_integration_key
                else None
            ),
        ),
    )


@pytest.fixture(scope="module")
def alerting():
    return run_program("production", secrets=SECRETS, program=alerting_program)


def topic(recording, role):
    return recording.one("aws:sns/topic:Topic", f"alerting-{role}")


def test_both_topics_are_encrypted_with_the_notifications_key(alerting):
    for role in ("alerts", "pages"):
        found = topic(alerting, role)
        assert found.inputs["name"] == f"candlefish-production-{role}"
        assert found.inputs["kmsMasterKeyId"] == NOTIFICATIONS_KEY


def test_only_this_accounts_alarms_and_principals_may_publish(alerting):
    for role in ("alerts", "pages"):
        arn = topic(alerting, role).outputs["arn"]
        resource = alerting.one("aws:sns/topicPolicy:TopicPolicy", f"alerting-{role}-policy")
        assert resource.inputs["arn"] == arn
        policy = json.loads(resource.inputs["policy"])
        alarms, account = policy["Statement"]
        assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert (alarms["Action"], alarms["Resource"]) == ("sns:Publish", arn)
        assert alarms["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
        }
        assert account["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        assert account["Action"] == "sns:Publish"
        assert findings(policy, resource_policy=True) == []


def test_everything_is_emailed_to_the_alert_address(alerting):
    email = alerting.one("aws:sns/topicSubscription:TopicSubscription", "alerting-email")
    assert email.inputs["topic"] == topic(alerting, "alerts").outputs["arn"]
    assert (email.inputs["protocol"], email.inputs["endpoint"]) == ("email", "admin@candlefish.ai")


def test_pages_go_to_pagerduty_with_the_key_kept_secret(alerting):
    pagerduty = alerting.one("aws:sns/topicSubscription:TopicSubscription", "alerting-pagerduty")
    assert pagerduty.inputs["topic"] == topic(alerting, "pages").outputs["arn"]
    assert pagerduty.inputs["protocol"] == "https"
    assert pagerduty.inputs["endpoint"] == f"https://events.pagerduty.com/integration/{PAGERDUTY_KEY}/enqueue"
    assert pagerduty.is_secret("endpoint")
    assert pagerduty.inputs["endpointAutoConfirms"] is True
    retry = json.loads(pagerduty.inputs["deliveryPolicy"])["healthyRetryPolicy"]
    assert retry == PAGERDUTY_DELIVERY_POLICY["healthyRetryPolicy"]
    # SNS's limits for an HTTP/S delivery policy.
    assert retry["numRetries"] <= 100
    phases = ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries")
    assert sum(retry[phase] for phase in phases) <= retry["numRetries"]
    assert 1 <= retry["minDelayTarget"] <= retry["maxDelayTarget"] <= 3600


def test_only_pagerduty_listens_to_pages(alerting):
    pages = topic(alerting, "pages").outputs["arn"]
    listeners = [
        s.name
        for s in alerting.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == pages
    ]
    assert listeners == ["alerting-pagerduty"]


def test_the_webhook_is_kept_only_in_secrets_manager(alerting):
    secret = alerting.one("aws:secretsmanager/secret:Secret", "alerting-slack-webhook")
    assert secret.inputs["name"] == "candlefish/production/alerting/slack-webhook-url"
    assert secret.inputs["kmsKeyId"] == SECRETS_KEY
    assert secret.inputs["recoveryWindowInDays"] == 30
    version = alerting.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretId"] == secret.outputs["arn"]
    assert version.inputs["secretString"] == WEBHOOK
    assert version.is_secret("secretString")
    # Nowhere else: not in the function's environment, not in any other input, not in plaintext anywhere.
    for resource in alerting.resources:
        text = json.dumps(resource.inputs, default=repr)
        if WEBHOOK in text:
            assert resource is version, f"{resource.type} {resource.name} holds the webhook"
    function = alerting.one("aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"] == {"SLACK_WEBHOOK_SECRET_ARN": secret.outputs["arn"]}


def test_only_the_forwarder_and_the_deployer_may_read_the_webhook(alerting):
    resource = alerting.one("aws:secretsmanager/secretPolicy:SecretPolicy", "alerting-slack-webhook-policy")
    assert resource.inputs["blockPublicPolicy"] is True
    policy = json.loads(resource.inputs["policy"])
    read = policy["Statement"][0]
    role = alerting.one("aws:iam/role:Role", "alerting-slack-forwarder-role").outputs["arn"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [DEPLOYER, role]
    assert findings(policy, resource_policy=True) == []


def test_the_forwarder_role_reads_one_secret_through_secrets_manager_and_writes_its_own_logs(alerting):
    policy = json.loads(
        alerting.one("aws:iam/rolePolicy:RolePolicy", "alerting-slack-forwarder-policy").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    secret = alerting.one("aws:secretsmanager/secret:Secret", "alerting-slack-webhook").outputs["arn"]
    log_group = alerting.one("aws:cloudwatch/logGroup:LogGroup", "alerting-slack-forwarder-logs")
    assert set(by_sid) == {
        "ReadSlackWebhook",
        "DecryptSlackWebhookThroughSecretsManager",
        "WriteOwnLogs",
        "SendTraces",
        "SendFailedEvents",  # its dead-letter queue (SNS invokes it asynchronously)
    }
    assert (by_sid["ReadSlackWebhook"]["Action"], by_sid["ReadSlackWebhook"]["Resource"]) == (
        "secretsmanager:GetSecretValue",
        [secret],
    )
    decrypt = by_sid["DecryptSlackWebhookThroughSecretsManager"]
    assert (decrypt["Action"], decrypt["Resource"]) == ("kms:Decrypt", [SECRETS_KEY])
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }
    assert by_sid["WriteOwnLogs"]["Resource"] == [log_group.outputs["arn"] + ":*"]
    assert findings(policy) == []
    trust = json.loads(
        alerting.one("aws:iam/role:Role", "alerting-slack-forwarder-role").inputs["assumeRolePolicy"]
    )
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_the_forwarder_logs_to_an_encrypted_group_and_runs_outside_the_vpc(alerting):
    log_group = alerting.one("aws:cloudwatch/logGroup:LogGroup", "alerting-slack-forwarder-logs")
    assert log_group.inputs["name"] == "/aws/lambda/candlefish-production-slack-forwarder"
    assert log_group.inputs["kmsKeyId"] == LOGS_KEY
    assert log_group.inputs["retentionInDays"] == 365
    function = alerting.one("aws:lambda/function:Function")
    assert function.inputs["name"] == "candlefish-production-slack-forwarder"
    assert function.inputs["handler"] == "lambdas.slack_forwarder.handler.lambda_handler"
    assert "vpcConfig" not in function.inputs  # it must reach Slack even when the VPC's NAT does not
    assert log_group.urn in function.dependencies


def test_the_alerts_topic_invokes_the_forwarder(alerting):
    function = alerting.one("aws:lambda/function:Function")
    permission = alerting.one("aws:lambda/permission:Permission", "alerting-slack-forwarder-invoke")
    assert permission.inputs["principal"] == "sns.amazonaws.com"
    assert permission.inputs["sourceArn"] == topic(alerting, "alerts").outputs["arn"]
    assert permission.inputs["function"] == function.outputs["name"]
    subscription = alerting.one("aws:sns/topicSubscription:TopicSubscription", "alerting-slack")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == (
        "lambda",
        function.outputs["arn"],
    )
    assert permission.urn in subscription.dependencies


def test_the_forwarder_package_is_only_its_code():
    assert sorted(lambda_code("slack_forwarder").assets) == [
        "lambdas/__init__.py",
        "lambdas/slack_forwarder/__init__.py",
        "lambdas/slack_forwarder/handler.py",
        "lambdas/slack_forwarder/message.py",
    ]


def test_missing_secure_values_skip_their_channel_with_the_command_to_set_them():
    recording = run_program("production", program=alerting_program)
    subscriptions = {s.name for s in recording.of_type("aws:sns/topicSubscription:TopicSubscription")}
    assert subscriptions == {"alerting-email"}
    assert not recording.of_type("aws:lambda/function:Function")
    assert not recording.of_type("aws:secretsmanager/secret:Secret")
    assert any("pulumi config set --secret slackWebhookUrl" in w for w in recording.warnings)
    assert any("pulumi config set --secret pagerdutyIntegrationKey" in w for w in recording.warnings)
    assert not [w for w in recording.warnings if "deprecat" in w.lower()]


def test_publishers_get_sns_publish_and_the_key_through_sns_only():
    statements = publish_statements(["arn:aws:sns:us-east-1:123456789012:t"], NOTIFICATIONS_KEY, CONTEXT)
    policy = {"Version": "2012-10-17", "Statement": statements}
    publish, key = statements
    assert publish["Action"] == "sns:Publish"
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}
    assert findings(policy) == []
