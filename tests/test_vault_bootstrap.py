# ruff: noqa: F811  (pytest fixtures imported from tests/test_vault_bootstrap_real.py are parameters here)
"""The bootstrap provider's rights, drift, adoption and waits on real OpenBao clusters (one node each),
behind the fault proxy that also serves the AWS auth stand-in (tests/support/aws_auth_standin.py).

Most tests need an administrator after the bootstrap (to break things, or to check what the provisioner
may not see). On OpenBao 2.7 root generation is itself authenticated (sys/generate-root-token needs a
privileged token), so a cluster whose root token the bootstrap revoked has none left. These tests bootstrap
a cluster the harness initialised instead, by adoption (`adopt_token`, as an operator re-creating the
resource would): the harness's root token stays the test's administrator. Those tests share one cluster
(`openbao_shared_node`), put back to how `sys/init` left it before each one, with a proxy, stand-in, audit log
and break-glass secret of their own; the waits below need an uninitialised cluster and start one each. The
first run from an uninitialised cluster is tested in tests/test_vault_bootstrap_real.py, faults in
tests/test_vault_bootstrap_faults_real.py, every policy with a real token in
tests/test_vault_policies_real.py.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import boto3
import hcl2
import hvac
import hvac.exceptions as hx
import pytest
import requests

from components.vault.policies import POLICY_DIR, render_app_policy, render_policies
from providers import vault_bootstrap as bootstrap_module
from providers import vault_waits
from providers.common import BootstrapError
from providers.vault_bootstrap import DELETE_NOTE, VaultBootstrapProvider
from providers.vault_config import PROTECTED_POLICIES
from tests.support.vault_proxy import FaultProxy
from tests.test_vault_bootstrap_real import (  # noqa: F401  (fixtures)
    APPS,
    NODE_ROLE,
    REGION,
    ROTATION_ROLE,
    WAITS,
    Target,
    fast_retries,
    props,
    secret_arn,
    stored_material,
    target,
    target_factory,
)

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
FAKE_ACCESS_KEY = "AKIA" + "EXAMPLENOTAKEY02"  # built at run time: the secrets scan rejects key literals
ROTATION_KEY = "AKIA" + "EXAMPLENOTAKEY03"
FAKE_SECRET_KEY = "example-not-a-secret-key"


@dataclass
class Adopted:
    """A bootstrapped cluster whose harness root token is still the test's administrator."""

    target: Target
    secret: str
    state: dict

    def admin(self) -> hvac.Client:
        """Through the proxy, so the AWS auth stand-in answers its paths too."""
        return hvac.Client(url=self.target.url, token=self.target.cluster.root_token)

    def provisioner(self) -> hvac.Client:
        return hvac.Client(url=self.target.url, token=self.state["provisioner_token"])

    def news(self, **extra) -> dict:
        return dict(props(self.target, self.secret, **extra))

    def mint(self, *policies: str) -> str:
        return str(self.admin().auth.token.create(policies=list(policies), ttl="1h")["auth"]["client_token"])

    def login(self, access_key: str, arn: str, role: str) -> hvac.Client:
        """An AWS IAM login through the stand-in (signed by botocore, the signature checked)."""
        assert self.target.proxy.aws_auth is not None
        self.target.proxy.aws_auth.register_identity(access_key, arn, FAKE_SECRET_KEY)
        client = hvac.Client(url=self.target.url)
        client.auth.aws.iam_login(access_key, FAKE_SECRET_KEY, role=role)
        return client


