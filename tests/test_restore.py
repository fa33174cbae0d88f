"""tools.restore: snapshot integrity, the recorded checksum, the unseal-key preflight, the --yes gate, and
real restores into 3-node OpenBao clusters (same cluster, a new one, and the drill)."""

from __future__ import annotations

import gzip
import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from tests.support.openbao import OpenBaoCluster
from tools import restore, restore_checks, restore_drill, snapshots
from tools.restore_checks import PreflightFailed
from tools.snapshots import SnapshotInvalid
from tools.vault_http import VaultHttp

BUCKET = "candlefish-test-snapshots"


@pytest.fixture(scope="module")
def snapshot_file(openbao_cluster: OpenBaoCluster, tmp_path_factory):
    """A real raft snapshot of the session cluster."""
    token = openbao_cluster.root_token or ""
    leader = VaultHttp(openbao_cluster.leader().addr, token, openbao_cluster.ca_cert_path)
    path = tmp_path_factory.mktemp("snap") / "real.snap"
    restore_drill.take_snapshot(leader, path)
    return path


def _rebuild(source: Path, target: Path, change: dict[str, bytes | None]):
    """The snapshot with members replaced (bytes) or dropped (None), re-gzipped."""
    buffer = io.BytesIO()
    with tarfile.open(source, "r:gz") as old, tarfile.open(fileobj=buffer, mode="w") as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                replacement = change[member.name]
                if replacement is None:
                    continue
                data = replacement
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    target.write_bytes(gzip.compress(buffer.getvalue()))
    return target


@pytest.mark.openbao
def test_a_real_snapshot_passes_the_integrity_check(snapshot_file):
    sums = snapshots.verify_archive(snapshot_file)
    assert set(sums) == {"meta.json", "state.bin"}


