"""Where alarms go: an alerts topic for everything and a pages topic for what must wake someone.

Severity routing is by topic. Every alarm publishes to `alerts`, which e-mails the alert address and feeds
the Slack forwarder; alarms that page (seal, node failure, audit gap, break-glass) also publish to `pages`,
whose only subscriber is PagerDuty. So people read everything in Slack and e-mail, and PagerDuty is woken
only by pages, without filter policies to keep in step with alarm names.

Both topics are encrypted with the notifications key, whose policy lets CloudWatch alarms in this account
use it; each topic's policy lets only this account's alarms and this account's own principals publish.

The Slack forwarder runs outside the VPC, on purpose: it must reach Slack on the internet, and keeping it
off the VPC's NAT gateways and route tables means the alerts about those still get out. It talks only to
Secrets Manager (for the webhook URL, which no configuration holds in plaintext) and to Slack. Slack
publishes no address ranges for webhooks, so a VPC security group could not narrow its egress anyway.

This component comes before the secrets catalog, whose rotation function posts rotation-due notices to the
alerts topic (`publish_statements` is what such a publisher's role needs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import AwsContext, Deployment
from components.lambda_function import CodeSigning, FunctionSpec, LoggedFunction, logged_function
from components.lib.component import Component
from components.lib.iam import document, from_source, statement, to_json
from components.lib.secret_policy import secret_policy

# PagerDuty's Amazon CloudWatch integration takes SNS notifications at this URL; the integration key is
# part of it, so the endpoint is a credential.
PAGERDUTY_URL = "https://events.pagerduty.com/integration/{key}/enqueue"
# Pages are worth retrying for a while: SNS's default HTTPS policy gives up after three tries in a minute.
PAGERDUTY_DELIVERY_POLICY = {
    "healthyRetryPolicy": {
        "numRetries": 20,
        "numNoDelayRetries": 2,
        "minDelayTarget": 5,
        "numMinDelayRetries": 3,
        "maxDelayTarget": 120,
        "numMaxDelayRetries": 10,
        "backoffFunction": "exponential",
    }
}


@dataclass(frozen=True)
class AlertingArgs:
    """Everything alerting needs, passed in explicitly. Absent secure values skip their channel."""

    deployment: Deployment
    notifications_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    alert_email: str
    log_retention_days: int
    slack_webhook_url: pulumi.Input[str] | None = None
    pagerduty_integration_key: pulumi.Input[str] | None = None
    # The customer-managed key for function environments and dead-letter queues.
    functions_key_arn: pulumi.Input[str] | None = None
    # Deploy the function from a package signed by the stack's Signer profile (lambdaCodeSigning).
    code_signing: CodeSigning | None = None


def topic_policy(topic_arn: pulumi.Input[str], context: AwsContext) -> dict[str, Any]:
    """Publishing is for this account's CloudWatch alarms and this account's own principals only."""
    return document(
        statement(
            "CloudWatchAlarmsInThisAccountPublish",
            ["sns:Publish"],
            topic_arn,
            principal={"Service": "cloudwatch.amazonaws.com"},
            condition=from_source(context.account_id, context.arn("cloudwatch", "alarm:*")),
        ),
        statement(
            "AccountPrincipalsPublish",
            ["sns:Publish"],
            topic_arn,
            principal={"AWS": context.account_root()},
        ),
    )


def publish_statements(
    topic_arns: Sequence[pulumi.Input[str]], notifications_key_arn: pulumi.Input[str], context: AwsContext
) -> list[dict[str, Any]]:
    """What a role needs to publish to the encrypted topics: sns:Publish, and the key through SNS only."""
    return [
        statement("PublishAlerts", ["sns:Publish"], list(topic_arns)),
        statement(
            "EncryptAlertsThroughSns",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [notifications_key_arn],
            condition={"StringEquals": {"kms:ViaService": f"sns.{context.region}.amazonaws.com"}},
        ),
    ]


def pagerduty_endpoint(integration_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """PagerDuty's CloudWatch integration URL for the key, as a secret (the key is in the URL)."""
    prefix, suffix = PAGERDUTY_URL.split("{key}")
    return pulumi.Output.secret(pulumi.Output.concat(prefix, integration_key, suffix))


def slack_forwarder_statements(
    secret_arn: pulumi.Input[str], secrets_key_arn: pulumi.Input[str], context: AwsContext
) -> list[dict[str, Any]]:
    """The forwarder reads one secret, decrypting it only through Secrets Manager."""
    return [
        statement("ReadSlackWebhook", ["secretsmanager:GetSecretValue"], [secret_arn]),
        statement(
            "DecryptSlackWebhookThroughSecretsManager",
            ["kms:Decrypt"],
            [secrets_key_arn],
            condition={"StringEquals": {"kms:ViaService": f"secretsmanager.{context.region}.amazonaws.com"}},
        ),
    ]