@pytest.fixture
def adopted(openbao_shared_node, openbao_syslog, tmp_path, secret_arn):
    cluster = openbao_shared_node.fresh()  # as just initialised: nothing an earlier test made is left
    proxy = FaultProxy(cluster.addrs[0], ca_cert=cluster.ca_cert_path).with_aws_auth(cluster.root_token)
    proxy.start()
    try:
        target = Target(cluster, proxy, tmp_path / "audit.log")
        given = props(target, secret_arn, adopt_token=cluster.root_token)
        adopting = VaultBootstrapProvider().create(given).outs
        assert adopting is not None and adopting["bootstrap"] == "adopted"
        # The operator then drops vaultAdoptToken from the stack's config, and the next `up` records that.
        settled = props(target, secret_arn)
        outs = VaultBootstrapProvider().update("cluster", {**given, **adopting}, settled).outs
        assert outs is not None and outs["changes"] == []
        proxy.log.clear()
        yield Adopted(target, secret_arn, {**settled, **outs})
    finally:
        proxy.stop()


def forbidden(action) -> bool:
    try:
        action()
    except hx.Forbidden:
        return True
    return False


def writes(target: Target) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in target.proxy.request_log if r.method not in {"GET", "HEAD", "LIST"}]


# --- what the provisioner may and may not do ---


def test_the_provisioner_writes_the_policies_it_binds_but_never_admin_break_glass_or_its_own(adopted):
    provisioner = adopted.provisioner()
    declared = render_policies(APPS, region=REGION, audit_file_path=str(adopted.target.audit_log))
    refused = {
        name
        for name, text in declared.items()
        if forbidden(
            lambda name=name, text=text: provisioner.sys.create_or_update_acl_policy(name=name, policy=text)
        )
    }
    assert refused == set(PROTECTED_POLICIES)
    assert refused == {"admin", "break-glass", "provisioner", "break-glass-broker", "break-glass-drill"}
    # Vault lowercases the name it writes, so a name in capitals must not slip past; nor may `default`
    # (every token carries it) or a new policy outside the platform's names be written.
    for name in ("ADMIN", "Break-Glass", "PROVISIONER", "default", "root-ish", "security"):
        assert forbidden(
            lambda name=name: provisioner.sys.create_or_update_acl_policy(name=name, policy=declared["admin"])
        ), name
    assert adopted.admin().sys.read_acl_policy("admin")["data"]["policy"] == declared["admin"].strip()


@pytest.mark.parametrize(
    ("role_path", "own_policy"),
    [("auth/aws/role/payments", "app-payments-readonly"), ("auth/approle/role/ci", "platform-team")],
    ids=["aws", "approle"],
)
def test_the_provisioner_binds_only_the_platforms_policies_to_a_role(adopted, role_path, own_policy):
    """On the AWS path the real server's `allowed_parameters` decide through the stand-in's probe. OpenBao
    2.7 matches a list parameter whole, as Vault did before 1.21."""
    provisioner = adopted.provisioner()
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
    admin = adopted.admin()
    live = (
        adopted.target.proxy.aws_auth.roles["payments"]
        if "aws" in role_path
        else admin.read(role_path)["data"]
    )
    assert live["token_policies"] == [own_policy]


def test_the_provisioner_cannot_let_ci_log_in_without_a_secret_id(adopted):
    provisioner = adopted.provisioner()
    for data in ({"bind_secret_id": False}, {"bind_secret_id": "false"}, {"role_id": "known-to-me"}):
        assert forbidden(lambda data=data: provisioner.write_data("auth/approle/role/ci", data=data)), data
    assert forbidden(lambda: provisioner.read("auth/approle/role/ci/role-id"))
    assert forbidden(lambda: provisioner.write_data("auth/approle/role/ci/secret-id"))


def test_the_provisioner_re_enables_audit_devices_only_as_declared(adopted):
    for device in ("file", "syslog"):
        adopted.admin().sys.disable_audit_device(device)
    provisioner = adopted.provisioner()
    declared = {"file_path": str(adopted.target.audit_log)}
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
    outs = VaultBootstrapProvider().update("cluster", adopted.state, adopted.news()).outs
    assert outs is not None
    assert outs["changes"] == ["enabled audit device file/", "enabled audit device syslog/"]
    devices = adopted.admin().sys.list_enabled_audit_devices()["data"]
    assert devices["file/"]["options"]["file_path"] == declared["file_path"]
    assert set(devices) == {"file/", "syslog/"}


