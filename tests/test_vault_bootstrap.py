"""The Vault bootstrap provider against the Vault test server (through hvac) and a moto server (boto3).

What needs states or checks a real server here cannot give (see tests/support/README.md): the policies'
parameter constraints on the AWS auth paths, the test clock, auto-unseal that takes N polls, unhealthy
Raft peers, IAM lookups refused; and the re-runs, drift and adoption tests that mint admin tokens after
the root token is revoked. The failure modes a fault proxy can give run on real OpenBao in
tests/test_vault_bootstrap_faults_real.py; the first run, audit, re-run, drift and PGP in
tests/test_vault_bootstrap_real.py. Every wait and backoff is shortened, so the file runs in seconds.
"""

import json

import boto3
import hcl2
import hvac.exceptions as hx
import pytest
import requests

from components.vault.policies import POLICY_DIR, app_policy_name, render_app_policy, render_policies
from providers import break_glass
from providers import vault_bootstrap as bootstrap_module
from providers.common import BootstrapError
from providers.vault_bootstrap import DELETE_NOTE, VaultBootstrapProvider
from providers.vault_config import PROTECTED_POLICIES

pytestmark = pytest.mark.slow
ACCOUNT = "123456789012"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/candlefish-test-vault-node"
ROTATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/candlefish-test-rotation"
PAYMENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/payments-api"
FAKE_ACCESS_KEY = "AKIA" + "EXAMPLENOTAKEY02"  # built at run time: the secrets scan rejects key literals
FAKE_SECRET_KEY = "example-not-a-secret-key"
CLUSTER_SIZE = 5
REGION = "us-east-1"
FAST = {"ready_s": 2, "unseal_s": 2, "leader_s": 2, "peers_s": 2, "poll_s": 0.02}
APPS = [("payments", ["candlefish/payments", "shared/payments"])]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(bootstrap_module, "RETRY_BACKOFF_S", 0.01)
    monkeypatch.setattr(break_glass, "STORE_BACKOFF_S", 0)


def join_peers(server, count=CLUSTER_SIZE):
    """Raft peers besides the node answering (vault-0)."""
    for index in range(1, count):
        server.add_raft_peer(f"vault-{index}")


@pytest.fixture
def cluster(vault_server_factory):
    """A freshly booted 5-node cluster behind its load balancer: uninitialised, no KV mount yet."""
    server = vault_server_factory(initialized=False, kv_mount=None)
    server.set_expected_raft_peers(CLUSTER_SIZE)
    join_peers(server)
    return server


@pytest.fixture
def secret_arn(aws):
    kms = boto3.client("kms")
    key = kms.create_key(Description="secrets key")["KeyMetadata"]["Arn"]
    sm = boto3.client("secretsmanager")
    return sm.create_secret(Name="candlefish/test/vault/break-glass", KmsKeyId=key)["ARN"]


def props(server, secret, **extra):
    return {
        "address": server.url,
        "ca_pem": "",
        "region": REGION,
        "break_glass_secret_id": secret,
        "cluster_size": CLUSTER_SIZE,
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
            "bound_cidrs": ["10.20.0.0/16"],
        },
        "policies": dict(render_policies(APPS, region=REGION)),
        "audit_file_path": "/var/log/vault/audit/vault-audit.log",
        "autopilot": None,
        "iam_server_id": "",
        "provisioner_period": "720h",
        "waits": FAST,
        **extra,
    }


def outs_of(result):
    assert result.outs is not None
    return result.outs


def stored_material(secret):
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    return json.loads(value)


def admin(server):
    """A root-policy token minted by the test server itself (the bootstrap's root token is revoked)."""
    return server.client(token=server.create_token(["root"]))


def requests_to(server, path, method=None):
    return [
        entry
        for entry in server.request_log
        if entry.path == path and (method is None or entry.method == method)
    ]


def writes(server):
    return [(entry.method, entry.path) for entry in server.request_log if entry.method not in {"GET", "HEAD"}]


@pytest.fixture
def bootstrapped(cluster, secret_arn):
    """The cluster after a successful first run: (server, secret ARN, state as Pulumi keeps it)."""
    given = props(cluster, secret_arn)
    result = VaultBootstrapProvider().create(given)
    return cluster, secret_arn, {**given, **outs_of(result)}


# --- first run --------------------------------------------------------------------------------------------


