"""The scheduled Redis AUTH rotation, driven through Secrets Manager's RotateSecret (moto, with the rotation
driver) against a moto replication group whose ModifyReplicationGroup AUTH rules come from a small stand-in
(tests/support/elasticache_auth_standin.py: moto ignores AuthToken and AuthTokenUpdateStrategy)."""

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.elasticache.models import elasticache_backends

from lambdas.rotation.handler import lambda_handler
from lambdas.rotation.redis_auth import (
    ROTATED_LABEL,
    TARGET,
    RedisAuthRotation,
    RedisRotationError,
    new_token,
)
from tests.support import elasticache_auth_standin, rotation_driver
from tests.support.moto_server import REGION

GROUP = "candlefish-test-redis"
INITIAL = "example-not-a-secret-redis-token-0"
ACCOUNT = "123456789012"


@pytest.fixture
def tokens(aws, monkeypatch):
    """The group's accepted tokens, as the stand-in records them."""
    return elasticache_auth_standin.install(monkeypatch)


@pytest.fixture
def stack(tokens):
    """A TLS replication group with its first token, and the secret the stack writes for it."""
    boto3.client("elasticache").create_replication_group(
        ReplicationGroupId=GROUP,
        ReplicationGroupDescription="test",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=2,
        TransitEncryptionEnabled=True,
        AuthToken=INITIAL,
    )
    tokens.valid[GROUP] = [INITIAL]
    client = boto3.client("secretsmanager", config=Config(retries={"total_max_attempts": 1}))
    body = {
        "auth_token": INITIAL,
        "auth_token_generation": 1,
        "primary_endpoint": "redis.example",
    }
    arn = client.create_secret(
        Name="candlefish/test/redis/auth",
        SecretString=json.dumps(body),
        Tags=[{"Key": "RotationTarget", "Value": TARGET}, {"Key": "ReplicationGroupId", "Value": GROUP}],
    )["ARN"]
    return client, arn


def rotate(client, arn, token=None):
    return client.rotate_secret(
        SecretId=arn,
        ClientRequestToken=token or str(uuid.uuid4()),
        RotationLambdaARN=rotation_driver.rotation_function_arn(),
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=True,
    )


def current(client, arn) -> dict:
    body: dict = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    return body


def holder(client, arn, label):
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next((version for version, labels in stages.items() if label in labels), None)


def test_a_rotation_adds_the_new_token_beside_the_old_and_makes_it_current(stack, tokens, monkeypatch):
    rotation_driver.install(monkeypatch)
    client, arn = stack
    rotate(client, arn)
    body = current(client, arn)
    assert body["auth_token"] != INITIAL
    # Only the token changed; clients find the endpoints where they were.
    assert {k: v for k, v in body.items() if k != "auth_token"} == {
        "auth_token_generation": 1,
        "primary_endpoint": "redis.example",
    }
    # Clients still holding the old token keep working until the next rotation.
    assert tokens.valid[GROUP] == [INITIAL, body["auth_token"]]
    assert tokens.calls == [(GROUP, "ROTATE")]
    assert holder(client, arn, ROTATED_LABEL) == holder(client, arn, "AWSCURRENT")


def test_the_next_rotation_sets_the_current_token_first_so_the_oldest_stops_working(
    stack, tokens, monkeypatch
):
    rotation_driver.install(monkeypatch)
    client, arn = stack
    rotate(client, arn)
    first = current(client, arn)["auth_token"]
    rotate(client, arn)
    second = current(client, arn)["auth_token"]
    assert tokens.calls == [(GROUP, "ROTATE"), (GROUP, "SET"), (GROUP, "ROTATE")]
    assert tokens.valid[GROUP] == [first, second]
    assert holder(client, arn, ROTATED_LABEL) == holder(client, arn, "AWSCURRENT")


def test_a_retried_set_secret_does_not_add_the_token_twice(stack, tokens, monkeypatch):
    rotation_driver.install(monkeypatch, stop_before="testSecret")
    client, arn = stack
    token = str(uuid.uuid4())
    with pytest.raises(ClientError):
        rotate(client, arn, token)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)
    assert tokens.calls == [(GROUP, "ROTATE")]
    assert holder(client, arn, "AWSCURRENT") == token
    assert tokens.valid[GROUP] == [INITIAL, current(client, arn)["auth_token"]]


