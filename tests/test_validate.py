"""tools.validate against a real 3-node OpenBao cluster (health, raft, autopilot, audit, canary, TLS,
tokens) and moto (snapshot age, Secrets Manager canary): each check passes on a good state and fails, with
its first step, on a bad one."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.support.openbao import OpenBaoCluster
from tools import validate
from tools import validate_checks as checks
from tools.validate_checks import FAIL, PASS, UNKNOWN, Check
from tools.vault_http import VaultHttp

BUCKET = "candlefish-test-snapshots"


def _entry(cluster: OpenBaoCluster, token: str | None = None) -> VaultHttp:
    return VaultHttp(cluster.leader().addr, token or cluster.root_token or "", cluster.ca_cert_path)


def _nodes(cluster: OpenBaoCluster) -> list[VaultHttp]:
    return [VaultHttp(addr, "", cluster.ca_cert_path) for addr in cluster.addrs]


def _autopilot_sees_voters(entry: VaultHttp, count: int) -> None:
    """Autopilot's state lags the raft configuration by a few seconds after a cluster forms."""
    deadline = time.monotonic() + 60
    while len(entry.get("sys/storage/raft/autopilot/state").data.get("voters") or []) < count:
        assert time.monotonic() < deadline, "autopilot never counted the voters"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def kv_mounted(openbao_cluster: OpenBaoCluster) -> None:
    entry = _entry(openbao_cluster)
    answer = entry.post("sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert answer.ok or "already in use" in answer.errors, answer.errors


@pytest.mark.openbao
def test_every_node_is_unsealed_and_exactly_one_is_active(openbao_cluster):
    found = checks.node_health(_nodes(openbao_cluster))
    assert [check.status for check in found] == [PASS, PASS, PASS]
    assert sum("active" in check.detail for check in found) == 1


@pytest.mark.openbao
def test_an_unreachable_node_cannot_be_checked_rather_than_crashing():
    (found,) = checks.node_health([VaultHttp("https://127.0.0.1:9")])
    assert found.status == UNKNOWN and "cannot reach Vault" in found.detail


@pytest.mark.openbao
def test_leader_raft_and_autopilot_pass_for_three_voters(openbao_cluster):
    entry = _entry(openbao_cluster)
    _autopilot_sees_voters(entry, 3)
    assert checks.leader(entry).status == PASS
    raft = checks.raft_peers(entry, expected=3)
    assert raft.status == PASS and raft.detail == "3 voters of 3 peers"
    pilot = checks.autopilot(entry, voters=3)
    assert pilot.status == PASS and "failure tolerance 1 (wanted 1 for 3)" in pilot.detail, pilot


@pytest.mark.openbao
def test_five_expected_voters_fail_the_raft_and_tolerance_checks_with_a_first_step(openbao_cluster):
    entry = _entry(openbao_cluster)
    raft = checks.raft_peers(entry, expected=5)
    assert raft.status == FAIL and "expected 5 voters" in raft.detail
    assert "node-replacement.md" in raft.first_step
    pilot = checks.autopilot(entry, voters=5)
    assert pilot.status == FAIL and "(wanted 2 for 5)" in pilot.detail


@pytest.mark.openbao
def test_audit_devices_fail_when_none_and_pass_when_enabled(openbao_cluster, tmp_path):
    entry = _entry(openbao_cluster)
    before = checks.audit_devices(entry)
    assert before.status == FAIL and "audit-log-gap" in before.first_step
    enabled = entry.post(
        "sys/audit/validate-test", {"type": "file", "options": {"file_path": str(tmp_path / "audit.log")}}
    )
    assert enabled.ok, enabled.errors
    try:
        after = checks.audit_devices(entry)
        assert after.status == PASS and after.detail == "validate-test"
    finally:
        entry.request("DELETE", "sys/audit/validate-test")


@pytest.mark.openbao
def test_the_vault_canary_is_written_and_read_back(openbao_cluster, kv_mounted):
    found = checks.vault_canary(_entry(openbao_cluster))
    assert found.status == PASS and "written and read back" in found.detail, found


@pytest.mark.openbao
def test_a_token_that_may_not_write_the_canary_fails_the_check(openbao_cluster, kv_mounted):
    root = _entry(openbao_cluster)
    weak = root.post("auth/token/create", {"policies": ["default"], "ttl": "5m"}).body["auth"]["client_token"]
    found = checks.vault_canary(_entry(openbao_cluster, weak))
    assert found.status == FAIL and "write refused" in found.detail


@pytest.mark.openbao
def test_tls_expiry_reads_the_served_certificate(openbao_cluster):
    entry = _entry(openbao_cluster)
    # The fixture's throwaway CA issues certificates valid for days, not months.
    short = checks.tls_expiry(entry.addr, entry.ca_cert)
    assert short.status == FAIL and "rotate the certificate" in short.first_step, short
    earlier = checks.tls_expiry(entry.addr, entry.ca_cert, now=datetime.now(UTC) - timedelta(days=60))
    assert earlier.status == PASS and earlier.detail.startswith("expires "), earlier
    assert int(earlier.detail.split("(")[1].split()[0]) >= 60
    assert checks.tls_expiry("http://127.0.0.1:1", None).status == UNKNOWN


@pytest.mark.openbao
def test_a_live_root_or_break_glass_token_fails_the_token_check(openbao_cluster):
    entry = _entry(openbao_cluster)
    assert checks.privileged_tokens(entry).status == PASS  # the caller's own root token is not counted
    extra = entry.post("auth/token/create", {"policies": ["root"], "ttl": "5m"}).body["auth"]
    try:
        found = checks.privileged_tokens(entry)
        assert found.status == FAIL and found.detail.startswith(f"root token {extra['accessor'][:8]}")
        assert "root-token-used" in found.first_step
    finally:
        entry.post("auth/token/revoke-accessor", {"accessor": extra["accessor"]})
    entry.post("sys/policies/acl/break-glass", {"policy": 'path "secret/*" { capabilities = ["read"] }'})
    glass = entry.post("auth/token/create", {"policies": ["break-glass"], "ttl": "5m"}).body["auth"]
    try:
        found = checks.privileged_tokens(entry)
        assert found.status == FAIL and found.detail.startswith("break-glass token")
    finally:
        entry.post("auth/token/revoke-accessor", {"accessor": glass["accessor"]})


def _snapshot(s3, key: str, **metadata: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"snapshot", Metadata=metadata)


def test_snapshot_age_passes_for_a_fresh_recorded_snapshot_and_fails_when_stale(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    assert checks.snapshot_age(s3, BUCKET, "raft-snapshots/").detail == "no snapshot at all"
    _snapshot(s3, "raft-snapshots/2026/12/03/20261203T070000Z.snap", sha256="a" * 64)
    assert checks.snapshot_age(s3, BUCKET, "raft-snapshots/").status == PASS
    stale = checks.snapshot_age(
        s3, BUCKET, "raft-snapshots/", now=datetime.now(UTC) + timedelta(hours=2, minutes=1)
    )
    assert stale.status == FAIL and "snapshot-stale" in stale.first_step


def test_a_snapshot_without_a_recorded_checksum_fails(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    _snapshot(s3, "raft-snapshots/2026/12/03/20261203T070000Z.snap")
    found = checks.snapshot_age(s3, BUCKET, "raft-snapshots/")
    assert found.status == FAIL and "no sha256 recorded" in found.detail


def _fake_pulumi(tmp_path, monkeypatch, outputs: dict) -> None:
    """The Pulumi CLI cannot run here: a stand-in prints what `pulumi stack output --json` would."""
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(outputs)}\nEOF\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")


def _canary(client) -> str:
    return str(client.create_secret(Name="candlefish/test/canary/validate")["ARN"])


def test_the_secrets_manager_canary_writes_a_fresh_marker_and_reads_it_back(aws):
    client = boto3.client("secretsmanager")
    arn = _canary(client)
    first = checks.secrets_manager_canary(client, arn)
    assert first.status == PASS and first.detail.startswith("written and read back (version ")
    marker = client.get_secret_value(SecretId=arn)["SecretString"]
    assert marker.startswith("validate-canary-not-a-secret-")
    assert checks.secrets_manager_canary(client, arn).status == PASS
    # Each run writes a new marker, and the marker never appears in what the check reports.
    assert client.get_secret_value(SecretId=arn)["SecretString"] != marker
    assert marker not in repr(first)


class _RacingWriter:
    """A client whose every write is followed at once by another writer's (a second validate, or a writer
    outside the policy): the read-back is that writer's value."""

    def __init__(self, client) -> None:
        self._client = client

    def put_secret_value(self, **kwargs):
        written = self._client.put_secret_value(**kwargs)
        self._client.put_secret_value(SecretId=kwargs["SecretId"], SecretString="example-not-a-secret")
        return written

    def get_secret_value(self, **kwargs):
        return self._client.get_secret_value(**kwargs)


def test_a_different_value_read_back_fails_and_names_the_first_step(aws):
    client = boto3.client("secretsmanager")
    found = checks.secrets_manager_canary(_RacingWriter(client), _canary(client))
    assert found.status == FAIL and found.detail.startswith("read back a different value than version ")
    assert "CloudTrail" in found.first_step and "example-not-a-secret" not in repr(found)


def test_a_missing_canary_fails_and_no_canary_at_all_cannot_be_checked(aws):
    client = boto3.client("secretsmanager")
    arn = _canary(client)
    missing = checks.secrets_manager_canary(client, arn.replace("canary", "absent"))
    assert missing.status == FAIL and missing.detail == "ResourceNotFoundException"
    assert "pulumi up" in missing.first_step
    none = checks.secrets_manager_canary(client, None)
    assert none.status == UNKNOWN and "canarySecretArn" in none.first_step


@pytest.fixture
def enforced_iam(aws):
    """moto checks IAM identity policies from here on (its `reset-auth`), and stops again afterwards."""

    def reset_auth(count: str) -> None:
        request = urllib.request.Request(
            f"{aws.url}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},  # a form content type would hide the body from moto
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    yield lambda: reset_auth("0")
    reset_auth("inf")


def test_a_caller_its_policy_refuses_could_not_check_and_is_told_which_setting_admits_it(aws, enforced_iam):
    client = boto3.client("secretsmanager")
    arn = _canary(client)
    iam = boto3.client("iam")
    iam.create_user(UserName="someone-else")
    iam.put_user_policy(
        UserName="someone-else",
        PolicyName="other-secrets-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                        "Resource": "arn:aws:secretsmanager:*:*:secret:candlefish/test/other-*",
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="someone-else")["AccessKey"]
    stranger = boto3.client(
        "secretsmanager", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    enforced_iam()
    found = checks.secrets_manager_canary(stranger, arn)
    # AWS answers AccessDeniedException; moto's refusal parses only as its HTTP status, 403: both count.
    assert found.status == UNKNOWN and found.detail.endswith("this caller may not use the canary")
    assert "validatorPrincipals" in found.first_step


@pytest.mark.parametrize(
    ("statuses", "code"),
    [((PASS, PASS), 0), ((PASS, UNKNOWN), 2), ((UNKNOWN, FAIL), 1), ((FAIL, PASS), 1)],
)
def test_exit_codes(statuses, code):
    assert validate.exit_code([Check("c", status, "") for status in statuses]) == code


def test_main_without_a_token_is_a_could_not_check(monkeypatch, capsys):
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    assert validate.main(["--vault-addr", "https://vault.internal:8200"]) == validate.EXIT_UNKNOWN
    assert "VAULT_TOKEN" in capsys.readouterr().err


@pytest.mark.openbao
def test_main_prints_json_and_fails_on_the_missing_audit_device(
    openbao_cluster, kv_mounted, aws, monkeypatch, capsys
):
    monkeypatch.setenv("VAULT_TOKEN", openbao_cluster.root_token)
    _autopilot_sees_voters(_entry(openbao_cluster), 3)
    argv = [
        "--vault-addr",
        openbao_cluster.addrs[0],
        "--ca-cert",
        openbao_cluster.ca_cert_path,
        "--json",
        "--expected-voters",
        "3",
        "--skip",
        "sm-canary",
        "--skip",
        "snapshot",
        "--skip",
        "tls",
    ]  # fmt: skip  (the fixture's certificate lives for days: see the TLS test)
    for addr in openbao_cluster.addrs:
        argv += ["--node-addr", addr]
    code = validate.main(argv)
    report = json.loads(capsys.readouterr().out)
    by_name = {check["name"]: check["status"] for check in report["checks"]}
    assert by_name["audit devices"] == FAIL and code == validate.EXIT_FAILED == report["exit"]
    others = {name: status for name, status in by_name.items() if name != "audit devices"}
    assert set(others.values()) == {PASS}, others
    assert len([name for name in by_name if name.startswith("node ")]) == 3


def test_the_table_names_the_first_step_of_a_failed_check(capsys):
    validate.render([Check("newest snapshot", FAIL, "no snapshot at all", "see docs/runbooks/alarms.md")])
    out = capsys.readouterr().out
    assert "FAIL" in out and "docs/runbooks/alarms.md" in out


def test_without_the_pulumi_cli_the_stack_outputs_cannot_be_read(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert validate.main(["--stack", "production"]) == validate.EXIT_UNKNOWN
    assert "pulumi stack output" in capsys.readouterr().err


@pytest.mark.openbao
def test_the_stack_outputs_give_the_address_and_region(openbao_dev, monkeypatch, capsys, tmp_path):
    outputs = {"vaultAddress": openbao_dev.addr, "unsealKeyArn": "arn:aws:kms:us-west-2:123456789012:key/k"}
    _fake_pulumi(tmp_path, monkeypatch, outputs)
    monkeypatch.setenv("VAULT_TOKEN", openbao_dev.root_token)
    skip = [arg for name in validate.ALL_CHECKS if name != "leader" for arg in ("--skip", name)]
    assert validate.main(["--stack", "production", "--json", *skip]) == validate.EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["checks"] == [
        {"name": "leader", "status": PASS, "detail": "single node without HA", "first_step": ""}
    ]
    assert validate.region_of(outputs["unsealKeyArn"]) == "us-west-2"


def test_by_default_validate_writes_the_canary_the_stack_exports(aws, monkeypatch, capsys, tmp_path):
    client = boto3.client("secretsmanager")
    arn = _canary(client)
    outputs = {"vaultAddress": "https://vault.internal:8200", "canarySecretArn": arn}
    _fake_pulumi(tmp_path, monkeypatch, outputs)
    monkeypatch.setenv("VAULT_TOKEN", "example-not-a-secret")
    skip = [arg for name in validate.ALL_CHECKS if name != "sm-canary" for arg in ("--skip", name)]
    assert validate.main(["--stack", "production", "--json", *skip]) == validate.EXIT_OK
    (check,) = json.loads(capsys.readouterr().out)["checks"]
    assert check["name"] == "secrets manager canary" and check["status"] == PASS
    assert client.get_secret_value(SecretId=arn)["SecretString"].startswith("validate-canary-not-a-secret-")