def test_first_run_initialises_with_recovery_shares_and_stores_them_before_anything_else(cluster, secret_arn):
    result = VaultBootstrapProvider().create(props(cluster, secret_arn))
    outs = outs_of(result)
    assert cluster.state.initialized
    assert (cluster.state.seal.shares, cluster.state.seal.threshold) == (5, 3)
    material = stored_material(secret_arn)
    assert len(material["recovery_shares"]) == 5 and material["recovery_threshold"] == 3
    assert material["root_token"].startswith("hvs.")
    assert material["recovery_shares_pgp_encrypted"] is False
    assert outs["break_glass_version_id"]
    # The shares went to Secrets Manager before the first configuration request reached Vault.
    paths = [entry.path for entry in cluster.request_log]
    assert paths.index("sys/init") < paths.index("sys/policies/acl/admin")
    # Nothing secret in the outputs but the provisioner token (a Pulumi secret, see the resource class).
    public = json.dumps({key: value for key, value in outs.items() if key != "provisioner_token"})
    assert material["root_token"] not in public and outs["provisioner_token"] not in public
    assert not any(share in json.dumps(outs) for share in material["recovery_shares"])
    assert result.id == cluster.state.cluster_id
    assert outs["bootstrap"] == "initialised" and outs["root_token_revoked"] is True
    assert not break_glass.init_pending(boto3.client("secretsmanager"), secret_arn)


def test_audit_devices_are_enabled_before_any_other_configuration(cluster, secret_arn):
    """Everything the root token does after init (policies, engines, auth methods, roles) is audited."""
    VaultBootstrapProvider().create(props(cluster, secret_arn))
    configuration = [
        path
        for method, path in writes(cluster)
        if path.startswith(
            ("sys/audit/", "sys/policies/", "sys/mounts/", "sys/auth/", "auth/aws/", "auth/approle/")
        )
    ]
    assert configuration[:2] == ["sys/audit/file", "sys/audit/syslog"]
    assert "sys/audit/file" not in configuration[2:] and "sys/audit/syslog" not in configuration[2:]


def test_the_root_token_is_revoked_and_the_provisioner_token_is_periodic_and_scoped(bootstrapped):
    server, secret, state = bootstrapped
    with pytest.raises(hx.Forbidden):
        server.client(token=stored_material(secret)["root_token"]).auth.token.lookup_self()
    provisioner = server.client(token=state["provisioner_token"])
    looked_up = provisioner.auth.token.lookup_self()["data"]
    assert looked_up["period"] == 720 * 3600 and looked_up["renewable"] is True
    assert looked_up["policies"] == ["provisioner"] and looked_up["orphan"] is True
    assert looked_up["accessor"] == state["provisioner_accessor"]
    provisioner.secrets.kv.v2.create_or_update_secret(
        path="candlefish/x", secret={"v": "example-not-a-secret"}
    )
    for forbidden in (
        lambda: provisioner.sys.disable_audit_device("file"),
        lambda: provisioner.sys.disable_auth_method("aws"),
        lambda: provisioner.sys.disable_secrets_engine("secret"),
        lambda: provisioner.auth.token.create(policies=["admin"]),
        lambda: provisioner.write_data("auth/approle/role/ci/secret-id"),
        lambda: provisioner.read("sys/storage/raft/snapshot"),
    ):
        with pytest.raises(hx.Forbidden):
            forbidden()


def as_provisioner(server, state):
    return server.client(token=state["provisioner_token"])


def forbidden(action) -> bool:
    try:
        action()
    except hx.Forbidden:
        return True
    return False


def test_the_provisioner_writes_the_policies_it_binds_but_never_admin_break_glass_or_its_own(bootstrapped):
    server, _, state = bootstrapped
    provisioner = as_provisioner(server, state)
    declared = render_policies(APPS, region=REGION)
    refused = {
        name
        for name, text in declared.items()
        if forbidden(
            lambda name=name, text=text: provisioner.sys.create_or_update_acl_policy(name=name, policy=text)
        )
    }
    assert (
        refused
        == set(PROTECTED_POLICIES)
        == {
            "admin",
            "break-glass",
            "provisioner",
            "break-glass-broker",
            "break-glass-drill",
        }
    )
    # Vault lowercases the name it writes, so a name in capitals must not slip past; nor may `default`
    # (every token carries it) or a new policy outside the platform's names be written.
    for name in ("ADMIN", "Break-Glass", "PROVISIONER", "default", "root-ish", "security"):
        assert forbidden(
            lambda name=name: provisioner.sys.create_or_update_acl_policy(name=name, policy=declared["admin"])
        ), name
    assert provisioner.sys.read_acl_policy("admin")["data"]["policy"] == declared["admin"].strip()
    assert admin(server).sys.read_acl_policy("admin")["data"]["policy"] == declared["admin"].strip()