def test_the_provisioner_cannot_exempt_fields_from_the_audit_logs_hmac(adopted):
    provisioner = adopted.provisioner()
    for mount in ("sys/mounts/secret/tune", "sys/auth/aws/tune"):
        for field in ("audit_non_hmac_request_keys", "audit_non_hmac_response_keys"):
            assert forbidden(
                lambda mount=mount, field=field: provisioner.write_data(mount, data={field: ["value"]})
            ), (mount, field)
    provisioner.sys.tune_mount_configuration(path="secret", options={"version": "2"})


def test_the_provisioner_cannot_point_aws_auth_at_another_sts_endpoint(adopted):
    provisioner = adopted.provisioner()
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


def test_a_changed_protected_policy_takes_an_admin_token_for_one_run(adopted):
    adopted.admin().sys.create_or_update_acl_policy(
        name="break-glass", policy='path "sys/*" { capabilities = ["read"] }'
    )
    provider = VaultBootstrapProvider()
    refreshed = provider.read("cluster", adopted.state).outs
    assert refreshed is not None and refreshed["drift"] == "policy break-glass differs"
    adopted.target.proxy.log.clear()
    with pytest.raises(
        BootstrapError,
        match=r"Vault's break-glass policy differs .*provisioner token may not write it.*nothing was written"
        r".*vaultAdoptToken",
    ):
        provider.update("cluster", refreshed, adopted.news())
    assert writes(adopted.target) == [("POST", "auth/token/renew-self")]
    with pytest.raises(BootstrapError, match=r"vaultAdoptToken may not write break-glass"):
        provider.update("cluster", refreshed, adopted.news(adopt_token=adopted.mint("platform-team")))
    outs = provider.update("cluster", refreshed, adopted.news(adopt_token=adopted.mint("admin"))).outs
    assert outs is not None and outs["changes"] == ["wrote policy break-glass"]
    assert outs["provisioner_token"] == adopted.state["provisioner_token"]  # the adopt token wrote that alone
    again = provider.read("cluster", {**adopted.state, **outs}).outs
    assert again is not None and again["drift"] == ""


# --- machine logins (AWS IAM through the stand-in, real tokens) ---


def test_machine_roles_log_in_with_aws_iam_and_get_exactly_their_policy(adopted):
    node = adopted.login(FAKE_ACCESS_KEY, NODE_ROLE, "snapshot")
    assert node.read("sys/storage/raft/snapshot") is not None
    with pytest.raises(hx.Forbidden):
        node.secrets.kv.v2.read_secret_version(path="candlefish/x", raise_on_deleted_version=True)
    rotation = adopted.login(ROTATION_KEY, ROTATION_ROLE, "rotation")
    rotation.secrets.kv.v2.create_or_update_secret(
        path="candlefish/jwt", secret={"v": "example-not-a-secret"}
    )
    with pytest.raises(hx.Forbidden):
        rotation.secrets.kv.v2.create_or_update_secret(path="other/jwt", secret={"v": "example"})


