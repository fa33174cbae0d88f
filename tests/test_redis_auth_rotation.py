"""The Redis AUTH token rotates in two deploys (ROTATE, then SET) without a window where clients fail."""

import json

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