@pytest.mark.parametrize("per_element", [False, True], ids=["vault-1.20", "vault-1.21"])
@pytest.mark.parametrize(
    ("role_path", "own_policy"),
    [("auth/aws/role/payments", "app-payments-readonly"), ("auth/approle/role/ci", "platform-team")],
    ids=["aws", "approle"],
)
def test_the_provisioner_binds_only_the_platforms_policies_to_a_role(
    bootstrapped, role_path, own_policy, per_element
):
    server, _, state = bootstrapped
    server.set_per_element_list_matching(per_element)
    provisioner = as_provisioner(server, state)
    attempts = [
        {"token_policies": "break-glass"},
        {"token_policies": "admin"},
        {"token_policies": "provisioner"},
        {"token_policies": "security-team"},
        {"token_policies": "default"},
        {"token_policies": "root"},
        {"token_policies": ["admin"]},
        {"token_policies": [own_policy, "break-glass"]},
        {"token_policies": f"{own_policy},break-glass"},
        {"token_policies": "app-payments-readonly, admin"},
        {"token_policies": ["app-x,admin"]},
        {"policies": "admin"},
        {"policies": f"{own_policy},admin"},
    ]
    for data in attempts:
        assert forbidden(lambda data=data: provisioner.write_data(role_path, data=data)), data
    provisioner.write_data(role_path, data={"token_policies": own_policy})
    assert admin(server).read(role_path)["data"]["token_policies"] == [own_policy]


def test_the_provisioner_cannot_let_ci_log_in_without_a_secret_id(bootstrapped):
    server, _, state = bootstrapped
    provisioner = as_provisioner(server, state)
    for data in ({"bind_secret_id": False}, {"bind_secret_id": "false"}, {"role_id": "known-to-me"}):
        assert forbidden(lambda data=data: provisioner.write_data("auth/approle/role/ci", data=data)), data
    assert forbidden(lambda: provisioner.read("auth/approle/role/ci/role-id"))
    assert forbidden(lambda: provisioner.write_data("auth/approle/role/ci/secret-id"))


def test_the_provisioner_re_enables_audit_devices_only_as_declared(bootstrapped):
    server, secret, state = bootstrapped
    for device in ("file", "syslog"):
        admin(server).sys.disable_audit_device(device)
    provisioner = as_provisioner(server, state)
    declared = {"file_path": "/var/log/vault/audit/vault-audit.log"}
    attempts = [
        ("file", "file", {**declared, "log_raw": "true"}),
        ("file", "file", {**declared, "hmac_accessor": "false"}),
        ("file", "file", {"file_path": "/var/log/elsewhere.log"}),
        ("file", "socket", {"address": "10.0.0.9:9090"}),
        ("socket", "socket", {"address": "10.0.0.9:9090"}),
        ("syslog", "syslog", {"facility": "AUTH", "tag": "vault", "log_raw": "true"}),
        ("raw", "file", declared),
    ]
    for path, kind, options in attempts:
        assert forbidden(
            lambda path=path, kind=kind, options=options: provisioner.sys.enable_audit_device(
                device_type=kind, path=path, options=options
            )
        ), (path, kind, options)
    outs = outs_of(VaultBootstrapProvider().update("cluster", state, props(server, secret)))
    assert outs["changes"] == ["enabled audit device file/", "enabled audit device syslog/"]
    devices = admin(server).sys.list_enabled_audit_devices()["data"]
    assert devices["file/"]["options"] == declared and set(devices) == {"file/", "syslog/"}


def test_the_provisioner_cannot_exempt_fields_from_the_audit_logs_hmac(bootstrapped):
    server, _, state = bootstrapped
    provisioner = as_provisioner(server, state)
    for mount in ("sys/mounts/secret/tune", "sys/auth/aws/tune"):
        for field in ("audit_non_hmac_request_keys", "audit_non_hmac_response_keys"):
            assert forbidden(
                lambda mount=mount, field=field: provisioner.write_data(mount, data={field: ["value"]})
            ), (mount, field)
    provisioner.sys.tune_mount_configuration(path="secret", options={"version": "2"})


def test_the_provisioner_cannot_point_aws_auth_at_another_sts_endpoint(bootstrapped):
    server, _, state = bootstrapped
    provisioner = as_provisioner(server, state)
    for data in (
        {"sts_endpoint": "https://sts.attacker.example"},
        {"sts_endpoint": "https://sts.eu-west-1.amazonaws.com", "sts_region": "eu-west-1"},
        {"iam_endpoint": "https://iam.attacker.example"},
        {"access_key": FAKE_ACCESS_KEY, "secret_key": FAKE_SECRET_KEY},
    ):
        assert forbidden(lambda data=data: provisioner.write_data("auth/aws/config/client", data=data)), data
    provisioner.write_data(
        "auth/aws/config/client",
        data={"sts_endpoint": f"https://sts.{REGION}.amazonaws.com", "sts_region": REGION},
    )


