"""The Vault bootstrap provider against real OpenBao clusters (Raft, static seal, TLS) and moto.

Each test gets a fresh, uninitialised cluster (one node unless it is about Raft) behind the fault proxy,
which also answers the AWS auth paths OpenBao lacks (tests/support/aws_auth_standin.py). Both audit
devices are real: the file device writes to the test's directory, the syslog device to the session's
/dev/log socket.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import boto3
import hvac
import hvac.exceptions as hx
import pytest

from components.vault.policies import app_policy_name, render_policies
from providers import break_glass
from providers import vault_bootstrap as bootstrap_module
from providers.common import BootstrapError
from providers.vault_bootstrap import VaultBootstrapProvider
from tests.support.openbao import OpenBaoCluster
from tests.support.pgp_keys import Keyring
from tests.support.vault_proxy import FaultProxy

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
ACCOUNT = "123456789012"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/candlefish-test-vault-node"
ROTATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/candlefish-test-rotation"
PAYMENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/payments-api"
REGION = "us-east-1"
WAITS = {"ready_s": 30, "unseal_s": 30, "leader_s": 30, "peers_s": 60, "poll_s": 0.1}
APPS = [("payments", ["candlefish/payments", "shared/payments"])]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(bootstrap_module, "RETRY_BACKOFF_S", 0.01)
    monkeypatch.setattr(break_glass, "STORE_BACKOFF_S", 0)


class Target:
    """A fresh cluster, the proxy in front of it, and where its file audit device writes."""

    def __init__(self, cluster: OpenBaoCluster, proxy: FaultProxy, audit_log: Path) -> None:
        self.cluster, self.proxy, self.audit_log = cluster, proxy, audit_log

    @property
    def url(self) -> str:
        return self.proxy.url

    def client(self, token: str) -> hvac.Client:
        return hvac.Client(url=self.cluster.leader().addr, token=token, verify=self.cluster.ca_cert_path)


@pytest.fixture
def target_factory(openbao_cluster_factory, openbao_syslog, tmp_path):
    proxies: list[FaultProxy] = []

    def build(size: int = 1) -> Target:
        cluster = openbao_cluster_factory(size, initialize=False)
        proxy = FaultProxy(cluster.addrs[0], ca_cert=cluster.ca_cert_path).with_aws_auth().start()
        proxies.append(proxy)
        return Target(cluster, proxy, tmp_path / f"audit-{len(proxies)}.log")

    yield build
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def target(target_factory):
    return target_factory(1)


@pytest.fixture
def secret_arn(aws):
    kms = boto3.client("kms")
    key = kms.create_key(Description="secrets key")["KeyMetadata"]["Arn"]
    sm = boto3.client("secretsmanager")
    return sm.create_secret(Name="candlefish/test/vault/break-glass", KmsKeyId=key)["ARN"]


def props(target: Target, secret: str, **extra):
    return {
        "address": target.url,
        "ca_pem": "",
        "region": REGION,
        "break_glass_secret_id": secret,
        "cluster_size": len(target.cluster.nodes),
        "recovery_shares": 5,
        "recovery_threshold": 3,
        "recovery_pgp_keys": [],
        "adopt_token": None,
        "node_role_arn": NODE_ROLE,
        "rotation_role_arn": ROTATION_ROLE,
        "app_roles": [
            {"name": "payments", "bound_arn": PAYMENTS_ROLE, "token_policies": [app_policy_name("payments")]}
        ],
        "ci_approle": {
            "token_policies": ["platform-team"],
            "secret_id_ttl": "1h",
            "secret_id_num_uses": 1,
            "token_ttl": "20m",
            "token_max_ttl": "1h",
            "bound_cidrs": ["127.0.0.0/8"],
        },
        "policies": dict(render_policies(APPS, region=REGION, audit_file_path=str(target.audit_log))),
        "audit_file_path": str(target.audit_log),
        "autopilot": None,
        "iam_server_id": "",
        # Not the default (720h), so the token's period shows the configured value is the one used.
        "provisioner_period": "168h",
        "waits": WAITS,
        **extra,
    }


def stored_material(secret):
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    return json.loads(value)


@pytest.fixture
def bootstrapped(target, secret_arn):
    given = props(target, secret_arn)
    outs = VaultBootstrapProvider().create(given).outs
    assert outs is not None
    return target, given, outs


def test_first_run_initialises_stores_the_shares_and_revokes_the_root_token(bootstrapped, secret_arn):
    target, _, outs = bootstrapped
    material = stored_material(secret_arn)
    assert len(material["recovery_shares"]) == 5
    assert material["recovery_threshold"] == 3
    assert material["recovery_shares_pgp_encrypted"] is False
    assert outs["bootstrap"] == "initialised" and outs["root_token_revoked"] is True
    assert not break_glass.init_pending(boto3.client("secretsmanager"), secret_arn)
    status = target.client("").sys.read_seal_status()
    assert status["initialized"] is True and status["recovery_seal"] is True
    with pytest.raises(hx.Forbidden):
        target.client(material["root_token"]).auth.token.lookup_self()
    provisioner = target.client(outs["provisioner_token"]).auth.token.lookup_self()["data"]
    assert provisioner["policies"] == ["provisioner"]
    assert provisioner["period"] == 168 * 3600  # a week, as configured in props()
    assert provisioner["orphan"] is True
    assert provisioner["accessor"] == outs["provisioner_accessor"]
    # Nothing secret in the outputs but the provisioner token (a Pulumi secret, see the resource class).
    public = json.dumps({key: value for key, value in outs.items() if key != "provisioner_token"})
    assert material["root_token"] not in public and outs["provisioner_token"] not in public
    assert not any(share in json.dumps(outs) for share in material["recovery_shares"])


def test_the_shares_are_stored_and_audit_enabled_before_any_other_configuration(bootstrapped):
    """The shares reach Secrets Manager before the first configuration request, and everything the root
    token does after init (policies, engines, auth methods, roles) is audited."""
    target, _, _ = bootstrapped
    writes = [r.path for r in target.proxy.request_log if r.method not in {"GET", "HEAD", "LIST"}]
    configuration = [
        path
        for path in writes
        if path.startswith(
            ("sys/audit/", "sys/policies/", "sys/mounts/", "sys/auth/", "auth/aws/", "auth/approle/")
        )
    ]
    assert writes[0] == "sys/init"
    assert configuration[:2] == ["sys/audit/file", "sys/audit/syslog"]
    assert "sys/audit/file" not in configuration[2:] and "sys/audit/syslog" not in configuration[2:]


def test_first_run_configures_the_real_server(bootstrapped):
    target, _, outs = bootstrapped
    vault = target.client(outs["provisioner_token"])
    assert vault.sys.list_mounted_secrets_engines()["data"]["secret/"]["options"]["version"] == "2"
    audit = vault.sys.list_enabled_audit_devices()["data"]
    assert audit["file/"]["options"]["file_path"] == str(target.audit_log)
    assert audit["syslog/"]["type"] == "syslog"
    role = vault.read("auth/approle/role/ci")["data"]
    assert role["token_policies"] == ["platform-team"]
    assert role["secret_id_num_uses"] == 1
    assert audit["syslog/"]["options"] == {"facility": "AUTH", "tag": "vault"}
    assert (role["secret_id_ttl"], role["token_ttl"], role["token_max_ttl"]) == (3600, 1200, 3600)
    assert role["token_bound_cidrs"] == ["127.0.0.0/8"] and role["secret_id_bound_cidrs"] == ["127.0.0.0/8"]
    autopilot = vault.read("sys/storage/raft/autopilot/configuration")["data"]
    assert autopilot["dead_server_last_contact_threshold"] in {"10m0s", "10m"}
    assert autopilot["min_quorum"] == 3 and autopilot["cleanup_dead_servers"] is True
    assert autopilot["last_contact_threshold"] == "10s" and autopilot["server_stabilization_time"] == "10s"
    declared = render_policies(APPS, region=REGION, audit_file_path=str(target.audit_log))
    for name, text in declared.items():
        assert vault.sys.read_acl_policy(name)["data"]["policy"] == text.strip(), name
    assert outs["config_digest"].startswith("sha256:") and outs["drift"] == ""
    # The snapshot timer's set-up: its AWS auth role (stand-in) bound to the node role, snapshot policy only.
    assert target.proxy.aws_auth is not None
    snapshot = target.proxy.aws_auth.roles["snapshot"]
    assert snapshot["bound_iam_principal_arn"] == [NODE_ROLE]
    assert snapshot["token_policies"] == ["snapshot"]
    assert snapshot["token_no_default_policy"] is True and snapshot["auth_type"] == "iam"
    assert target.proxy.aws_auth.roles["rotation"]["token_policies"] == ["rotation"]
    payments = target.proxy.aws_auth.roles["payments"]
    assert payments["bound_iam_principal_arn"] == [PAYMENTS_ROLE]
    assert payments["token_policies"] == [app_policy_name("payments")]


def test_the_audit_log_records_the_bootstrap_with_secrets_hmaced(bootstrapped, openbao_syslog):
    target, _, outs = bootstrapped
    if openbao_syslog.owned:  # the syslog device delivers too (when the test owns /dev/log)
        assert any("sys/policies/acl/provisioner" in line for line in openbao_syslog.messages)
    lines = [json.loads(line) for line in target.audit_log.read_text().splitlines()]
    paths = [line["request"]["path"] for line in lines if line.get("type") == "request"]
    assert "sys/audit/syslog" in paths  # the second device's enabling is already audited by the first
    assert "sys/policies/acl/provisioner" in paths
    assert outs["provisioner_token"] not in target.audit_log.read_text()


def test_a_rerun_writes_nothing(bootstrapped, secret_arn):
    target, given, outs = bootstrapped
    provider = VaultBootstrapProvider()
    assert provider.diff("id", {**given, **outs}, given).changes is False
    version = boto3.client("secretsmanager").describe_secret(SecretId=secret_arn)["VersionIdsToStages"]
    target.proxy.log.clear()
    again = provider.update("id", {**given, **outs}, given).outs
    assert again is not None
    assert again["provisioner_token"] == outs["provisioner_token"]
    assert again["config_digest"] == outs["config_digest"] and again["changes"] == []
    # What the first run did stays in the outputs: how Vault was bootstrapped, the shares' version, and
    # that the root token is gone (this run had no root token to revoke).
    kept = ("bootstrap", "break_glass_version_id", "root_token_revoked")
    assert {key: again[key] for key in kept} == {key: outs[key] for key in kept}
    assert outs["root_token_revoked"] is True and outs["break_glass_version_id"] in version
    assert (
        boto3.client("secretsmanager").describe_secret(SecretId=secret_arn)["VersionIdsToStages"] == version
    )
    changed = [
        (r.method, r.path) for r in target.proxy.request_log if r.method not in {"GET", "HEAD", "LIST"}
    ]
    assert all(path.startswith("auth/token/") for _, path in changed), changed


def test_drift_is_reported_by_refresh_and_put_back_by_update(bootstrapped):
    target, given, outs = bootstrapped
    root = target.client(outs["provisioner_token"])
    root.sys.create_or_update_acl_policy(
        name="platform-team", policy='path "secret/data/*" { capabilities = ["read"] }'
    )
    provider = VaultBootstrapProvider()
    read = provider.read("id", {**given, **outs}).outs
    assert read is not None
    assert read["config_digest"] != outs["config_digest"]
    assert read["drift"] == "policy platform-team differs"
    assert read["provisioner_token"] == outs["provisioner_token"]
    assert provider.diff("id", {**given, **read}, given).changes is True
    fixed = provider.update("id", {**given, **read}, given).outs
    assert fixed is not None and fixed["changes"] == ["wrote policy platform-team"]
    assert "secret/data/*" not in root.sys.read_acl_policy("platform-team")["data"]["policy"]
    again = provider.read("id", {**given, **outs, **fixed}).outs
    assert again is not None
    assert again["config_digest"] == outs["config_digest"] and again["drift"] == ""


def test_resuming_after_a_failure_half_way_finishes_without_a_second_init(target, secret_arn):
    target.proxy.fail_next(30, status=500, path_prefix="auth/approle/role/")
    with pytest.raises(BootstrapError):
        VaultBootstrapProvider().create(props(target, secret_arn))
    first = stored_material(secret_arn)
    target.proxy.clear()
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None
    assert stored_material(secret_arn)["recovery_shares"] == first["recovery_shares"]
    assert not [r for r in target.proxy.request_log if r.path == "sys/init" and r.method == "PUT"]
    assert target.client(outs["provisioner_token"]).read("auth/approle/role/ci")["data"]


def test_three_nodes_are_voters_when_the_bootstrap_returns(target_factory, secret_arn):
    target = target_factory(3)
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None
    vault = target.client(outs["provisioner_token"])
    servers = vault.read("sys/storage/raft/configuration")["data"]["config"]["servers"]
    assert len(servers) == 3
    assert all(server["voter"] for server in servers), servers


@pytest.fixture(scope="module")
def keyring(tmp_path_factory):
    ring = Keyring(tmp_path_factory.mktemp("pgp") / "gnupg")
    for index in range(3):
        ring.generate(f"operator-{index}@example.com")
    return ring


def test_recovery_shares_stored_by_the_bootstrap_are_encrypted_to_real_pgp_keys(target, secret_arn, keyring):
    given = props(
        target, secret_arn, recovery_shares=3, recovery_threshold=2, recovery_pgp_keys=keyring.public_keys
    )
    VaultBootstrapProvider().create(given)
    material = stored_material(secret_arn)
    assert material["recovery_shares_pgp_encrypted"] is True
    shares = [keyring.decrypt(share).decode() for share in material["recovery_shares"]]
    assert len(set(shares)) == 3
    assert all(len(bytes.fromhex(share)) == 33 for share in shares)  # a Shamir share of a 32-byte key


def use_recovery_shares(cluster: OpenBaoCluster, shares: list[str]) -> dict:
    """Generate a root token with `shares` (OpenBao 2.6+: authenticated sys/generate-root-token)."""
    vault = cluster.client(cluster.leader())
    attempt = vault.write("sys/generate-root-token/attempt")["data"]
    progress: dict = {}
    for share in shares:
        progress = vault.write("sys/generate-root-token/update", key=share, nonce=attempt["nonce"])["data"]
    return progress


def test_decrypted_pgp_shares_are_the_clusters_recovery_key(openbao_cluster_factory, keyring):
    cluster = openbao_cluster_factory(
        1, recovery_shares=3, recovery_threshold=2, pgp_keys=keyring.public_keys
    )
    shares = [keyring.decrypt(share).decode() for share in cluster.recovery_keys]
    assert use_recovery_shares(cluster, shares[1:])["complete"] is True


def test_a_wrong_share_does_not_complete_root_generation(openbao_cluster_factory, keyring):
    cluster = openbao_cluster_factory(
        1, recovery_shares=3, recovery_threshold=2, pgp_keys=keyring.public_keys
    )
    share = keyring.decrypt(cluster.recovery_keys[0]).decode()
    forged = share[:-2] + ("00" if share[-2:] != "00" else "01")
    with pytest.raises(hx.VaultError, match="recovery key does not match"):
        use_recovery_shares(cluster, [share, forged])


def test_a_share_is_not_readable_without_its_private_key(target, secret_arn, keyring, tmp_path):
    given = props(
        target, secret_arn, recovery_shares=3, recovery_threshold=2, recovery_pgp_keys=keyring.public_keys
    )
    VaultBootstrapProvider().create(given)
    stranger = Keyring(tmp_path / "stranger")
    stranger.generate("stranger@example.com")
    with pytest.raises(AssertionError, match="could not decrypt"):
        stranger.decrypt(stored_material(secret_arn)["recovery_shares"][0])


def test_a_fake_pgp_key_is_refused_by_the_real_server_and_nothing_is_initialised(target, secret_arn):
    fake = base64.b64encode(b"example-not-a-pgp-key" * 8).decode()
    given = props(target, secret_arn, recovery_shares=1, recovery_threshold=1, recovery_pgp_keys=[fake])
    with pytest.raises(
        BootstrapError, match=r"refused sys/init .*nothing was initialised or stored"
    ) as refused:
        VaultBootstrapProvider().create(given)
    assert str(refused.value).endswith(
        "; nothing was initialised or stored. If another process initialised it meanwhile, re-run "
        "`pulumi up` to adopt it"
    )
    assert target.cluster.node_health(0)["initialized"] is False
