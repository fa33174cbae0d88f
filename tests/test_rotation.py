"""The rotation function, driven through Secrets Manager's RotateSecret (moto) and a real OpenBao server
(its AWS IAM login answered by the stand-in in the proxy in front of it: OpenBao has no AWS auth)."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from components.vault.policies import template_text
from lambdas.rotation import values
from lambdas.rotation.handler import STEPS, RotationError, lambda_handler
from lambdas.rotation.vault import VaultClient, VaultError
from tests.support import rotation_driver
from tools import rotate as rotate_tool

pytestmark = pytest.mark.slow
INITIAL = "example-not-a-secret-initial-value"
VAULT_PATH = "candlefish/jwt/secret"
# The policy the bootstrap writes, so the tests prove the shipped one is enough.
ROTATION_POLICY = template_text("rotation")
TOKEN = "2f1a9c4e-7b3d-4e8f-9a6b-1c2d3e4f5a6b"
SEED_METADATA = {"owner": "security-team", "type": "crypto", "rotation_days": "180", "source": "generate"}


@pytest.fixture
def vault_server(real_vault):
    real_vault.proxy.with_aws_auth(real_vault.root_token)
    assert real_vault.proxy.aws_auth is not None
    real_vault.proxy.aws_auth.minter_token = real_vault.root_token
    # The session server is shared and the rotation policy names secret/candlefish/*: start clean.
    real_vault.root().secrets.kv.v2.delete_metadata_and_all_versions(path=VAULT_PATH, mount_point="secret")
    return real_vault


@pytest.fixture
def vault(vault_server, monkeypatch):
    """Vault with the AWS auth role the rotation function logs in with, and the entry's initial value."""
    vault_client = vault_server.client()
    vault_client.sys.enable_auth_method("aws")
    vault_client.sys.create_or_update_policy("rotation", ROTATION_POLICY)
    vault_client.auth.aws.create_role(
        "rotation", auth_type="iam", bound_iam_principal_arn=[rotation_driver.ROLE_ARN], policies=["rotation"]
    )
    vault_server.proxy.aws_auth.register_identity("testing", rotation_driver.ROLE_ARN)
    vault_client.secrets.kv.v2.create_or_update_secret(
        path=VAULT_PATH, mount_point="secret", secret={"value": INITIAL}
    )
    vault_client.secrets.kv.v2.update_metadata(
        path=VAULT_PATH, mount_point="secret", custom_metadata=SEED_METADATA
    )
    monkeypatch.setenv("VAULT_ADDR", vault_server.url)
    monkeypatch.setenv("VAULT_AUTH_ROLE", "rotation")
    return vault_client


def make_secret(source="generate", value_format="chars-64"):
    # One attempt: a failed RotateSecret must not be replayed by the SDK behind the test's back.
    client = boto3.client("secretsmanager", config=Config(retries={"total_max_attempts": 1}))
    tags = [
        {"Key": "Source", "Value": source},
        {"Key": "VaultPath", "Value": VAULT_PATH},
        {"Key": "ValueFormat", "Value": value_format},
        {"Key": "Owner", "Value": "security-team"},
    ]
    arn = client.create_secret(Name="candlefish/test/jwt-secret", SecretString=INITIAL, Tags=tags)["ARN"]
    return client, arn


def vault_value(vault):
    return vault.secrets.kv.v2.read_secret_version(
        path=VAULT_PATH, mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]["value"]


# Reads name the stage: moto answers an unstaged read from its own default version, not from AWSCURRENT.


def stages(client, arn):
    return client.describe_secret(SecretId=arn)["VersionIdsToStages"]