def test_a_changed_protected_policy_takes_an_admin_token_for_one_run(bootstrapped):
    server, secret, state = bootstrapped
    admin(server).sys.create_or_update_acl_policy(
        name="break-glass", policy='path "sys/*" { capabilities = ["read"] }'
    )
    provider = VaultBootstrapProvider()
    refreshed = outs_of(provider.read("cluster", state))
    assert refreshed["drift"] == "policy break-glass differs"
    server.clear_request_log()
    with pytest.raises(
        BootstrapError,
        match=r"Vault's break-glass policy differs .*provisioner token may not write it.*nothing was written"
        r".*vaultAdoptToken",
    ):
        provider.update("cluster", refreshed, props(server, secret))
    assert writes(server) == [("POST", "auth/token/renew-self")]
    platform = server.create_token(["platform-team"])
    with pytest.raises(BootstrapError, match=r"vaultAdoptToken may not write break-glass"):
        provider.update("cluster", refreshed, props(server, secret, adopt_token=platform))
    token = server.create_token(["admin"])
    accessor = server.state.tokens.lookup(token).accessor
    outs = outs_of(provider.update("cluster", refreshed, props(server, secret, adopt_token=token)))
    assert outs["changes"] == ["wrote policy break-glass"]
    assert [e.token_accessor for e in requests_to(server, "sys/policies/acl/break-glass", "PUT")] == [
        accessor
    ]
    assert outs["provisioner_token"] == state["provisioner_token"]  # the adopt token wrote that alone
    assert outs_of(provider.read("cluster", {**state, **outs}))["drift"] == ""


def test_first_run_configures_audit_kv_auth_roles_policies_and_autopilot(bootstrapped):
    server, _, state = bootstrapped
    vault = admin(server)
    audit = vault.sys.list_enabled_audit_devices()["data"]
    assert audit["file/"]["type"] == "file"
    assert audit["file/"]["options"]["file_path"] == "/var/log/vault/audit/vault-audit.log"
    assert audit["syslog/"]["type"] == "syslog"
    assert audit["syslog/"]["options"] == {"facility": "AUTH", "tag": "vault"}
    mounts = vault.sys.list_mounted_secrets_engines()["data"]
    assert mounts["secret/"]["type"] == "kv" and mounts["secret/"]["options"] == {"version": "2"}
    auths = vault.sys.list_auth_methods()["data"]
    assert auths["aws/"]["type"] == "aws" and auths["approle/"]["type"] == "approle"
    snapshot = vault.auth.aws.read_role("snapshot")
    assert snapshot["bound_iam_principal_arn"] == [NODE_ROLE] and snapshot["auth_type"] == "iam"
    assert snapshot["token_policies"] == ["snapshot"] and snapshot["token_no_default_policy"] is True
    assert vault.auth.aws.read_role("rotation")["token_policies"] == ["rotation"]
    payments = vault.auth.aws.read_role("payments")
    assert payments["bound_iam_principal_arn"] == [PAYMENTS_ROLE]
    assert payments["token_policies"] == ["app-payments-readonly"]
    ci = vault.auth.approle.read_role("ci")["data"]
    assert ci["token_policies"] == ["platform-team"] and ci["secret_id_ttl"] == 3600
    assert ci["token_ttl"] == 1200 and ci["token_max_ttl"] == 3600
    assert ci["token_bound_cidrs"] == ["10.20.0.0/16"] and ci["secret_id_bound_cidrs"] == ["10.20.0.0/16"]
    names = set(vault.sys.list_acl_policies()["data"]["keys"])
    expected = {"admin", "platform-team", "security-team", "rotation", "snapshot", "break-glass"}
    assert expected | {"provisioner", "app-payments-readonly"} <= names
    for name, text in render_policies(APPS, region=REGION).items():
        assert vault.sys.read_acl_policy(name)["data"]["policy"] == text.strip()
    pilot = vault.read("sys/storage/raft/autopilot/configuration")["data"]
    assert pilot["cleanup_dead_servers"] is True and pilot["min_quorum"] == 3
    assert pilot["dead_server_last_contact_threshold"] == "10m0s"
    assert pilot["last_contact_threshold"] == "10s" and pilot["server_stabilization_time"] == "10s"
    assert state["config_digest"].startswith("sha256:") and state["drift"] == ""


