"""The hourly snapshot job (vault-snapshot.sh) run for real against the 3-node OpenBao cluster, with the
token its `snapshot` policy gives: `vault` is OpenBao's CLI (only `login -method=aws`, which OpenBao lacks,
is stood in for) and `aws` a recorder that keeps the uploaded file and the arguments."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from components.vault import userdata
from components.vault.policies import render_policies
from tests.support import openbao_config
from tests.support.openbao import OpenBaoCluster
from tools import snapshots
from tools.vault_http import VaultHttp

pytestmark = pytest.mark.openbao

VAULT_STUB = """#!/bin/sh
# OpenBao has no AWS auth method: the login hands out the test's snapshot token; the rest is real bao.
if [ "$1" = login ]; then printf '%s' "$SNAPSHOT_TEST_TOKEN"; exit 0; fi
exec bao "$@"
"""
AWS_STUB = """#!/bin/sh
# Records each call; `s3 cp` keeps the file it would upload.
printf '%s\\n' "$*" >> "$AWS_CALLS"
if [ "$1" = s3 ] && [ "$2" = cp ]; then cp "$3" "$UPLOADS/"; fi
"""


@pytest.fixture(scope="module")
def snapshot_token(openbao_cluster: OpenBaoCluster) -> str:
    root = VaultHttp(
        openbao_cluster.leader().addr, openbao_cluster.root_token or "", openbao_cluster.ca_cert_path
    )
    mounted = root.post("sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert mounted.ok or "already in use" in mounted.errors, mounted.errors
    policy = render_policies([], region="us-east-1")["snapshot"]
    assert root.post("sys/policies/acl/snapshot", {"policy": policy}).ok
    created = root.post(
        "auth/token/create", {"policies": ["snapshot"], "no_default_policy": True, "ttl": "15m"}
    )
    return str(created.body["auth"]["client_token"])


def _run_job(
    cluster: OpenBaoCluster, token: str, scratch: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    values = openbao_config.node_settings(cluster.name).values()
    values.update(tls_dir=str(Path(cluster.ca_cert_path).parent))
    script = userdata.render("vault-snapshot.sh", values).replace(
        'VAULT_ADDR="https://127.0.0.1:8200"', f'VAULT_ADDR="{cluster.leader().addr}"'
    )
    bin_dir, uploads = scratch / "bin", scratch / "uploads"
    bin_dir.mkdir()
    uploads.mkdir()
    for name, text in (("vault", VAULT_STUB), ("aws", AWS_STUB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "bao").symlink_to(Path(sys.executable).parent / "bao")
    (scratch / "vault-snapshot").write_text(script)
    calls = scratch / "aws-calls"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(scratch),
        "SNAPSHOT_TEST_TOKEN": token,
        "AWS_CALLS": str(calls),
        "UPLOADS": str(uploads),
    }
    done = subprocess.run(
        ["bash", str(scratch / "vault-snapshot")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_the_job_uploads_a_verified_snapshot_with_its_checksum_canary_and_key(
    openbao_cluster, snapshot_token, tmp_path
):
    done, calls = _run_job(openbao_cluster, snapshot_token, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [call.split()[:2] for call in calls] == [["s3", "cp"], ["cloudwatch", "put-metric-data"]]
    upload = shlex.split(calls[0])
    metadata = dict(item.split("=", 1) for item in upload[upload.index("--metadata") + 1].split(","))
    (uploaded,) = (tmp_path / "uploads").iterdir()
    assert metadata["sha256"] == hashlib.sha256(uploaded.read_bytes()).hexdigest()
    assert metadata["unseal-key-arn"] == openbao_config.node_settings("x").unseal_key_arn
    assert uploaded.name == f"{metadata['canary']}.snap"
    snapshots.verify_archive(uploaded)
    assert upload[upload.index("--sse") + 1] == "aws:kms"
    # The canary the snapshot holds is the one recorded with it.
    root = VaultHttp(
        openbao_cluster.leader().addr, openbao_cluster.root_token or "", openbao_cluster.ca_cert_path
    )
    assert root.get("secret/data/canary/snapshot").data["data"] == {"value": metadata["canary"]}
    metric = shlex.split(calls[1])
    assert metric[metric.index("--metric-name") + 1] == "RaftSnapshotSucceeded"
    assert metric[metric.index("--dimensions") + 1] == f"vault_cluster={openbao_cluster.name}"
    # the token was revoked at the end
    assert VaultHttp(root.addr, snapshot_token, root.ca_cert).get("auth/token/lookup-self").status == 403


def test_the_snapshot_token_may_write_only_the_canary(openbao_cluster):
    root = VaultHttp(
        openbao_cluster.leader().addr, openbao_cluster.root_token or "", openbao_cluster.ca_cert_path
    )
    root.post("sys/policies/acl/snapshot", {"policy": render_policies([], region="us-east-1")["snapshot"]})
    token = root.post("auth/token/create", {"policies": ["snapshot"], "no_default_policy": True, "ttl": "5m"})
    node = root.with_token(token.body["auth"]["client_token"])
    assert node.post("secret/data/canary/snapshot", {"data": {"value": "x"}}).ok
    assert node.post("secret/data/canary/other", {"data": {"value": "x"}}).status == 403
    assert node.get("secret/data/canary/snapshot").status == 403  # write only: it never reads values
    assert node.get("secret/data/candlefish/jwt/secret").status == 403


def test_a_failed_upload_publishes_no_success(openbao_cluster, snapshot_token, tmp_path, monkeypatch):
    failing = AWS_STUB.replace('if [ "$1" = s3 ]', 'if [ "$1" = s3 ]; then exit 1; fi\nif false')
    monkeypatch.setattr(sys.modules[__name__], "AWS_STUB", failing)
    root = VaultHttp(
        openbao_cluster.leader().addr, openbao_cluster.root_token or "", openbao_cluster.ca_cert_path
    )
    token = root.post("auth/token/create", {"policies": ["snapshot"], "no_default_policy": True, "ttl": "5m"})
    done, calls = _run_job(openbao_cluster, token.body["auth"]["client_token"], tmp_path)
    assert done.returncode != 0
    assert [call.split()[:2] for call in calls] == [["s3", "cp"]]
    assert list((tmp_path / "uploads").iterdir()) == []
