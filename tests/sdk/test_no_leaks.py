"""No secret value in an exception, a log line, a repr or a traceback, whatever goes wrong.

Every log record at INFO and above from every logger (the SDK's, hvac's, botocore's, urllib3's) is
captured while reads succeed, fail, fall back, refresh with errors and rotate. (botocore logs whole
response bodies at DEBUG; applications must not run botocore at DEBUG in production, with or without
this SDK.)
"""

import json
import logging
import time
import traceback

import boto3
import pytest
from candlefish_secrets import (
    AppRoleAuth,
    AwsIamAuth,
    Fallback,
    SecretsClient,
    SecretsError,
    TokenAuth,
)
from candlefish_secrets.aws import SecretsManagerReader
from candlefish_secrets.cache import SecretCache
from candlefish_secrets.vault import VaultSession

from tests.sdk.conftest import wait_for

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
VALUES = ["example-not-a-secret-leak-1", "example-not-a-secret-leak-2", "example-not-a-secret-json-pw"]


def failures(client, references):
    caught = []
    for reference in references:
        try:
            client.get(reference)
        except SecretsError as error:
            caught.append(error)
    return caught


def assert_clean(text):
    for value in VALUES:
        assert value not in text


def test_values_never_reach_logs_errors_or_reprs(openbao_dev, openbao_client, aws, kv_path, caplog):
    caplog.set_level(logging.INFO)
    openbao_client.secrets.kv.v2.create_or_update_secret(
        path=kv_path, mount_point="secret", secret={"value": VALUES[0]}
    )
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="app/plain", SecretString=VALUES[1])
    sm.create_secret(Name="app/json", SecretString=json.dumps({"password": VALUES[2]}))
    auth = TokenAuth(openbao_dev.root_token)
    session = VaultSession(openbao_dev.addr, auth)
    client = SecretsClient(
        vault=session,
        secrets_manager=SecretsManagerReader(region="us-east-1"),
        fallback=Fallback("test"),
        cache=SecretCache(soft_ttl_s=0.2, negative_ttl_s=0.01),
    )

    def broken_callback(event):
        raise RuntimeError(f"callback saw {event}")

    client.on_rotate(broken_callback)
    assert client.get(f"vault://{kv_path}") == VALUES[0]
    assert client.get("aws-sm://app/plain") == VALUES[1]
    assert client.get("aws-sm://app/json#password") == VALUES[2]
    errors = failures(
        client,
        [
            "aws-sm://app/plain#field",  # not JSON
            "aws-sm://app/json#nope",  # no such field
            "aws-sm://app/absent",
            f"vault://{kv_path}#nope",
            f"vault://{kv_path}/absent",
        ],
    )
    errors += [_raised(lambda: client.get_json("aws-sm://app/plain"))]
    errors += [_raised(lambda: client.resolve_env({"A": "aws-sm://app/plain#x", "B": "aws-sm://app/absent"}))]
    # A rotation that a callback chokes on, then a refresh failure while the value is served stale.
    openbao_client.secrets.kv.v2.create_or_update_secret(
        path=kv_path, mount_point="secret", secret={"value": VALUES[0] + "-rotated"}
    )
    time.sleep(0.25)
    client.get(f"vault://{kv_path}")
    wait_for(lambda: client.stats().rotations == 1)
    sm.delete_secret(SecretId="app/plain", ForceDeleteWithoutRecovery=True)
    time.sleep(0.25)
    client.get("aws-sm://app/plain")
    wait_for(lambda: client.stats().refresh_errors >= 1)

    texts = [caplog.text]
    for error in errors:
        assert error is not None
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [
        repr(obj) for obj in (client, session, auth, client.cache.entry(f"vault://{kv_path}"), client.stats())
    ]
    texts += [repr(AppRoleAuth("role", VALUES[0])), repr(AwsIamAuth("role"))]
    texts += [repr(session.kv_read("secret", kv_path))]
    texts += [json.dumps(client.status(), default=str)]
    assert len(errors) == 7
    for text in texts:
        assert_clean(text)
    assert "***" in repr(client.cache.entry(f"vault://{kv_path}"))
    client.close()


def _raised(call):
    try:
        call()
    except SecretsError as error:
        return error
    return None