def test_rotation_patches_catalog_metadata_but_never_replaces_it(adopted):
    """The rotation function records its runs in custom metadata with a merge PATCH (kv-v2.mdx "Patch
    metadata"): it holds `patch` on secret/metadata/candlefish/*, not `update`, and nothing elsewhere."""
    rotation = adopted.login(ROTATION_KEY, ROTATION_ROLE, "rotation")
    rotation.secrets.kv.v2.create_or_update_secret(
        path="candlefish/jwt", secret={"v": "example-not-a-secret"}
    )
    admin = adopted.admin()
    admin.secrets.kv.v2.update_metadata(path="candlefish/jwt", custom_metadata={"owner": "platform"})
    admin.secrets.kv.v2.create_or_update_secret(path="other/jwt", secret={"v": "example-not-a-secret"})

    def patch(path):
        return requests.patch(
            f"{adopted.target.url}/v1/secret/metadata/{path}",
            data=json.dumps({"custom_metadata": {"rotated_at": "2026-01-01T00:00:00Z"}}),
            headers={"X-Vault-Token": rotation.token, "Content-Type": "application/merge-patch+json"},
            timeout=5,
        )

    assert patch("candlefish/jwt").status_code == 204
    metadata = admin.secrets.kv.v2.read_secret_metadata(path="candlefish/jwt")["data"]
    assert metadata["custom_metadata"] == {"owner": "platform", "rotated_at": "2026-01-01T00:00:00Z"}
    assert patch("other/jwt").status_code == 403
    with pytest.raises(hx.Forbidden):  # a POST replaces the metadata: update, which rotation does not hold
        rotation.secrets.kv.v2.update_metadata(path="candlefish/jwt", custom_metadata={"owner": "x"})


def test_a_ci_secret_id_logs_in_once_and_lives_an_hour(adopted):
    admin = adopted.admin()
    role = admin.auth.approle.read_role("ci")["data"]
    assert (role["secret_id_num_uses"], role["secret_id_ttl"]) == (1, 3600)
    role_id = admin.auth.approle.read_role_id("ci")["data"]["role_id"]
    secret_id = admin.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    login = hvac.Client(url=adopted.target.url).auth.approle.login(role_id=role_id, secret_id=secret_id)
    assert login["auth"]["policies"] == ["default", "platform-team"]
    with pytest.raises(hx.InvalidRequest):
        hvac.Client(url=adopted.target.url).auth.approle.login(role_id=role_id, secret_id=secret_id)
    expiring = admin.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    looked_up = admin.write_data("auth/approle/role/ci/secret-id/lookup", data={"secret_id": expiring})[
        "data"
    ]
    created, expires = (
        datetime.fromisoformat(looked_up[key]) for key in ("creation_time", "expiration_time")
    )
    assert round((expires - created).total_seconds()) == 3600


# --- waits ---


def test_first_run_waits_for_auto_unseal(target, secret_arn):
    target.proxy.seal_after_init(6)
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None and outs["root_token_revoked"] is True
    sealed = [r for r in target.proxy.request_log if r.path == "sys/health" and r.fault == "sealed"]
    assert len(sealed) == 6


def test_the_shares_go_to_the_break_glass_secret_in_the_stacks_region_not_the_deployers_default(target, aws):
    # The deployer's environment defaults to us-east-1; this stack and its secret are in eu-west-1 only.
    kms = boto3.client("kms", region_name="eu-west-1")
    key = kms.create_key(Description="secrets key")["KeyMetadata"]["Arn"]
    sm = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = sm.create_secret(Name="candlefish/test/vault/break-glass-eu", KmsKeyId=key)["ARN"]
    outs = VaultBootstrapProvider().create(props(target, arn, region="eu-west-1")).outs
    assert outs is not None and outs["bootstrap"] == "initialised"
    current = sm.describe_secret(SecretId=arn)["VersionIdsToStages"][outs["break_glass_version_id"]]
    assert "AWSCURRENT" in current


def test_a_node_that_stays_sealed_is_a_clear_error(target, secret_arn):
    target.proxy.seal_after_init(10_000)
    with pytest.raises(BootstrapError, match=r"still sealed after 0.3 s: auto-unseal has not completed.*kms"):
        VaultBootstrapProvider().create(props(target, secret_arn, waits={**WAITS, "unseal_s": 0.3}))
    assert stored_material(secret_arn)["root_token"]  # the shares were stored before the wait


