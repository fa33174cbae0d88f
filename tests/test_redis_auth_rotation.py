"""The Redis AUTH token rotates in two deploys (ROTATE, then SET) without a window where clients fail."""

import json

from tests.support.fakes import ACCOUNT_ID
from tests.support.iam_lint import findings
from tests.support.mocks import run_program
from tests.test_config import problems

NS = "candlefish-secrets"
PASSWORD = "random:index/randomPassword:RandomPassword"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def test_the_first_generation_keeps_the_token_of_existing_stacks_and_rotates_by_default(production):
    token = production.one(PASSWORD, "database-redis-auth-token")
    assert token.inputs.get("keepers") is None
    assert production.one(GROUP).inputs["authTokenUpdateStrategy"] == "ROTATE"


def test_a_new_generation_issues_a_new_token_and_set_drops_the_old_one():
    rotated = run_program(
        "production",
        overrides={f"{NS}:redisAuthTokenGeneration": 2, f"{NS}:redisAuthTokenUpdateStrategy": "SET"},
    )
    token = rotated.one(PASSWORD, "database-redis-auth-token")
    assert token.inputs["keepers"] == {"generation": "2"}
    group = rotated.one(GROUP)
    assert group.inputs["authTokenUpdateStrategy"] == "SET"
    version = rotated.one("aws:secretsmanager/secretVersion:SecretVersion", "database-redis-auth-value")
    stored = json.loads(version.inputs["secretString"])
    assert stored["auth_token_generation"] == 2
    assert stored["auth_token"] == group.inputs["authToken"]


def test_a_strategy_that_would_turn_auth_off_or_a_zero_generation_is_refused():
    assert problems(redisAuthTokenUpdateStrategy="DELETE") == [
        f"{NS}:redisAuthTokenUpdateStrategy: 'DELETE' is not a known value (one of ROTATE, SET)"
    ]
    (found,) = problems(redisAuthTokenGeneration=0)
    assert found.startswith(f"{NS}:redisAuthTokenGeneration")


SCHEDULE = "aws:secretsmanager/secretRotation:SecretRotation"
FUNCTION = "aws:lambda/function:Function"


def test_secrets_manager_rotates_the_redis_token_monthly_in_production_with_its_own_function(production):
    secret = production.one("aws:secretsmanager/secret:Secret", "database-redis-auth")
    schedule = production.one(SCHEDULE, "redis-auth-rotation-schedule")
    function = production.one(FUNCTION, "redis-auth-rotation-function")
    assert schedule.inputs["secretId"] == secret.id
    assert schedule.inputs["rotationLambdaArn"] == function.outputs["arn"]
    assert schedule.inputs["rotationRules"]["automaticallyAfterDays"] == 30
    assert schedule.inputs["rotateImmediately"] is False
    # The handler finds the Redis steps and the group by the secret's tags.
    assert secret.inputs["tags"]["RotationTarget"] == "elasticache-auth-token"
    assert secret.inputs["tags"]["ReplicationGroupId"] == production.one(GROUP).inputs["replicationGroupId"]
    assert function.inputs["handler"] == "lambdas.rotation.handler.lambda_handler"
    assert function.inputs["timeout"] == 900 and function.inputs["reservedConcurrentExecutions"] == 1
    assert function.inputs["vpcConfig"]["subnetIds"], "the function runs in the private subnets"


def test_only_secrets_manager_rotating_that_one_secret_may_invoke_the_function(production):
    secret = production.one("aws:secretsmanager/secret:Secret", "database-redis-auth")
    permission = production.one("aws:lambda/permission:Permission", "redis-auth-rotation-invoke")
    assert permission.inputs["principal"] == "secretsmanager.amazonaws.com"
    assert permission.inputs["sourceArn"] == secret.outputs["arn"]


def test_the_function_may_change_only_that_group_and_rotate_only_that_secret(production):
    role_policy = production.one("aws:iam/rolePolicy:RolePolicy", "redis-auth-rotation-function-policy")
    policy = json.loads(role_policy.inputs["policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    group_id = production.one(GROUP).inputs["replicationGroupId"]
    group = by_sid["ChangeTheTokenOfThisGroupOnly"]
    assert group["Action"] == ["elasticache:DescribeReplicationGroups", "elasticache:ModifyReplicationGroup"]
    assert group["Resource"] == [f"arn:aws:elasticache:us-east-1:{ACCOUNT_ID}:replicationgroup:{group_id}"]
    secret = production.one("aws:secretsmanager/secret:Secret", "database-redis-auth")
    assert by_sid["RotateTheRedisAuthSecret"]["Resource"] == [secret.outputs["arn"]]
    # Nothing else: no wildcard action, and no Vault, catalog or other group in reach.
    actions = [action for statement in policy["Statement"] for action in statement["Action"]]
    assert not [action for action in actions if action.endswith("*")]
    assert "elasticache:ModifyReplicationGroup" not in json.dumps(
        production.one("aws:iam/rolePolicy:RolePolicy", "catalog-rotation-access").inputs["policy"]
    )
    assert findings(policy) == []


def test_the_function_reaches_the_elasticache_api_through_an_interface_endpoint(production):
    endpoint = production.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-elasticache-endpoint")
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.elasticache"
    assert endpoint.inputs["privateDnsEnabled"] is True


def test_other_environments_rotate_quarterly_and_zero_days_leaves_only_the_manual_path(dev):
    assert dev.one(SCHEDULE, "redis-auth-rotation-schedule").inputs["rotationRules"] == {
        "automaticallyAfterDays": 90
    }
    manual_only = run_program("dev", overrides={f"{NS}:redisAuthRotationDays": 0})
    assert not [r for r in manual_only.of_type(SCHEDULE) if r.name.startswith("redis-auth-rotation")]
    assert not [r for r in manual_only.of_type(FUNCTION) if r.name.startswith("redis-auth-rotation")]


def test_the_function_logs_to_an_encrypted_group_kept_as_long_as_the_database_logs(production, dev):
    for recording, environment, days in ((production, "production", 365), (dev, "dev", 30)):
        group = recording.one("aws:cloudwatch/logGroup:LogGroup", "redis-auth-rotation-function-logs")
        assert group.inputs["name"] == f"/aws/lambda/candlefish-{environment}-redis-auth-rotation"
        assert group.inputs["retentionInDays"] == days and group.inputs["kmsKeyId"]


def test_a_failed_rotation_step_raises_an_alert_with_its_runbook(production):
    function = production.one(FUNCTION, "redis-auth-rotation-function")
    alarm = production.one("aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-redis-auth-rotation-errors")
    assert alarm.inputs["dimensions"] == {"FunctionName": function.inputs["name"]}
    assert alarm.inputs["metricName"] == "Errors"
    assert "docs/runbooks/alarms.md#redis-auth-rotation-errors" in alarm.inputs["alarmDescription"]