def test_machine_roles_log_in_with_aws_iam_and_get_exactly_their_policy(bootstrapped):
    server, _, _ = bootstrapped
    server.register_iam_identity(
        FAKE_ACCESS_KEY, f"arn:aws:sts::{ACCOUNT}:assumed-role/candlefish-test-vault-node/i-0123456789abcdef0"
    )
    node = server.client(token="")
    login = node.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="snapshot")["auth"]
    assert login["policies"] == ["snapshot"] and login["lease_duration"] == 900
    assert node.read("sys/storage/raft/snapshot") is not None
    with pytest.raises(hx.Forbidden):
        node.secrets.kv.v2.read_secret_version(path="candlefish/x", raise_on_deleted_version=True)
    other_key = "AKIA" + "EXAMPLENOTAKEY03"
    server.register_iam_identity(
        other_key, f"arn:aws:sts::{ACCOUNT}:assumed-role/candlefish-test-rotation/run"
    )
    rotation = server.client(token="")
    rotation.auth.aws.iam_login(other_key, FAKE_SECRET_KEY, role="rotation")
    rotation.secrets.kv.v2.create_or_update_secret(
        path="candlefish/jwt", secret={"v": "example-not-a-secret"}
    )
    with pytest.raises(hx.Forbidden):
        rotation.secrets.kv.v2.create_or_update_secret(path="other/jwt", secret={"v": "example"})


def test_rotation_patches_catalog_metadata_but_never_replaces_it(bootstrapped):
    """The rotation function records its runs in custom metadata with a merge PATCH (kv-v2.mdx "Patch
    metadata"): it holds `patch` on secret/metadata/candlefish/*, not `update`, and nothing elsewhere."""
    server, _, _ = bootstrapped
    other_key = "AKIA" + "EXAMPLENOTAKEY03"
    server.register_iam_identity(
        other_key, f"arn:aws:sts::{ACCOUNT}:assumed-role/candlefish-test-rotation/run"
    )
    rotation = server.client(token="")
    token = rotation.auth.aws.iam_login(other_key, FAKE_SECRET_KEY, role="rotation")["auth"]["client_token"]
    rotation.secrets.kv.v2.create_or_update_secret(
        path="candlefish/jwt", secret={"v": "example-not-a-secret"}
    )
    admin(server).secrets.kv.v2.update_metadata(path="candlefish/jwt", custom_metadata={"owner": "platform"})
    admin(server).secrets.kv.v2.create_or_update_secret(
        path="other/jwt", secret={"v": "example-not-a-secret"}
    )

    def patch(path):
        return requests.patch(
            f"{server.url}/v1/secret/metadata/{path}",
            data=json.dumps({"custom_metadata": {"rotated_at": "2026-01-01T00:00:00Z"}}),
            headers={"X-Vault-Token": token, "Content-Type": "application/merge-patch+json"},
            timeout=5,
        )

    assert patch("candlefish/jwt").status_code == 204
    metadata = admin(server).secrets.kv.v2.read_secret_metadata(path="candlefish/jwt")["data"]
    assert metadata["custom_metadata"] == {"owner": "platform", "rotated_at": "2026-01-01T00:00:00Z"}
    assert patch("other/jwt").status_code == 403
    with pytest.raises(hx.Forbidden):  # a POST replaces the metadata: update, which rotation does not hold
        rotation.secrets.kv.v2.update_metadata(path="candlefish/jwt", custom_metadata={"owner": "x"})


def test_the_snapshot_timer_can_revoke_its_own_token(bootstrapped):
    """vault-snapshot.sh ends with `vault token revoke -self` (POST auth/token/revoke-self); the snapshot
    role's tokens carry no default policy, so snapshot.hcl must grant that path itself."""
    server, _, _ = bootstrapped
    server.register_iam_identity(
        FAKE_ACCESS_KEY, f"arn:aws:sts::{ACCOUNT}:assumed-role/candlefish-test-vault-node/i-0123456789abcdef0"
    )
    node = server.client(token="")
    login = node.auth.aws.iam_login(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, role="snapshot")["auth"]
    assert login["policies"] == ["snapshot"]
    node.auth.token.revoke_self()
    with pytest.raises(hx.Forbidden):
        node.auth.token.lookup_self()  # gone; it could not look itself up before either
    assert server.state.tokens.lookup_accessor(login["accessor"]) is None