def test_peers_joined_but_unhealthy_is_a_clear_error(target, secret_arn):
    def one_unhealthy(answer: dict) -> dict:
        state = answer.get("data") or {}
        for server in (state.get("servers") or {}).values():
            server["healthy"] = False
        state["healthy"] = False
        return answer

    target.proxy.rewrite("sys/storage/raft/autopilot/state", one_unhealthy)
    node = target.cluster.nodes[0].node_id
    with pytest.raises(BootstrapError, match=rf"all 1 raft peers joined but autopilot .*unhealthy: {node}"):
        VaultBootstrapProvider().create(props(target, secret_arn, waits={**WAITS, "peers_s": 0.5}))


def peers_error(openbao_cluster_factory, *, extras_vote: bool) -> str:
    """wait_for_peers' error on a real one-node cluster (which reports failure tolerance 0) whose raft
    configuration the proxy lists with two more servers, voters or not."""
    cluster = openbao_cluster_factory(1)
    proxy = FaultProxy(cluster.addrs[0], ca_cert=cluster.ca_cert_path).start()

    def three_servers(answer: dict) -> dict:
        [server] = answer["data"]["config"]["servers"]
        others = [
            {**server, "node_id": f"node-extra-{n}", "leader": False, "voter": extras_vote} for n in (1, 2)
        ]
        answer["data"]["config"]["servers"] = [server, *others]
        return answer

    proxy.rewrite("sys/storage/raft/configuration", three_servers)
    try:
        client = hvac.Client(url=proxy.url, token=cluster.root_token)
        with pytest.raises(BootstrapError) as raised:
            vault_waits.wait_for_peers(client, proxy.url, 3, vault_waits.Waits(peers_s=0.3, poll_s=0.1))
    finally:
        proxy.stop()
    return str(raised.value)


def test_voters_autopilot_does_not_yet_count_as_failure_tolerance_are_not_ready(openbao_cluster_factory):
    # Three voters, all healthy, and autopilot still reports a failure tolerance of 0 (it lags the
    # promotion): not ready.
    assert peers_error(openbao_cluster_factory, extras_vote=True).startswith(
        "only 3 of 3 nodes are raft voters after 0.3 s (non-voters: none reported; autopilot's failure "
        "tolerance 0), so the cluster cannot yet lose a node"
    )


def test_joined_nodes_not_yet_voters_are_named_by_their_node_ids(openbao_cluster_factory):
    assert peers_error(openbao_cluster_factory, extras_vote=False).startswith(
        "only 1 of 3 nodes are raft voters after 0.3 s (non-voters: node-extra-1, node-extra-2; autopilot's "
        "failure tolerance 0)"
    )


def test_a_node_role_without_iam_lookups_is_a_clear_error_and_the_next_run_finishes(target, secret_arn):
    assert target.proxy.aws_auth is not None
    target.proxy.aws_auth.iam_lookups_allowed = False
    with pytest.raises(BootstrapError, match=r"Vault node role needs iam:GetRole .* on the bound principals"):
        VaultBootstrapProvider().create(props(target, secret_arn))
    target.proxy.aws_auth.iam_lookups_allowed = True
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None
    assert outs["bootstrap"] == "resumed" and outs["root_token_revoked"] is True


# --- drift, removal, adoption ---

DRIFT = [
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
        lambda vault: vault.delete("auth/aws/role/payments"),
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
]


def test_other_drift_is_reported_and_reconciled_by_the_provisioner(adopted):
    """Each kind of drift in turn on one cluster: refresh names it, update puts it back, the digest
    returns to the first run's."""
    provider = VaultBootstrapProvider()
    admin = adopted.admin()
    for break_it, drift, change in DRIFT:
        break_it(admin)
        refreshed = provider.read("cluster", adopted.state).outs
        assert refreshed is not None and refreshed["drift"] == drift, drift
        outs = provider.update("cluster", refreshed, adopted.news()).outs
        assert outs is not None and outs["changes"] == [change], drift
        again = provider.read("cluster", {**adopted.state, **outs}).outs
        assert again is not None and again["config_digest"] == adopted.state["config_digest"], drift


