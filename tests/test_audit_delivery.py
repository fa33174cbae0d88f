"""Vault's audit log path: subscription filter → Firehose → the object-locked audit bucket."""

import json

from components.audit_delivery import AUDIT_PREFIX, ERROR_LOG_STREAM, ERROR_PREFIX
from tests.support.iam_lint import findings

STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


def role_policy(recording, name):
    return {
        s["Sid"]: s
        for s in json.loads(recording.one("aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])[
            "Statement"
        ]
    }


def trust(recording, name):
    return json.loads(recording.one("aws:iam/role:Role", name).inputs["assumeRolePolicy"])["Statement"][0]


def test_every_audit_event_is_subscribed_to_the_firehose_stream(production):
    filters = production.of_type("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    on_audit = [
        f
        for f in filters
        if f.inputs["logGroup"]
        == production.one("aws:cloudwatch/logGroup:LogGroup", "vault-audit-logs").outputs["name"]
    ]
    # CloudWatch Logs allows at most two subscription filters per log group (the watcher and this one).
    assert len(on_audit) <= 2
    subscription = production.one(
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "audit-delivery-subscription"
    )
    audit_group = production.one("aws:cloudwatch/logGroup:LogGroup", "vault-audit-logs")
    stream = production.one(STREAM)
    assert subscription.inputs["logGroup"] == audit_group.outputs["name"]
    assert subscription.inputs["filterPattern"] == ""
    assert subscription.inputs["destinationArn"] == stream.outputs["arn"]
    logs_role = production.one("aws:iam/role:Role", "audit-delivery-logs-role")
    assert subscription.inputs["roleArn"] == logs_role.outputs["arn"]
    # CloudWatch Logs tests the role when the filter is created: the policy must be there first.
    policy = production.one("aws:iam/rolePolicy:RolePolicy", "audit-delivery-logs-policy")
    assert policy.urn in subscription.dependencies


def test_firehose_delivers_into_the_staging_bucket_with_sse_kms_and_logs_its_errors(production):
    stream = production.one(STREAM)
    s3 = stream.inputs["extendedS3Configuration"]
    audit = production.one("aws:s3/bucket:Bucket", "storage-audit-staging")
    data_key = production.one("aws:kms/key:Key", "keys-data").outputs["arn"]
    assert stream.inputs["destination"] == "extended_s3"
    assert s3["bucketArn"] == audit.outputs["arn"]
    assert s3["kmsKeyArn"] == data_key
    assert s3["prefix"].startswith(AUDIT_PREFIX)
    assert s3["errorOutputPrefix"].startswith(ERROR_PREFIX)
    assert s3["roleArn"] == production.one("aws:iam/role:Role", "audit-delivery-firehose-role").outputs["arn"]
    errors = production.one("aws:cloudwatch/logGroup:LogGroup", "audit-delivery-errors")
    assert s3["cloudwatchLoggingOptions"] == {
        "enabled": True,
        "logGroupName": errors.outputs["name"],
        "logStreamName": ERROR_LOG_STREAM,
    }
    assert errors.inputs["retentionInDays"] == 365
    assert errors.inputs["kmsKeyId"] == production.one("aws:kms/key:Key", "keys-logs").outputs["arn"]


def test_firehose_role_is_least_privilege_and_guarded_against_confused_deputies(production):
    statement = trust(production, "audit-delivery-firehose-role")
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    found = role_policy(production, "audit-delivery-firehose-policy")
    arn = production.one("aws:s3/bucket:Bucket", "storage-audit-staging").outputs["arn"]
    assert found["WriteAuditObjects"]["Resource"] == [f"{arn}/{AUDIT_PREFIX}*", f"{arn}/{ERROR_PREFIX}*"]
    assert "s3:DeleteObject" not in json.dumps(found)
    assert found["EncryptWithTheDataKeyThroughS3"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [arn]},
    }
    errors = production.one("aws:cloudwatch/logGroup:LogGroup", "audit-delivery-errors").outputs["arn"]
    assert found["LogDeliveryErrors"]["Resource"] == [f"{errors}:log-stream:{ERROR_LOG_STREAM}"]
    document = json.loads(
        production.one("aws:iam/rolePolicy:RolePolicy", "audit-delivery-firehose-policy").inputs["policy"]
    )
    assert findings(document) == []


def test_logs_role_may_only_put_records_into_this_stream(production):
    statement = trust(production, "audit-delivery-logs-role")
    assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert statement["Condition"] == {
        "StringLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"}
    }
    (only,) = role_policy(production, "audit-delivery-logs-policy").values()
    assert only["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert only["Resource"] == [production.one(STREAM).outputs["arn"]]


def test_the_stream_waits_for_its_role_policy_and_the_staging_bucket_policy(production):
    stream = production.one(STREAM)
    assert (
        production.one("aws:iam/rolePolicy:RolePolicy", "audit-delivery-firehose-policy").urn
        in stream.dependencies
    )
    audit_policy = production.one("aws:s3/bucketPolicy:BucketPolicy", "storage-audit-staging-policy")
    assert audit_policy.urn in stream.dependencies