def test_the_admin_policy_is_root_equivalent_as_its_header_says(bootstrapped):
    """admin.hcl and README say so; if admin is ever narrowed, this fails and the documents must change."""
    server, _, _ = bootstrapped
    vault = server.client(token=server.create_token(["admin"]))
    minted = vault.auth.token.create(policies=["break-glass"], no_default_policy=True)["auth"]
    assert minted["policies"] == ["break-glass"]
    vault.sys.create_or_update_acl_policy(name="admin", policy='path "*" { capabilities = ["sudo", "read"] }')
    assert "ROOT-EQUIVALENT" in (POLICY_DIR / "admin.hcl").read_text()


def test_the_platform_team_reads_no_values_not_even_as_a_snapshot(bootstrapped):
    server, _, _ = bootstrapped
    platform = server.client(token=server.create_token(["platform-team"]))
    assert platform.read("sys/storage/raft/configuration")
    with pytest.raises(hx.Forbidden):
        platform.read("sys/storage/raft/snapshot")
    with pytest.raises(hx.Forbidden):
        platform.secrets.kv.v2.read_secret_version(path="candlefish/x", raise_on_deleted_version=True)


def test_a_ci_secret_id_logs_in_once_and_lives_an_hour(bootstrapped):
    server, _, _ = bootstrapped
    vault = admin(server)
    role = vault.auth.approle.read_role("ci")["data"]
    assert (role["secret_id_num_uses"], role["secret_id_ttl"]) == (1, 3600)
    role_id = vault.auth.approle.read_role_id("ci")["data"]["role_id"]
    secret_id = vault.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    ci = server.client(token="")
    assert ci.auth.approle.login(role_id=role_id, secret_id=secret_id)["auth"]["policies"] == [
        "default",
        "platform-team",
    ]
    with pytest.raises(hx.InvalidRequest):
        server.client(token="").auth.approle.login(role_id=role_id, secret_id=secret_id)
    expiring = vault.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    server.clock.advance(3601)
    with pytest.raises(hx.InvalidRequest):
        server.client(token="").auth.approle.login(role_id=role_id, secret_id=expiring)


# --- waits ------------------------------------------------------------------------------------------------


def test_first_run_waits_for_auto_unseal(vault_server_factory, secret_arn):
    server = vault_server_factory(initialized=False, kv_mount=None, auto_unseal_polls=6)
    join_peers(server)
    outs = outs_of(VaultBootstrapProvider().create(props(server, secret_arn)))
    assert outs["root_token_revoked"] is True
    health_after_init = [e for e in server.request_log if e.path == "sys/health"]
    assert len(health_after_init) >= 6


# --- re-runs, drift, adoption -----------------------------------------------------------------------------


def test_a_rerun_initialises_nothing_and_writes_nothing(bootstrapped):
    server, secret, state = bootstrapped
    provider = VaultBootstrapProvider()
    assert provider.diff("id", state, props(server, secret)).changes is False
    version = boto3.client("secretsmanager").describe_secret(SecretId=secret)["VersionIdsToStages"]
    server.clear_request_log()
    outs = outs_of(provider.update("id", state, props(server, secret)))
    assert not requests_to(server, "sys/init")
    assert writes(server) == [("POST", "auth/token/renew-self")]
    assert outs["provisioner_token"] == state["provisioner_token"]
    assert outs["config_digest"] == state["config_digest"] and outs["changes"] == []
    assert boto3.client("secretsmanager").describe_secret(SecretId=secret)["VersionIdsToStages"] == version


def test_refresh_reports_a_changed_policy_and_update_corrects_it(bootstrapped):
    server, secret, state = bootstrapped
    provider = VaultBootstrapProvider()
    admin(server).sys.create_or_update_acl_policy(
        name="rotation", policy='path "secret/*" { capabilities = ["create", "read", "update", "delete"] }'
    )
    refreshed = outs_of(provider.read("cluster", state))
    assert refreshed["config_digest"] != state["config_digest"]
    assert refreshed["drift"] == "policy rotation differs"
    assert refreshed["provisioner_token"] == state["provisioner_token"]
    assert provider.diff("cluster", refreshed, props(server, secret)).changes is True
    outs = outs_of(provider.update("cluster", refreshed, props(server, secret)))
    assert outs["changes"] == ["wrote policy rotation"]
    live = admin(server).sys.read_acl_policy("rotation")["data"]["policy"]
    assert live == render_policies(APPS, region=REGION)["rotation"].strip()
    again = outs_of(provider.read("cluster", {**state, **outs}))
    assert again["config_digest"] == state["config_digest"] and again["drift"] == ""