class Alerting(Component):
    """The alerts and pages topics and their e-mail, PagerDuty and Slack subscriptions."""

    alerts_topic: aws.sns.Topic
    pages_topic: aws.sns.Topic
    email_subscription: aws.sns.TopicSubscription
    pagerduty_subscription: aws.sns.TopicSubscription | None = None
    slack_webhook_secret: aws.secretsmanager.Secret | None = None
    slack_forwarder: LoggedFunction | None = None
    slack_subscription: aws.sns.TopicSubscription | None = None

    def __init__(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Alerting", name, None, opts)
        self._base = name
        self._args = args
        self.alerts_topic = self._topic("alerts", "Every alarm and notice: e-mail and Slack")
        self.pages_topic = self._topic("pages", "Alarms that page: PagerDuty")
        self.email_subscription = aws.sns.TopicSubscription(
            f"{name}-email",
            topic=self.alerts_topic.arn,
            protocol="email",
            endpoint=args.alert_email,
            opts=pulumi.ResourceOptions(parent=self.alerts_topic),
        )
        if args.pagerduty_integration_key is not None:
            self.pagerduty_subscription = aws.sns.TopicSubscription(
                f"{name}-pagerduty",
                topic=self.pages_topic.arn,
                protocol="https",
                endpoint=pagerduty_endpoint(args.pagerduty_integration_key),
                endpoint_auto_confirms=True,
                delivery_policy=json.dumps(PAGERDUTY_DELIVERY_POLICY),
                opts=pulumi.ResourceOptions(parent=self.pages_topic),
            )
        else:
            pulumi.log.warn(
                "pagerdutyIntegrationKey is not set: pages reach e-mail and Slack but page no one; run "
                "`pulumi config set --secret pagerdutyIntegrationKey`",
                resource=self,
            )
        if args.slack_webhook_url is not None:
            self._slack(args.slack_webhook_url)
        else:
            pulumi.log.warn(
                "slackWebhookUrl is not set: alerts are not posted to Slack; run "
                "`pulumi config set --secret slackWebhookUrl`",
                resource=self,
            )
        self.register_outputs(
            {
                "alertsTopicArn": self.alerts_topic.arn,
                "pagesTopicArn": self.pages_topic.arn,
                "slackForwarder": self.slack_forwarder.function.name if self.slack_forwarder else None,
            }
        )

    def _topic(self, role: str, purpose: str) -> aws.sns.Topic:
        topic_name = self._args.deployment.names.resource(role)
        topic = aws.sns.Topic(
            f"{self._base}-{role}",
            name=topic_name,
            display_name=f"Candlefish {self._args.deployment.environment} {role}",
            kms_master_key_id=self._args.notifications_key_arn,
            tags={"Name": topic_name, "Purpose": purpose},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{self._base}-{role}-policy",
            arn=topic.arn,
            policy=to_json(topic_policy(topic.arn, self._args.deployment.aws)),
            opts=pulumi.ResourceOptions(parent=topic),
        )
        return topic

    def _slack(self, webhook_url: pulumi.Input[str]) -> None:
        args = self._args
        base = f"{self._base}-slack-forwarder"
        secret = aws.secretsmanager.Secret(
            f"{self._base}-slack-webhook",
            name=args.deployment.names.secret("alerting/slack-webhook-url"),
            description="Slack incoming-webhook URL the alert forwarder posts to",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=args.deployment.recovery_window_days,
            tags={"Name": "slack-webhook-url", "Owner": "platform-team"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretVersion(
            f"{self._base}-slack-webhook-value",
            secret_id=secret.arn,
            secret_string=pulumi.Output.secret(webhook_url),
            opts=pulumi.ResourceOptions(parent=secret),
        )
        forwarder = logged_function(
            base,
            FunctionSpec(
                asynchronous=True,
                function_name=args.deployment.names.resource("slack-forwarder"),
                package="slack_forwarder",
                description="Posts the alerts topic's notifications to Slack",
                statements=slack_forwarder_statements(secret.arn, args.secrets_key_arn, args.deployment.aws),
                # Only where the URL is kept, never the URL.
                environment={"SLACK_WEBHOOK_SECRET_ARN": secret.arn},
                timeout=20,
            ),
            logs_key_arn=args.logs_key_arn,
            functions_key_arn=args.functions_key_arn,
            code_signing=args.code_signing,
            retention_days=args.log_retention_days,
            parent=self,
        )
        aws.secretsmanager.SecretPolicy(
            f"{self._base}-slack-webhook-policy",
            secret_arn=secret.arn,
            policy=to_json(secret_policy(None, [args.deployer_role_arn], [forwarder.role.arn])),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=secret),
        )
        invoke = aws.lambda_.Permission(
            f"{base}-invoke",
            action="lambda:InvokeFunction",
            function=forwarder.function.name,
            principal="sns.amazonaws.com",
            source_arn=self.alerts_topic.arn,
            opts=pulumi.ResourceOptions(parent=forwarder.function),
        )
        self.slack_subscription = aws.sns.TopicSubscription(
            f"{self._base}-slack",
            topic=self.alerts_topic.arn,
            protocol="lambda",
            endpoint=forwarder.function.arn,
            opts=pulumi.ResourceOptions(parent=self.alerts_topic, depends_on=[invoke]),
        )
        self.slack_webhook_secret = secret
        self.slack_forwarder = forwarder