@pytest.mark.openbao
def test_a_truncated_snapshot_is_refused(snapshot_file, tmp_path):
    cut = tmp_path / "cut.snap"
    cut.write_bytes(snapshot_file.read_bytes()[: snapshot_file.stat().st_size // 2])
    with pytest.raises(SnapshotInvalid, match="may be truncated"):
        snapshots.verify_archive(cut)


@pytest.mark.openbao
def test_an_altered_state_file_is_refused(snapshot_file, tmp_path):
    altered = _rebuild(snapshot_file, tmp_path / "altered.snap", {"state.bin": b"not the raft state"})
    with pytest.raises(SnapshotInvalid, match=r"state.bin does not match its SHA256SUMS line"):
        snapshots.verify_archive(altered)


@pytest.mark.openbao
def test_a_snapshot_without_its_sums_is_refused(snapshot_file, tmp_path):
    stripped = _rebuild(snapshot_file, tmp_path / "stripped.snap", {"SHA256SUMS": None})
    with pytest.raises(SnapshotInvalid, match="lacks SHA256SUMS"):
        snapshots.verify_archive(stripped)


@pytest.mark.openbao
def test_a_truncated_snapshot_is_refused_before_vault_is_contacted(snapshot_file, tmp_path):
    cut = tmp_path / "cut.snap"
    cut.write_bytes(snapshot_file.read_bytes()[:-100])
    # Nothing listens on port 9: any request would raise VaultHttpError, not SnapshotInvalid.
    unreachable = VaultHttp("http://127.0.0.1:9", "example-not-a-secret")
    with pytest.raises(SnapshotInvalid):
        restore.restore_snapshot(unreachable, cut, new_cluster=False, yes=True)


def _upload(s3, key: str, data: bytes, **metadata: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, Metadata=metadata)


@pytest.mark.openbao
def test_download_checks_the_recorded_full_object_sha256(aws, snapshot_file, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    data = snapshot_file.read_bytes()
    meta = snapshots.metadata_for(
        data, unseal_key_arn="arn:aws:kms:us-east-1:123456789012:key/k", canary="c1"
    )
    _upload(s3, "raft-snapshots/2026/12/03/20261203T010000Z.snap", data, **meta)
    _upload(s3, "raft-snapshots/2026/12/03/20261203T020000Z.snap", data, **{**meta, "sha256": "0" * 64})
    _upload(s3, "raft-snapshots/2026/12/03/20261203T030000Z.snap", data)
    found = snapshots.list_snapshots(s3, BUCKET, "raft-snapshots/")
    assert [s.key.rsplit("/", 1)[1] for s in found] == [
        "20261203T030000Z.snap", "20261203T020000Z.snap", "20261203T010000Z.snap",
    ]  # fmt: skip
    good = snapshots.pick(found, "20261203T010000Z.snap")
    assert good.canary == "c1" and good.unseal_key_arn == "arn:aws:kms:us-east-1:123456789012:key/k"
    path = snapshots.download(s3, good, tmp_path)
    assert path.read_bytes() == data
    with pytest.raises(SnapshotInvalid, match="differs from the recorded"):
        snapshots.download(s3, snapshots.pick(found, "20261203T020000Z.snap"), tmp_path)
    unrecorded = snapshots.pick(found, None)
    with pytest.raises(SnapshotInvalid, match="--allow-unrecorded-checksum"):
        snapshots.download(s3, unrecorded, tmp_path)
    assert snapshots.download(s3, unrecorded, tmp_path, require_checksum=False).exists()


def test_pick_names_the_list_command_for_an_unknown_snapshot():
    stored = snapshots.StoredSnapshot("b", "raft-snapshots/x.snap", datetime.now(UTC), 1)
    with pytest.raises(SnapshotInvalid, match=r"tools\.restore list"):
        snapshots.pick([stored], "y.snap")
    with pytest.raises(SnapshotInvalid, match="no snapshot"):
        snapshots.pick([], None)


def test_restore_list_prints_newest_first(aws, capsys):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    _upload(s3, "raft-snapshots/a.snap", b"x", sha256="1" * 64)
    assert restore.main(["list", "--bucket", BUCKET, "--json"]) == restore.EXIT_OK
    assert '"key": "raft-snapshots/a.snap"' in capsys.readouterr().out


def _kms_key(**kwargs):
    return boto3.client("kms").create_key(Description="unseal", **kwargs)["KeyMetadata"]["Arn"]


def test_kms_preflight_passes_for_an_enabled_key(aws):
    arn = _kms_key()
    confirmed = restore_checks.kms_preflight(arn, lambda region: boto3.client("kms", region_name=region))
    assert confirmed == ["unseal key enabled in us-east-1", "Encrypt/Decrypt round trip with the unseal key"]


def test_kms_preflight_refuses_a_disabled_key(aws):
    arn = _kms_key()
    boto3.client("kms").disable_key(KeyId=arn.rsplit("/", 1)[1])
    with pytest.raises(PreflightFailed, match="is Disabled: enable it"):
        restore_checks.kms_preflight(arn, lambda region: boto3.client("kms", region_name=region))


def test_kms_preflight_asks_in_the_keys_own_region(aws):
    arn = _kms_key()
    elsewhere = arn.replace("us-east-1", "us-west-2")  # no such key in us-west-2
    regions = []

    def client(region):
        regions.append(region)
        return boto3.client("kms", region_name=region)

    with pytest.raises(PreflightFailed, match=r"DescribeKey .* in us-west-2 failed"):
        restore_checks.kms_preflight(elsewhere, client)
    assert regions == ["us-west-2"]


def test_kms_preflight_rejects_something_that_is_not_a_key_arn():
    with pytest.raises(PreflightFailed, match="not a KMS key ARN"):
        restore_checks.kms_preflight("alias/candlefish-unseal", lambda region: None)


class _HsmBackedKms:
    """moto has no CloudHSM key stores: a key in one, whose store is disconnected (only what is used)."""

    def describe_key(self, KeyId):
        return {"KeyMetadata": {"KeyState": "Enabled", "CustomKeyStoreId": "cks-1234567890abcdef0"}}

    def describe_custom_key_stores(self, CustomKeyStoreId):
        return {"CustomKeyStores": [{"ConnectionState": "DISCONNECTED"}]}


def test_kms_preflight_refuses_a_disconnected_hsm_key_store():
    arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
    with pytest.raises(PreflightFailed, match="DISCONNECTED: connect it"):
        restore_checks.kms_preflight(arn, lambda region: _HsmBackedKms())


@pytest.mark.openbao
def test_a_healthy_cluster_is_not_restored_without_yes(openbao_cluster, snapshot_file):
    entry = VaultHttp(openbao_cluster.addrs[1], openbao_cluster.root_token, openbao_cluster.ca_cert_path)
    with pytest.raises(restore.RestoreRefused, match="Pass --yes") as refused:
        restore.restore_snapshot(entry, snapshot_file, new_cluster=True, yes=False)
    assert "root token and recovery keys stop working" in str(refused.value)


@pytest.mark.openbao
def test_restore_into_the_same_cluster_rolls_back_and_reports_what_changed(openbao_cluster_factory, tmp_path):
    cluster = openbao_cluster_factory(recovery_shares=1, recovery_threshold=1)
    leader = VaultHttp(cluster.leader().addr, cluster.root_token, cluster.ca_cert_path)
    restore_drill.write_secrets(leader, 3)  # secret-00000 has 2 versions, the others 1
    leader.post("secret/data/canary/snapshot", {"data": {"value": "before"}})
    path = tmp_path / "same.snap"
    restore_drill.take_snapshot(leader, path)
    leader.post("secret/data/candlefish/drill/secret-00001", {"data": {"value": "after the snapshot"}})
    leader.post("secret/data/canary/snapshot", {"data": {"value": "after"}})
    # Enter through a standby: the tool must find the active node itself.
    standby = next(addr for addr in cluster.addrs if addr != leader.addr)
    report = restore.restore_snapshot(
        VaultHttp(standby, cluster.root_token, cluster.ca_cert_path), path, new_cluster=False, yes=True,
        nodes=[VaultHttp(addr, "", cluster.ca_cert_path) for addr in cluster.addrs],
        expect=restore.Expectations(canary="before", version_prefix="candlefish/drill"),
    )  # fmt: skip
    assert report.endpoint == "sys/storage/raft/snapshot" and report.target == standby
    statuses = {check["check"]: check for check in report.checks}
    assert statuses["canary"]["status"] == "pass"
    assert "candlefish/drill/secret-00001" in statuses["secret versions"]["detail"]
    assert report.verified
    assert (
        restore_checks.kv_versions(leader, "secret", "candlefish/drill")["candlefish/drill/secret-00001"] == 1
    )


@pytest.mark.openbao
def test_a_snapshot_sealed_with_another_key_is_refused_and_forcing_it_seals_the_node(
    openbao_cluster_factory, snapshot_file
):
    cluster = openbao_cluster_factory(size=1, recovery_shares=1, recovery_threshold=1)
    entry = VaultHttp(cluster.addrs[0], cluster.root_token, cluster.ca_cert_path)
    # The session cluster's snapshot; this cluster has its own seal key.
    with pytest.raises(restore.RestoreFailed, match=r"different autoseal key.*use --new-cluster"):
        restore.restore_snapshot(entry, snapshot_file, new_cluster=False, yes=True, settle_timeout_s=20)
    # Forced, OpenBao accepts it, fails to apply it and seals itself: the settle poll must catch that.
    with pytest.raises(restore.RestoreFailed, match=r"did not settle.* is sealed"):
        restore.restore_snapshot(entry, snapshot_file, new_cluster=True, yes=True, settle_timeout_s=20)


@pytest.mark.openbao
def test_the_drill_restores_every_secret_and_version_into_a_new_cluster(openbao_cluster_factory):
    def launch(seal_key):
        cluster = OpenBaoCluster(3)
        if seal_key is not None:
            cluster.seal_key_path.write_bytes(seal_key)
        launched.append(cluster)
        cluster.start_initialized(recovery_shares=1, recovery_threshold=1)
        return cluster

    launched: list[OpenBaoCluster] = []
    try:
        report = restore_drill.run_drill(launch, 12, say=lambda line: None)
    finally:
        for cluster in launched:
            cluster.destroy()
    assert report.secrets_written == 12 and report.secrets_verified == 12
    assert report.versions_verified == 12 + 3  # secrets 0, 5 and 10 have a second version
    assert {"write", "snapshot", "destroy", "launch_new", "restore", "restore_settle", "read_back"} <= set(
        report.phases
    )
    assert 0 < report.restore_seconds <= report.total_seconds
    statuses = {check["check"]: check["status"] for check in report.checks}
    assert set(statuses.values()) == {"pass"}, report.checks
    assert {"archive", "cluster settled", "leader", "raft peers", "canary", "secret versions"} <= set(
        statuses
    )
    assert len([name for name in statuses if name.startswith("node ")]) == 3
    # the old cluster's root token now works on the new cluster; the new one's does not
    assert launched[1].root_token != launched[0].root_token


def test_the_drill_reports_a_wrong_value_as_a_failure():
    class Node:
        def get(self, path, **params):
            from tools.vault_http import Answer

            return Answer(200, {"data": {"data": {"value": "something else"}}})

    expected = {"candlefish/drill/secret-00000": 1}
    verified, versions_ok, problems = restore_drill.read_back(Node(), expected)  # type: ignore[arg-type]
    assert (verified, versions_ok) == (0, 0) and problems == ["candlefish/drill/secret-00000 v1: wrong value"]


def test_restore_main_refuses_without_a_token(monkeypatch, capsys):
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    code = restore.main(["restore", "--bucket", BUCKET, "--vault-addr", "https://vault.internal:8200"])
    assert code == restore.EXIT_REFUSED and "VAULT_TOKEN" in capsys.readouterr().err


def test_in_another_region_the_preflight_uses_the_multi_region_replica(aws):
    # The snapshot's recorded key is the primary in us-east-1; the restoring cluster's is its replica.
    kms = boto3.client("kms", region_name="us-east-1")
    created = kms.create_key(MultiRegion=True)["KeyMetadata"]
    primary = created["Arn"]
    kms.replicate_key(KeyId=created["KeyId"], ReplicaRegion="us-west-2")
    here = restore.unseal_key_here(primary, "us-west-2")
    assert here == primary.replace(":us-east-1:", ":us-west-2:")
    # moto's multi-Region keys refuse Encrypt, so only DescribeKey is asked of the replica here.
    described = boto3.client("kms", region_name="us-west-2").describe_key(KeyId=here)["KeyMetadata"]
    assert described["Arn"] == here and described["KeyState"] == "Enabled"


def test_a_single_region_key_cannot_unseal_in_another_region():
    arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
    assert restore.unseal_key_here(arn, "us-east-1") == arn
    with pytest.raises(PreflightFailed, match="single-Region key"):
        restore.unseal_key_here(arn, "us-west-2")