@pytest.mark.parametrize(
    ("break_it", "drift", "change"),
    [
        (
            lambda vault: vault.sys.disable_audit_device("syslog"),
            "audit device syslog/ is missing",
            "enabled audit device syslog/",
        ),
        (
            lambda vault: vault.sys.disable_secrets_engine("secret"),
            "secrets engine secret/ is missing",
            "mounted kv v2 at secret/",
        ),
        (
            lambda vault: vault.auth.aws.delete_role("payments"),
            "AWS auth role payments is missing",
            "wrote AWS auth role payments",
        ),
        (
            lambda vault: vault.write_data(
                "sys/storage/raft/autopilot/configuration", data={"cleanup_dead_servers": False}
            ),
            "autopilot configuration differs",
            "set the autopilot configuration",
        ),
        (
            lambda vault: vault.sys.disable_audit_device("file"),
            "audit device file/ is missing",
            "enabled audit device file/",
        ),
        (
            lambda vault: vault.delete("auth/approle/role/ci"),
            "AppRole role ci is missing",
            "wrote AppRole role ci",
        ),
        (
            lambda vault: vault.write_data(
                "auth/aws/config/client", data={"sts_endpoint": "https://sts.amazonaws.com"}
            ),
            "aws client configuration differs",
            "configured the AWS auth client",
        ),
        (
            lambda vault: vault.sys.create_or_update_acl_policy(
                name="app-payments-readonly", policy='path "secret/*" { capabilities = ["read"] }'
            ),
            "policy app-payments-readonly differs",
            "wrote policy app-payments-readonly",
        ),
    ],
)
@pytest.mark.parametrize("per_element", [False, True], ids=["vault-1.20", "vault-1.21"])
def test_other_drift_is_reported_and_reconciled(bootstrapped, break_it, drift, change, per_element):
    """The provisioner token corrects drift under its restricted policy, whichever way Vault matches list
    parameters (a list whole before 1.21, element by element since)."""
    server, secret, state = bootstrapped
    server.set_per_element_list_matching(per_element)
    break_it(admin(server))
    provider = VaultBootstrapProvider()
    refreshed = outs_of(provider.read("cluster", state))
    assert refreshed["drift"] == drift
    outs = outs_of(provider.update("cluster", refreshed, props(server, secret)))
    assert outs["changes"] == [change]
    assert outs_of(provider.read("cluster", {**state, **outs}))["config_digest"] == state["config_digest"]


def test_a_removed_application_loses_its_role_and_policy(bootstrapped):
    server, secret, state = bootstrapped
    news = props(server, secret, app_roles=[], policies=dict(render_policies([], region=REGION)))
    outs = outs_of(VaultBootstrapProvider().update("cluster", state, news))
    assert set(outs["changes"]) == {"deleted AWS auth role payments", "deleted policy app-payments-readonly"}
    with pytest.raises(hx.InvalidPath):
        admin(server).auth.aws.read_role("payments")


def test_a_recreated_resource_adopts_the_cluster_with_a_token_and_never_reinitialises(bootstrapped):
    server, secret, state = bootstrapped
    server.clear_request_log()
    adopt = server.create_token(["admin"])  # an administrator's token, not root
    outs = outs_of(VaultBootstrapProvider().create(props(server, secret, adopt_token=adopt)))
    assert not requests_to(server, "sys/init")
    assert outs["bootstrap"] == "adopted" and outs["root_token_revoked"] is False
    assert outs["provisioner_token"] != state["provisioner_token"]
    assert server.client(token=outs["provisioner_token"]).auth.token.lookup_self()["data"]["orphan"]
    assert adopt not in json.dumps(outs) and outs["adopt_token_fingerprint"].startswith("sha256:")


def test_adopting_without_a_token_is_a_clear_error(bootstrapped):
    server, secret, _ = bootstrapped
    with pytest.raises(
        BootstrapError, match=r"already initialised and this stack has no token.*vaultAdoptToken"
    ):
        VaultBootstrapProvider().create(props(server, secret))
    assert not requests_to(server, "sys/init", "PUT")[1:]


def test_a_refused_provisioner_token_is_a_clear_error_and_an_adopt_token_recovers(bootstrapped):
    server, secret, state = bootstrapped
    admin(server).auth.token.revoke_accessor(state["provisioner_accessor"])
    with pytest.raises(
        BootstrapError, match=r"provisioner token in this stack's state was refused \(403.*vaultAdoptToken"
    ):
        VaultBootstrapProvider().update("cluster", state, props(server, secret))
    news = props(server, secret, adopt_token=server.create_token(["root"]))
    assert VaultBootstrapProvider().diff("cluster", state, news).changes is True
    outs = outs_of(VaultBootstrapProvider().update("cluster", state, news))
    assert server.client(token=outs["provisioner_token"]).auth.token.lookup_self()
    assert outs["provisioner_accessor"] != state["provisioner_accessor"]