def test_a_disabled_auth_method_is_enabled_again_with_its_role(adopted):
    adopted.admin().sys.disable_auth_method("approle")  # takes the ci role with it
    provider = VaultBootstrapProvider()
    refreshed = provider.read("cluster", adopted.state).outs
    assert refreshed is not None
    outs = provider.update("cluster", refreshed, adopted.news()).outs
    assert outs is not None and outs["changes"] == ["enabled auth method approle/", "wrote AppRole role ci"]


def test_a_removed_application_loses_its_role_and_policy(adopted):
    news = adopted.news(
        app_roles=[],
        policies=dict(render_policies([], region=REGION, audit_file_path=str(adopted.target.audit_log))),
    )
    outs = VaultBootstrapProvider().update("cluster", adopted.state, news).outs
    assert outs is not None
    assert set(outs["changes"]) == {"deleted AWS auth role payments", "deleted policy app-payments-readonly"}
    assert adopted.target.proxy.aws_auth is not None and "payments" not in adopted.target.proxy.aws_auth.roles
    with pytest.raises(hx.InvalidPath):
        adopted.admin().sys.read_acl_policy("app-payments-readonly")


def test_an_admin_run_still_deletes_a_retired_application_role_with_the_provisioner_token(adopted):
    # The adopt token of a run that must rewrite a protected policy writes that policy alone: the
    # application role removed in the same run goes with the provisioner's own rights (Vault's audit log).
    adopted.admin().sys.create_or_update_acl_policy(
        name="break-glass", policy='path "sys/*" { capabilities = ["read"] }'
    )
    provider = VaultBootstrapProvider()
    refreshed = provider.read("cluster", adopted.state).outs
    assert refreshed is not None
    news = adopted.news(
        app_roles=[],
        policies=dict(render_policies([], region=REGION, audit_file_path=str(adopted.target.audit_log))),
        adopt_token=adopted.mint("admin"),
    )
    outs = provider.update("cluster", refreshed, news).outs
    assert outs is not None and "deleted AWS auth role payments" in outs["changes"]
    deletes = [
        entry["auth"]["policies"]
        for entry in map(json.loads, adopted.target.audit_log.read_text().splitlines())
        if entry["type"] == "request"
        and entry["request"]["path"] == "auth/aws/role/payments"
        and entry["request"]["operation"] == "delete"
    ]
    provisioner = adopted.admin().auth.token.lookup(adopted.state["provisioner_token"])["data"]["policies"]
    assert deletes == [provisioner] and "admin" not in provisioner


def test_a_recreated_resource_adopts_the_cluster_with_a_token_and_never_reinitialises(adopted):
    adopt = adopted.mint("admin")  # an administrator's token, not root
    outs = VaultBootstrapProvider().create(adopted.news(adopt_token=adopt)).outs
    assert outs is not None
    assert not [r for r in adopted.target.proxy.request_log if r.path == "sys/init" and r.method == "PUT"]
    assert outs["bootstrap"] == "adopted" and outs["root_token_revoked"] is False
    assert outs["break_glass_version_id"] == ""  # adopting stores no shares: no version to name
    assert outs["provisioner_token"] != adopted.state["provisioner_token"]
    assert adopted.target.client(outs["provisioner_token"]).auth.token.lookup_self()["data"]["orphan"]
    assert adopt not in json.dumps(outs) and outs["adopt_token_fingerprint"].startswith("sha256:")


def test_adopting_without_a_token_is_a_clear_error(adopted):
    with pytest.raises(
        BootstrapError, match=r"already initialised and this stack has no token.*vaultAdoptToken"
    ):
        VaultBootstrapProvider().create(adopted.news())
    assert not [r for r in adopted.target.proxy.request_log if r.path == "sys/init" and r.method == "PUT"]


