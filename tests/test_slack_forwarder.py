"""The Slack forwarder: message formatting from real CloudWatch alarm notifications, and the whole function
against Secrets Manager (moto) and a local HTTP server standing in for Slack's webhook."""

import http.server
import json
import threading

import boto3
import pytest

from lambdas.slack_forwarder import handler
from lambdas.slack_forwarder.message import AlarmNotice, PlainNotice, notice, parse_description, slack_payload

ALARM_DESCRIPTION = (
    "[page] Vault reports a sealed node: a sealed node serves no requests. "
    "First step: run `vault status` on the sealed node and check its KMS unseal key is usable."
)


def alarm_message(state="ALARM", description=ALARM_DESCRIPTION, reason=None):
    """The `Message` CloudWatch publishes for a metric alarm's state change (fake account and names)."""
    return {
        "AlarmName": "candlefish-production-vault-sealed",
        "AlarmDescription": description,
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-03-30T12:01:02.345+0000",
        "NewStateValue": state,
        "NewStateReason": reason
        or (
            "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (30/03/26 14:04:00)] was less than the "
            "threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        "StateChangeTime": "2026-03-30T14:05:09.123+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:candlefish-production-vault-sealed",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "OKActions": ["arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"],
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "vault.core.unsealed",
            "Namespace": "Candlefish/Vault",
            "StatisticType": "Statistic",
            "Statistic": "MINIMUM",
            "Unit": None,
            "Dimensions": [{"value": "candlefish-production", "name": "vault_cluster"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "breaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


def sns_event(message, subject='ALARM: "candlefish-production-vault-sealed" in US East (N. Virginia)'):
    """The event SNS invokes a subscribed Lambda with."""
    topic = "arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:2f1a9c4e-7b3d-4e8f-9a6b-1c2d3e4f5a6b",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic,
                    "Subject": subject,
                    "Message": message if isinstance(message, str) else json.dumps(message),
                    "Timestamp": "2026-03-30T14:05:09.318Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def test_descriptions_split_into_severity_meaning_and_first_step():
    described = parse_description(ALARM_DESCRIPTION)
    assert described.severity == "page"
    assert described.meaning == "Vault reports a sealed node: a sealed node serves no requests."
    assert described.first_step.startswith("run `vault status` on the sealed node")


def test_a_description_in_another_shape_is_all_meaning():
    described = parse_description("[urgent] Something else entirely")
    assert (described.severity, described.meaning, described.first_step) == (
        "unknown",
        "[urgent] Something else entirely",
        "",
    )


def test_alarm_notification_becomes_a_readable_slack_message():
    item = notice(sns_event(alarm_message())["Records"][0]["Sns"])
    assert isinstance(item, AlarmNotice)
    payload = slack_payload(item)
    assert payload["text"].startswith("ALARM: candlefish-production-vault-sealed (page).")
    headline, meaning, details = payload["blocks"]
    assert headline["text"]["text"] == (":rotating_light: *ALARM* candlefish-production-vault-sealed (page)")
    assert meaning["text"]["text"].startswith("Vault reports a sealed node")
    fields = [field["text"] for field in details["fields"]]
    assert fields[0].startswith("*Reason*\nThreshold Crossed: 1 out of the last 1 datapoints")
    assert fields[1].startswith("*First step*\nrun `vault status`")
    assert fields[2] == "*Changed*\nOK → ALARM at 2026-03-30T14:05:09.123+0000"
    assert fields[3] == "*Region*\nUS East (N. Virginia)"


def test_recovery_is_marked_ok():
    payload = slack_payload(notice(sns_event(alarm_message(state="OK"))["Records"][0]["Sns"]))
    assert payload["blocks"][0]["text"]["text"].startswith(":white_check_mark: *OK*")


def test_slack_control_characters_are_escaped_and_long_reasons_cut():
    payload = slack_payload(
        notice(sns_event(alarm_message(reason="<!channel> & " + "x" * 5000))["Records"][0]["Sns"])
    )
    reason = payload["blocks"][2]["fields"][0]["text"]
    assert reason.startswith("*Reason*\n&lt;!channel&gt; &amp; ")
    assert len(reason) < 2000
    assert reason.endswith("…")


def test_plain_notifications_keep_subject_and_text():
    text = "Secret mongodb (owner platform-team) is due for rotation."
    item = notice(sns_event(text, subject="Manual rotation due: mongodb")["Records"][0]["Sns"])
    assert item == PlainNotice(subject="Manual rotation due: mongodb", text=text)
    assert slack_payload(item)["text"] == f"*Manual rotation due: mongodb*\n{text}"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://chat.example/services/T0/B0/example-not-a-secret", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://chat.example/hook", False),
        ("ftp://chat.example/hook", False),
        ("not a url", False),
    ],
)
def test_only_https_webhooks_are_used(url, allowed):
    if allowed:
        assert handler.check_webhook_url(url) == url
    else:
        with pytest.raises(handler.ForwardError, match="https://"):
            handler.check_webhook_url(url)


class FakeSlack(http.server.BaseHTTPRequestHandler):
    """Slack's incoming-webhook endpoint on loopback: records each POST and answers `ok` (or fails)."""

    received: list  # (path, content type, body)
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if self.status == 200 else b"invalid_payload")

    def log_message(self, *args):
        pass


@pytest.fixture
def slack():
    handler_class = type("Recorder", (FakeSlack,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler_class
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook_secret(aws, slack, monkeypatch):
    server, _ = slack
    # Shaped like a real webhook path, built at run time, and only ever on loopback.
    url = f"http://127.0.0.1:{server.server_address[1]}/services/" + "/".join(("T0000", "B0000", "example"))
    arn = boto3.client("secretsmanager").create_secret(
        Name="candlefish/test/alerting/slack-webhook-url", SecretString=url
    )["ARN"]
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.setattr(handler, "_cached", None)
    return url


@pytest.mark.slow
def test_the_function_posts_alarms_to_the_webhook_from_secrets_manager(webhook_secret, slack, capsys):
    _, recorder = slack
    result = handler.lambda_handler(sns_event(alarm_message()), None)
    assert result == {"posted": 1}
    [(path, content_type, body)] = recorder.received
    assert path == "/services/T0000/B0000/example"
    assert content_type == "application/json"
    assert body["blocks"][0]["text"]["text"].endswith("candlefish-production-vault-sealed (page)")
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[-1]) == {
        "event": "slack_posted",
        "notice": "candlefish-production-vault-sealed",
        "status": 200,
    }
    assert webhook_secret not in out and "T0000" not in out


@pytest.mark.slow
def test_the_webhook_is_read_once_and_cached(webhook_secret, slack):
    handler.lambda_handler(sns_event(alarm_message()), None)
    boto3.client("secretsmanager").delete_secret(
        SecretId="candlefish/test/alerting/slack-webhook-url", ForceDeleteWithoutRecovery=True
    )
    handler.lambda_handler(sns_event(alarm_message(state="OK")), None)
    assert len(slack[1].received) == 2


@pytest.mark.slow
def test_a_refused_post_fails_the_invocation_so_lambda_retries(webhook_secret, slack, capsys):
    slack[1].status = 500
    with pytest.raises(handler.ForwardError, match="candlefish-production-vault-sealed"):
        handler.lambda_handler(sns_event(alarm_message()), None)
    failure = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert failure["event"] == "slack_post_failed"
    assert failure["error"] == "HTTPError"
    assert webhook_secret not in json.dumps(failure)


@pytest.mark.slow
def test_a_secret_that_is_not_an_https_url_is_refused(aws, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(
        Name="candlefish/test/alerting/slack-webhook-url", SecretString="http://chat.example/hook"
    )["ARN"]
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.setattr(handler, "_cached", None)
    with pytest.raises(handler.ForwardError, match="https://"):
        handler.lambda_handler(sns_event(alarm_message()), None)