def test_test_secret_fails_when_the_token_never_reached_elasticache(stack, tokens, monkeypatch):
    rotation_driver.install(monkeypatch, stop_before="setSecret")
    client, arn = stack
    token = str(uuid.uuid4())
    with pytest.raises(ClientError):
        rotate(client, arn, token)
    with pytest.raises(RedisRotationError, match="the pending token was never added"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": "testSecret"}, None)
    assert current(client, arn)["auth_token"] == INITIAL and tokens.calls == []


def rotate_by_hand(client, arn) -> str:
    """The manual path after a scheduled rotation, both deploys: SET the scheduled token, ROTATE the stack's
    new one in, write it as AWSCURRENT. Returns the manual token."""
    scheduled = current(client, arn)["auth_token"]
    elasticache = boto3.client("elasticache")
    elasticache.modify_replication_group(
        ReplicationGroupId=GROUP, AuthToken=scheduled, AuthTokenUpdateStrategy="SET", ApplyImmediately=True
    )
    manual = "example-not-a-secret-redis-token-manual"
    elasticache.modify_replication_group(
        ReplicationGroupId=GROUP, AuthToken=manual, AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True
    )
    elasticache.modify_replication_group(
        ReplicationGroupId=GROUP, AuthToken=manual, AuthTokenUpdateStrategy="SET", ApplyImmediately=True
    )
    # The stack writes the new value as AWSCURRENT. (moto's PutSecretValue would leave a second AWSCURRENT
    # after a rotation moved the label, so the test stages it and moves the label as AWS would.)
    written = client.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"auth_token": manual}), VersionStages=["STACK"]
    )
    client.update_secret_version_stage(
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=written["VersionId"],
        RemoveFromVersionId=holder(client, arn, "AWSCURRENT"),
    )
    return manual


def test_after_a_manual_rotation_the_next_one_leaves_the_set_to_the_operator(stack, tokens, monkeypatch):
    rotation_driver.install(monkeypatch)
    client, arn = stack
    rotate(client, arn)
    manual = rotate_by_hand(client, arn)
    rotate(client, arn)
    # No SET of the scheduled token (the stale label is dropped): it would have cut off the manual one.
    assert tokens.calls[-1] == (GROUP, "ROTATE") and tokens.calls.count((GROUP, "SET")) == 2
    assert tokens.valid[GROUP] == [manual, current(client, arn)["auth_token"]]


def test_after_a_manual_rotation_create_secret_already_drops_the_stale_label(stack, tokens, monkeypatch):
    # The label names the version whose token the last rotation added; after a manual rotation that token
    # is gone from the group, so createSecret takes the label off it before anything else can read it.
    rotation_driver.install(monkeypatch)
    client, arn = stack
    rotate(client, arn)
    rotate_by_hand(client, arn)
    rotation_driver.install(monkeypatch, stop_before="setSecret")
    with pytest.raises(ClientError):
        rotate(client, arn)
    assert holder(client, arn, ROTATED_LABEL) is None


def test_a_group_that_stays_busy_ends_the_step_before_the_function_times_out(stack, monkeypatch):
    client, arn = stack
    elasticache_backends[ACCOUNT][REGION].replication_groups[GROUP].status = "modifying"
    monkeypatch.setenv("REDIS_POLL_SECONDS", "0.01")
    client.put_secret_value(
        SecretId=arn, ClientRequestToken="t-1" * 12, SecretString=json.dumps({"auth_token": new_token()}),
        VersionStages=["AWSPENDING"],
    )  # fmt: skip
    rotation = RedisAuthRotation(
        client, boto3.client("elasticache"), arn, "t-1" * 12, group_id=GROUP, remaining_ms=lambda: 10_000
    )
    with pytest.raises(RedisRotationError, match=f"{GROUP} is still modifying; Secrets Manager retries"):
        rotation.run("setSecret")


def test_a_secret_without_its_group_tag_is_refused():
    with pytest.raises(RedisRotationError, match="lacks the ReplicationGroupId tag"):
        RedisAuthRotation(None, None, "arn:aws:secretsmanager:us-east-1:1:secret:x", "t", group_id="")


def test_new_tokens_meet_elasticaches_rules():
    made = {new_token() for _ in range(50)}
    assert len(made) == 50
    for token in made:
        assert len(token) == 64 and not set(token) & set('/"@% ')
        assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!&#$^<>-")