def handled(capsys):
    """(event, step) of each line the handler logged: what it did, not what the driver asked of it."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [(line["event"], line.get("step")) for line in lines]


def stopped_before(capsys, step):
    """The rotation crashed before `step` (the driver's simulated crash, a 500 from RotateSecret): every
    step before it completed, and the handler neither ran nor failed one."""
    completed = list(STEPS[: STEPS.index(step)])
    assert handled(capsys) == [("rotation_step_ok", done) for done in completed]


def rotate(client, arn, function_arn, token=TOKEN):
    return client.rotate_secret(
        SecretId=arn,
        ClientRequestToken=token,
        RotationLambdaARN=function_arn,
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=True,
    )


def test_the_lambdas_kv_read_gives_the_version_number_vault_gave_the_value(vault_server):
    # The check-and-set of setSecret compares against this number: it must be Vault's, not a default.
    root = vault_server.root()
    for value in ("example-not-a-secret-1", "example-not-a-secret-2"):
        root.secrets.kv.v2.create_or_update_secret(
            path=VAULT_PATH, mount_point="secret", secret={"value": value}
        )
    client = VaultClient(vault_server.url, token=vault_server.root_token)
    assert client.kv_read("secret", VAULT_PATH) == ({"value": "example-not-a-secret-2"}, 2)


def test_the_lambdas_client_trusts_the_clusters_ca_from_its_environment_and_no_other(openbao_cluster_factory):
    # The Lambda gets the cluster's CA in VAULT_CA_PEM: with it the TLS listener is trusted; without it the
    # system trust store does not know the cluster's private CA and the connection is refused.
    cluster = openbao_cluster_factory(1)
    trusting = VaultClient(cluster.addrs[0], ca_pem=cluster.ca_pem, token=cluster.root_token)
    assert trusting.call("GET", "auth/token/lookup-self")["data"]["policies"] == ["root"]
    with pytest.raises(VaultError, match=r"unreachable: .*CERTIFICATE_VERIFY_FAILED") as refused:
        VaultClient(cluster.addrs[0], token=cluster.root_token).call("GET", "auth/token/lookup-self")
    assert refused.value.status == 0


def test_the_lambdas_client_counts_a_path_never_written_as_version_0(vault_server):
    # 0 is the check-and-set value that lets the first write through and refuses any other.
    client = VaultClient(vault_server.url, token=vault_server.root_token)
    assert client.kv_current_version("secret", f"{VAULT_PATH}-never-written") == 0


def test_a_full_rotation_moves_both_stores_to_one_new_value(aws, vault, monkeypatch, capsys):
    rotation_driver.install(monkeypatch)
    client, arn = make_secret()
    rotate(client, arn, rotation_driver.rotation_function_arn())
    current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    assert current != INITIAL and len(current) == 64
    assert vault_value(vault) == current
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == INITIAL
    assert "AWSCURRENT" in stages(client, arn)[TOKEN]
    logged = capsys.readouterr().out
    assert [(json.loads(line)["event"], json.loads(line)["step"]) for line in logged.splitlines()] == [
        ("rotation_step_ok", "createSecret"),
        ("rotation_step_ok", "setSecret"),
        ("rotation_step_ok", "testSecret"),
        ("rotation_step_ok", "finishSecret"),
    ]
    assert current not in logged and INITIAL not in logged


def test_a_finished_rotation_clears_an_earlier_rotation_status_marker(aws, vault, monkeypatch):
    # RotationStatus flags a secret whose rotation needs a person; once a rotation finishes, it is stale.
    # AWS tag keys are case-sensitive, so only the exact key removes it.
    rotation_driver.install(monkeypatch)
    client, arn = make_secret()
    client.tag_resource(SecretId=arn, Tags=[{"Key": "RotationStatus", "Value": "manual-rotation-required"}])
    rotate(client, arn, rotation_driver.rotation_function_arn())
    assert "AWSCURRENT" in stages(client, arn)[TOKEN]
    tags = {t["Key"] for t in client.describe_secret(SecretId=arn)["Tags"]}
    assert tags == {"Source", "VaultPath", "ValueFormat", "Owner"}


def test_without_vault_auth_role_set_the_lambda_logs_in_with_the_platforms_rotation_role(
    aws, vault, monkeypatch
):
    # The auth role the bootstrap creates is "rotation" (components/catalog/rotation.py sets it too).
    monkeypatch.delenv("VAULT_AUTH_ROLE")
    rotation_driver.install(monkeypatch)
    client, arn = make_secret()
    rotate(client, arn, rotation_driver.rotation_function_arn())
    assert (
        vault_value(vault) == client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )


def test_rotation_adds_to_the_seeds_metadata_without_erasing_it(aws, vault, monkeypatch):
    rotation_driver.install(monkeypatch)
    client, arn = make_secret()
    rotate(client, arn, rotation_driver.rotation_function_arn())
    metadata = vault.secrets.kv.v2.read_secret_metadata(path=VAULT_PATH, mount_point="secret")["data"]
    assert metadata["custom_metadata"] == {
        **SEED_METADATA,
        "rotated_by": "secrets-manager",
        "sm_version": TOKEN,
    }


def test_a_new_schedule_checks_the_function_without_rotating(aws, vault, monkeypatch, capsys):
    """SecretRotation with rotate_immediately=false: Secrets Manager runs testSecret on an empty version."""
    rotation_driver.install(monkeypatch)
    client, arn = make_secret()
    client.rotate_secret(
        SecretId=arn,
        ClientRequestToken=TOKEN,
        RotationLambdaARN=rotation_driver.rotation_function_arn(),
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(line["event"], line.get("step")) for line in lines] == [
        ("rotation_test_skipped", None),
        ("rotation_step_ok", "testSecret"),
    ]
    assert lines[0] == {
        "event": "rotation_test_skipped",
        "secret": "candlefish/test/jwt-secret",
        "reason": "no pending value to test",
    }


def test_a_crash_before_finish_leaves_awscurrent_in_place_and_a_retry_converges(
    aws, vault, monkeypatch, capsys
):
    rotation_driver.install(monkeypatch, stop_before="finishSecret")
    client, arn = make_secret()
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    stopped_before(capsys, "finishSecret")
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL
    pending = client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"]
    assert vault_value(vault) == pending  # setSecret ran; readers of AWSCURRENT still get the old value
    # Secrets Manager retries the remaining steps with the same token; each is idempotent.
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": TOKEN, "Step": step}, None)
    assert (
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        == pending
        == vault_value(vault)
    )


def test_steps_are_idempotent_on_the_request_token(aws, vault, monkeypatch, capsys):
    rotation_driver.install(monkeypatch, stop_before="testSecret")
    client, arn = make_secret()
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    stopped_before(capsys, "testSecret")
    pending = client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"]
    version_before = vault.secrets.kv.v2.read_secret_metadata(path=VAULT_PATH, mount_point="secret")["data"]
    for step in ("createSecret", "setSecret"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": TOKEN, "Step": step}, None)
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"] == pending
    version_after = vault.secrets.kv.v2.read_secret_metadata(path=VAULT_PATH, mount_point="secret")["data"]
    assert version_after["current_version"] == version_before["current_version"]


def test_test_step_fails_when_vault_does_not_hold_the_pending_value(aws, vault, monkeypatch, capsys):
    rotation_driver.install(monkeypatch, stop_before="testSecret")
    client, arn = make_secret()
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    stopped_before(capsys, "testSecret")
    vault.secrets.kv.v2.create_or_update_secret(
        path=VAULT_PATH, mount_point="secret", secret={"value": "example-other"}
    )
    with pytest.raises(RotationError, match="does not hold the pending value"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": TOKEN, "Step": "testSecret"}, None)
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL


def test_a_vault_write_racing_the_rotation_is_refused_not_clobbered(
    aws, vault, vault_server, monkeypatch, capsys
):
    rotation_driver.install(monkeypatch, stop_before="setSecret")
    client, arn = make_secret()
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    stopped_before(capsys, "setSecret")
    # Someone writes between the rotation's version read and its write: check-and-set refuses the stale write.
    from lambdas.rotation import vault as vault_module

    real_version = vault_module.VaultClient.kv_current_version

    def stale_version(self, mount, path):
        version = real_version(self, mount, path)
        vault.secrets.kv.v2.create_or_update_secret(
            path=VAULT_PATH, mount_point="secret", secret={"value": "example-racer"}
        )
        return version

    monkeypatch.setattr(vault_module.VaultClient, "kv_current_version", stale_version)
    with pytest.raises(RotationError, match="changed while rotating"):
        lambda_handler({"SecretId": arn, "ClientRequestToken": TOKEN, "Step": "setSecret"}, None)
    assert vault_value(vault) == "example-racer"


def test_a_vault_write_refused_for_another_reason_is_not_called_a_race(
    aws, vault, vault_server, monkeypatch, capsys
):
    rotation_driver.install(monkeypatch, stop_before="setSecret")
    client, arn = make_secret()
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    stopped_before(capsys, "setSecret")
    # A 400 that is not a check-and-set conflict (a malformed write) is Vault's error, not "changed while
    # rotating": Secrets Manager's retry would not help, and the message must say what Vault said.
    vault_server.proxy.fail_next(
        1, status=400, path_prefix="secret/data/", method="POST", message="invalid data"
    )
    with pytest.raises(VaultError, match="invalid data") as failed:
        lambda_handler({"SecretId": arn, "ClientRequestToken": TOKEN, "Step": "setSecret"}, None)
    assert failed.value.status == 400
    assert vault_value(vault) == INITIAL


def test_externally_issued_credentials_are_announced_not_faked(aws, vault, monkeypatch, capsys):
    rotation_driver.install(monkeypatch)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="candlefish-test-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", topic)
    client, arn = make_secret(source="config")
    rotate(client, arn, rotation_driver.rotation_function_arn())
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL
    assert vault_value(vault) == INITIAL
    tags = {t["Key"]: t["Value"] for t in client.describe_secret(SecretId=arn)["Tags"]}
    assert tags["RotationStatus"] == "manual-rotation-required"
    message = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert message["Subject"] == "Manual rotation due: candlefish/test/jwt-secret"
    assert message["Message"] == (
        "Secret candlefish/test/jwt-secret (owner security-team) is due for rotation. It is issued outside "
        "this platform, so it must be rotated by hand: issue a new credential at its provider, store it "
        "with `pulumi config set --secret`, and bump the entry's reseed trigger."
    )
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="Candlefish/Secrets")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["ManualRotationDue"]
    [point] = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="Candlefish/Secrets",
        MetricName="ManualRotationDue",
        Dimensions=metrics[0]["Dimensions"],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert (point["Sum"], point["Unit"]) == (1.0, "Count")  # the alarm on it counts announcements
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert {
        "event": "manual_rotation_due",
        "secret": "candlefish/test/jwt-secret",
        "owner": "security-team",
    } in lines


def test_a_secret_without_catalog_tags_is_refused(aws, vault, monkeypatch, capsys):
    rotation_driver.install(monkeypatch)
    client = boto3.client("secretsmanager", config=Config(retries={"total_max_attempts": 1}))
    arn = client.create_secret(Name="stray", SecretString=INITIAL)["ARN"]
    with pytest.raises(ClientError):
        rotate(client, arn, rotation_driver.rotation_function_arn())
    failure = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (failure["event"], failure["step"], failure["error"]) == (
        "rotation_failed",
        "createSecret",
        "RotationError",
    )
    assert failure["detail"] == "secret stray lacks the catalog tags Source, VaultPath; cannot rotate it"
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL


def test_an_unknown_step_is_refused():
    with pytest.raises(RotationError, match="unknown rotation step"):
        lambda_handler({"SecretId": "x", "ClientRequestToken": TOKEN, "Step": "dropSecret"}, None)


@pytest.mark.parametrize(("value_format", "check"), [
    ("chars-64", lambda v: len(v) == 64 and set(v) <= set(values.ALPHABET)),
    ("base64-32", lambda v: len(__import__("base64").b64decode(v)) == 32),
])  # fmt: skip
def test_new_values_follow_the_entrys_format(value_format, check):
    first, second = values.new_value(value_format), values.new_value(value_format)
    assert check(first) and first != second


@pytest.mark.parametrize("value_format", ["chars-8", "base64-8", "hex-32", "chars"])
def test_weak_or_unknown_formats_are_refused(value_format):
    with pytest.raises(values.FormatError):
        values.new_value(value_format)


class TestManualRotationCommand:
    """`python -m tools.rotate`: start a rotation now and wait for its outcome."""

    def enabled_secret(self, monkeypatch, source="generate", name="candlefish/production/jwt-secret"):
        rotation_driver.install(monkeypatch)
        client = boto3.client("secretsmanager", config=Config(retries={"total_max_attempts": 1}))
        tags = [
            {"Key": "Source", "Value": source},
            {"Key": "VaultPath", "Value": VAULT_PATH},
            {"Key": "ValueFormat", "Value": "chars-64"},
        ]
        arn = client.create_secret(Name=name, SecretString=INITIAL, Tags=tags)["ARN"]
        rotate(client, arn, rotation_driver.rotation_function_arn())  # what SecretRotation sets up
        return client, arn

    def test_rotates_and_reports_the_new_current_version(self, aws, vault, monkeypatch):
        client, arn = self.enabled_secret(monkeypatch)
        before = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        outcome = rotate_tool.rotate(client, arn, timeout_s=5, sleep=lambda _: None)
        after = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        assert outcome == rotate_tool.Outcome(version_id=after["VersionId"], manual=False)
        assert after["SecretString"] != before
        assert vault_value(vault) == after["SecretString"]

    def test_reports_externally_issued_credentials_as_manual(self, aws, vault, monkeypatch):
        client, arn = self.enabled_secret(monkeypatch, source="config")
        outcome = rotate_tool.rotate(client, arn, timeout_s=5, sleep=lambda _: None)
        assert outcome.manual is True
        assert client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] == INITIAL

    def test_refuses_a_secret_without_rotation(self, aws):
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="candlefish/production/plain", SecretString=INITIAL)["ARN"]
        with pytest.raises(rotate_tool.RotationFailed, match="no rotation configured"):
            rotate_tool.rotate(client, arn, timeout_s=1)

    def test_a_failing_rotation_function_is_reported(self, aws, vault, monkeypatch):
        client, arn = self.enabled_secret(monkeypatch)
        rotation_driver.install(monkeypatch, stop_before="testSecret")
        with pytest.raises(rotate_tool.RotationFailed, match="could not start a rotation"):
            rotate_tool.rotate(client, arn, timeout_s=1)
        with pytest.raises(rotate_tool.RotationFailed, match="a previous rotation has not finished"):
            rotate_tool.rotate(client, arn, timeout_s=1)

    def test_gives_up_after_the_timeout(self):
        class NeverFinishes:
            def describe_secret(self, SecretId):
                return {
                    "RotationEnabled": True,
                    "VersionIdsToStages": {"v1": ["AWSCURRENT"], "v2": ["AWSPENDING"]},
                }

            def rotate_secret(self, SecretId):
                return {"VersionId": "v2"}

        with pytest.raises(rotate_tool.RotationFailed, match="v2 is still not AWSCURRENT after 0s"):
            rotate_tool.rotate(NeverFinishes(), "arn:x", timeout_s=0, sleep=lambda _: None)

    def test_command_line_rotates_a_production_entry(self, aws, vault, vault_server, monkeypatch, capsys):
        self.enabled_secret(monkeypatch)
        monkeypatch.setenv("VAULT_TOKEN", vault_server.root_token)  # the command checks Vault agrees
        assert rotate_tool.main(["jwt-secret", "--stack", "production", "--timeout", "5"]) == 0
        out = capsys.readouterr().out
        assert "candlefish/production/jwt-secret rotated: version" in out
        assert "is AWSCURRENT in Secrets Manager and Vault" in out

    def test_command_line_refuses_an_unknown_entry(self, capsys):
        assert rotate_tool.main(["nope", "--stack", "production"]) == 2
        assert (
            "'nope' is not in the production catalog (encryption-key, jwt-secret" in capsys.readouterr().err
        )


def test_the_command_finds_a_secret_by_its_exact_name_not_as_a_partial_arn(aws):
    client = boto3.client("secretsmanager")
    wanted = client.create_secret(Name="candlefish/production/jwt-secret", SecretString=INITIAL)["ARN"]
    client.create_secret(Name="candlefish/production/jwt-secret-old", SecretString=INITIAL)
    assert rotate_tool.resolve_arn(client, "candlefish/production/jwt-secret") == wanted
    with pytest.raises(rotate_tool.RotationFailed, match="no secret named candlefish/production/absent"):
        rotate_tool.resolve_arn(client, "candlefish/production/absent")