def test_an_overdue_renewal_makes_a_diff(bootstrapped):
    server, secret, state = bootstrapped
    overdue = {**state, "provisioner_renew_after": "2000-01-01T00:00:00+00:00"}
    assert VaultBootstrapProvider().diff("cluster", overdue, props(server, secret)).changes is True


def test_unknown_inputs_during_preview_are_a_change(bootstrapped):
    from pulumi.runtime import rpc

    server, secret, state = bootstrapped
    news = props(server, secret, address=rpc.UNKNOWN)
    assert VaultBootstrapProvider().diff("cluster", state, news).changes is True


def test_delete_removes_nothing_from_vault_and_says_so(bootstrapped):
    server, _, state = bootstrapped
    server.clear_request_log()
    VaultBootstrapProvider().delete("cluster", state)
    assert server.request_log == []
    assert state["on_delete"] == DELETE_NOTE and "removes nothing from Vault" in DELETE_NOTE
    assert server.client(token=state["provisioner_token"]).auth.token.lookup_self()


# --- failure modes ----------------------------------------------------------------------------------------


def test_a_node_that_stays_sealed_is_a_clear_error(vault_server_factory, secret_arn):
    server = vault_server_factory(initialized=False, kv_mount=None, auto_unseal_polls=10_000)
    with pytest.raises(BootstrapError, match=r"still sealed after 0.3 s: auto-unseal has not completed.*kms"):
        VaultBootstrapProvider().create(props(server, secret_arn, waits={**FAST, "unseal_s": 0.3}))
    assert stored_material(secret_arn)["root_token"]  # the shares were stored before the wait


def test_a_cluster_sealed_between_runs_is_a_clear_error(bootstrapped):
    server, secret, state = bootstrapped
    server.seal()
    with pytest.raises(
        BootstrapError, match=r"still sealed after 0.3 s.*re-run `pulumi up` \(init is not repeated\)"
    ):
        VaultBootstrapProvider().update(
            "cluster", state, props(server, secret, waits={**FAST, "unseal_s": 0.3})
        )


def test_peers_joined_but_unhealthy_is_a_clear_error(cluster, secret_arn):
    cluster.set_raft_peer_health("vault-3", False)
    with pytest.raises(BootstrapError, match=r"all 5 raft peers joined but autopilot .*unhealthy: vault-3"):
        VaultBootstrapProvider().create(props(cluster, secret_arn, waits={**FAST, "peers_s": 0.3}))


def test_a_node_role_without_iam_lookups_is_a_clear_error_and_the_next_run_finishes(cluster, secret_arn):
    cluster.set_iam_lookups_allowed(False)
    with pytest.raises(BootstrapError, match=r"Vault node role needs iam:GetRole .* on the bound principals"):
        VaultBootstrapProvider().create(props(cluster, secret_arn))
    cluster.set_iam_lookups_allowed(True)
    outs = outs_of(VaultBootstrapProvider().create(props(cluster, secret_arn)))
    assert outs["bootstrap"] == "resumed" and outs["root_token_revoked"] is True


# --- policies as files, and the provider as Pulumi runs it ------------------------------------------------


@pytest.mark.parametrize("name", sorted(render_policies(APPS, region=REGION)))
def test_rendered_policies_parse_as_hcl(name):
    document = hcl2.loads(render_policies(APPS, region=REGION)[name])
    assert document["path"], f"{name} grants nothing"


def test_every_policy_template_is_rendered():
    rendered = render_policies(APPS, region=REGION)
    assert {path.stem for path in POLICY_DIR.glob("*.hcl")} - set(rendered) == {"app-readonly"}
    assert not [name for name, text in rendered.items() if "${" in text]


def test_rendered_application_policies_parse_and_name_each_path():
    text = render_app_policy("payments", ["candlefish/payments", "shared/payments"])
    paths = [next(iter(block)) for block in hcl2.loads(text)["path"]]
    assert [p.strip('"') for p in paths] == [
        "secret/data/candlefish/payments/*",
        "secret/metadata/candlefish/payments/*",
        "secret/data/shared/payments/*",
        "secret/metadata/shared/payments/*",
    ]
    with pytest.raises(ValueError, match="no wildcards"):
        render_app_policy("payments", ["candlefish/*"])
