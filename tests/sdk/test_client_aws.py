"""`aws-sm://` references through a real HTTP Secrets Manager (moto server)."""

import json
import time

import boto3
import pytest
from candlefish_secrets import NotJson, SecretNotFound, SecretsClient
from candlefish_secrets.aws import SecretsManagerReader
from candlefish_secrets.cache import RotationEvent, SecretCache

pytestmark = pytest.mark.slow
DOCUMENT = {"username": "app", "password": "example-not-a-secret-pw", "port": 5432, "hosts": ["a", "b"]}


class CountingClient:
    """A boto3 Secrets Manager client that counts the operations called on it."""

    def __init__(self, client):
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if callable(attribute):

            def counted(*args, **kwargs):
                self.calls.append(name)
                return attribute(*args, **kwargs)

            return counted
        return attribute


@pytest.fixture
def sm(aws):
    return boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture
def counting(sm):
    return CountingClient(boto3.client("secretsmanager", region_name="us-east-1"))


def client_for(counting, **cache):
    return SecretsClient(secrets_manager=SecretsManagerReader(client=counting), cache=SecretCache(**cache))


def test_each_aws_sm_form_reads_what_it_names(sm, counting):
    first = sm.create_secret(Name="app/db", SecretString=json.dumps(DOCUMENT))
    second = sm.put_secret_value(SecretId="app/db", SecretString=json.dumps({**DOCUMENT, "password": "p2"}))
    with client_for(counting) as client:
        assert json.loads(client.get("aws-sm://app/db"))["password"] == "p2"
        assert client.get("aws-sm://app/db#password") == "p2"
        assert client.get("aws-sm://app/db#port") == "5432"
        assert client.get("aws-sm://app/db#hosts") == '["a","b"]'
        assert client.get("aws-sm://app/db?stage=AWSPREVIOUS#password") == "example-not-a-secret-pw"
        assert (
            client.get(f"aws-sm://app/db?version={first['VersionId']}#password") == "example-not-a-secret-pw"
        )
        assert client.get(f"aws-sm://{first['ARN']}#password") == "p2"
        assert client.describe("aws-sm://app/db")["version"] == second["VersionId"]
        assert client.describe("aws-sm://app/db")["backend"] == "aws-sm"


def test_get_json_is_read_only_and_not_copied_per_call(sm, counting):
    sm.create_secret(Name="app/db", SecretString=json.dumps(DOCUMENT))
    with client_for(counting) as client:
        document = client.get_json("aws-sm://app/db")
        assert document["hosts"] == ("a", "b")
        with pytest.raises(TypeError):
            document["password"] = "changed"
        assert client.get_json("aws-sm://app/db") is document


def test_missing_secrets_fields_and_non_json_are_typed_errors(sm, counting):
    sm.create_secret(Name="app/plain", SecretString="example-not-a-secret-plain")
    sm.create_secret(Name="app/db", SecretString=json.dumps(DOCUMENT))
    with client_for(counting) as client:
        with pytest.raises(SecretNotFound, match="aws-sm://app/absent: not found"):
            client.get("aws-sm://app/absent")
        with pytest.raises(
            SecretNotFound, match=r"has no field 'nope' \(fields: hosts, password, port, username\)"
        ):
            client.get("aws-sm://app/db#nope")
        with pytest.raises(NotJson, match="aws-sm://app/plain#x: the value is not a JSON document") as caught:
            client.get("aws-sm://app/plain#x")
        assert "example-not-a-secret-plain" not in str(caught.value)
        with pytest.raises(NotJson):
            client.get_json("aws-sm://app/plain")


def test_an_unchanged_secret_is_rechecked_by_version_only(sm, counting):
    sm.create_secret(Name="app/token", SecretString="example-not-a-secret-1")
    with client_for(counting, soft_ttl_s=0.2) as client:
        assert client.get("aws-sm://app/token") == "example-not-a-secret-1"
        time.sleep(0.25)
        client.get("aws-sm://app/token")  # stale: one background version check
        deadline = time.monotonic() + 5
        while client.stats().refreshes < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert counting.calls == ["get_secret_value", "describe_secret"]


def test_a_rotation_is_noticed_within_the_soft_ttl_and_reported(sm, counting):
    sm.create_secret(Name="app/token", SecretString="example-not-a-secret-1")
    events: list[RotationEvent] = []
    with client_for(counting, soft_ttl_s=0.5) as client:
        client.on_rotate(events.append, "aws-sm://app/token")
        assert client.get("aws-sm://app/token") == "example-not-a-secret-1"
        rotated_at = time.monotonic()
        new = sm.put_secret_value(SecretId="app/token", SecretString="example-not-a-secret-2")["VersionId"]
        seen = None
        while time.monotonic() - rotated_at < 5:
            if client.get("aws-sm://app/token") == "example-not-a-secret-2":
                seen = time.monotonic() - rotated_at
                break
            time.sleep(0.02)
        assert seen is not None and seen < 0.5 + 1.0  # the soft TTL plus one refresh
        assert [(e.reference, e.new_version, e.backend) for e in events] == [
            ("aws-sm://app/token", new, "aws-sm")
        ]
        assert events[0].staleness_s is not None and events[0].staleness_s < 3
