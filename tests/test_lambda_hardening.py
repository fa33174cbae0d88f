"""Lambda: encrypted dead-letter queues for asynchronous functions, environments under the functions key."""

import json

import pytest

from components.lib.key_policies import KeyPolicyContext, key_policy
from tests.support.iam_lint import findings

FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
# Invoked asynchronously: a log subscription, EventBridge Scheduler (the sweeper), SNS.
ASYNCHRONOUS = {"monitoring-audit-watcher", "break-glass-broker", "alerting-slack-forwarder"}


def functions_of(recording):
    return {f.name: f for f in recording.of_type(FUNCTION)}


def role_statements(recording, function):
    role_arn = function.inputs["role"]
    (role,) = [r for r in recording.of_type("aws:iam/role:Role") if r.outputs["arn"] == role_arn]
    policies = [
        p
        for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["id"]
    ]
    return {s["Sid"]: s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]}


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_every_asynchronous_function_has_an_encrypted_dead_letter_queue(stack, request):
    recording = request.getfixturevalue(stack)
    key = recording.one("aws:kms/key:Key", "keys-functions").outputs["arn"]
    present = ASYNCHRONOUS & set(functions_of(recording))
    assert present >= {"monitoring-audit-watcher"}
    for name, function in functions_of(recording).items():
        config = function.inputs.get("deadLetterConfig")
        if name not in ASYNCHRONOUS:
            assert config is None, name
            continue
        queue = recording.one(QUEUE, f"{name}-dlq")
        assert config == {"targetArn": queue.outputs["arn"]}, name
        assert queue.inputs["kmsMasterKeyId"] == key, name
        assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
        found = role_statements(recording, function)
        assert found["SendFailedEvents"]["Resource"] == [queue.outputs["arn"]], name
        assert found["EncryptFailedEvents"]["Resource"] == [key], name


def test_the_rotation_function_is_invoked_synchronously_and_has_no_queue(production):
    # Secrets Manager invokes the rotation function synchronously and retries a failed step itself.
    assert functions_of(production)["rotation-function"].inputs.get("deadLetterConfig") is None
    expected = {f"{name}-dlq" for name in ASYNCHRONOUS & set(functions_of(production))}
    assert {queue.name for queue in production.of_type(QUEUE)} == expected


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_function_environments_are_encrypted_with_the_functions_key_their_role_may_decrypt(stack, request):
    recording = request.getfixturevalue(stack)
    key = recording.one("aws:kms/key:Key", "keys-functions").outputs["arn"]
    with_environment = [f for f in recording.of_type(FUNCTION) if f.inputs.get("environment")]
    assert len(with_environment) >= 2  # the audit watcher and the rotation function everywhere
    for function in with_environment:
        assert function.inputs["kmsKeyArn"] == key, function.name
        assert role_statements(recording, function)["DecryptOwnEnvironment"] == {
            "Sid": "DecryptOwnEnvironment",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": [key],
        }


def test_functions_key_policy_delegates_to_iam_in_the_account_and_lambda_grants_only_for_resources():
    document = key_policy("functions", KeyPolicyContext("123456789012", "aws", "us-east-1"))
    found = {s["Sid"]: s for s in document["Statement"]}
    assert found["UseThroughIamPolicies"]["Condition"] == {
        "StringEquals": {"kms:CallerAccount": "123456789012"}
    }
    grants = found["GrantsForLambda"]["Condition"]
    assert grants["StringEquals"]["kms:ViaService"] == ["lambda.us-east-1.amazonaws.com"]
    assert grants["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert "kms:CreateGrant" not in json.dumps(found["UseThroughIamPolicies"])


def test_dead_letter_statements_pass_parliament(production):
    watcher = functions_of(production)["monitoring-audit-watcher"]
    found = role_statements(production, watcher)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            found[sid] for sid in ("DecryptOwnEnvironment", "SendFailedEvents", "EncryptFailedEvents")
        ],
    }
    assert findings(document) == []