def test_a_refused_provisioner_token_is_a_clear_error_and_an_adopt_token_recovers(adopted):
    adopted.admin().auth.token.revoke_accessor(adopted.state["provisioner_accessor"])
    with pytest.raises(
        BootstrapError, match=r"provisioner token in this stack's state was refused \(403.*vaultAdoptToken"
    ):
        VaultBootstrapProvider().update("cluster", adopted.state, adopted.news())
    news = adopted.news(adopt_token=adopted.mint("admin"))
    assert VaultBootstrapProvider().diff("cluster", adopted.state, news).changes is True
    outs = VaultBootstrapProvider().update("cluster", adopted.state, news).outs
    assert outs is not None
    assert adopted.target.client(outs["provisioner_token"]).auth.token.lookup_self()
    assert outs["provisioner_accessor"] != adopted.state["provisioner_accessor"]


def test_an_overdue_renewal_or_an_unknown_input_makes_a_diff(adopted):
    from pulumi.runtime import rpc

    provider = VaultBootstrapProvider()
    assert provider.diff("cluster", adopted.state, adopted.news()).changes is False
    overdue = {**adopted.state, "provisioner_renew_after": "2000-01-01T00:00:00+00:00"}
    assert provider.diff("cluster", overdue, adopted.news()).changes is True
    assert provider.diff("cluster", adopted.state, adopted.news(address=rpc.UNKNOWN)).changes is True


def test_a_state_from_before_the_adopt_token_fingerprint_makes_no_diff_without_an_adopt_token(adopted):
    # A stack upgraded from a version that did not record the fingerprint, with no vaultAdoptToken set:
    # nothing about the adopt token changed, so `pulumi preview` must show no update.
    older = {key: value for key, value in adopted.state.items() if key != "adopt_token_fingerprint"}
    assert VaultBootstrapProvider().diff("cluster", older, adopted.news()).changes is False


def test_vault_failing_the_provisioner_tokens_renewal_is_named_as_that_step(adopted):
    # Not a 403 (which falls back to the adopt token): Vault answering 503 while the stored token is renewed.
    adopted.target.proxy.fail_next(1, status=503, path_prefix="auth/token/renew-self")
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().update("cluster", adopted.state, adopted.news())
    assert str(failed.value).startswith(
        f"Vault at {adopted.state['address']} answered 503 (sealed, or no active node) while renewing the "
        "provisioner token;"
    )


def test_a_refused_read_of_the_live_configuration_blames_the_provisioner_token(adopted):
    adopted.admin().auth.token.revoke_accessor(adopted.state["provisioner_accessor"])
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().read("cluster", adopted.state)
    assert str(failed.value).startswith(
        "Vault refused the provisioner token (403 permission denied) while reading the live configuration; "
        "the provisioner policy may have been changed by hand"
    )


def test_vault_not_answering_a_read_in_time_is_reported_as_a_timeout(adopted, monkeypatch):
    monkeypatch.setattr(bootstrap_module, "TIMEOUT_S", 0.2)
    monkeypatch.setattr(bootstrap_module, "RETRY_TOTAL", 0)
    adopted.target.proxy.add_latency(1.0, count=1)
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().read("cluster", adopted.state)
    assert str(failed.value).startswith(
        f"Vault at {adopted.state['address']} did not answer within 0.2s while reading the live "
        "configuration;"
    )


def test_delete_removes_nothing_from_vault_and_says_so(adopted):
    VaultBootstrapProvider().delete("cluster", adopted.state)
    assert adopted.target.proxy.request_log == []
    assert adopted.state["on_delete"] == DELETE_NOTE and "removes nothing from Vault" in DELETE_NOTE
    assert adopted.provisioner().auth.token.lookup_self()


# --- policies as files ---


def test_the_admin_policy_says_it_is_root_equivalent():
    """tests/test_vault_policies_real.py shows admin minting any token and rewriting any policy on a real
    server; the policy's header and README must say so."""
    assert "ROOT-EQUIVALENT" in (POLICY_DIR / "admin.hcl").read_text()


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
