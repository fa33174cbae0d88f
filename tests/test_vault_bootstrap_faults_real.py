# ruff: noqa: F811  (pytest fixtures imported from tests/test_vault_bootstrap_real.py are parameters here)
"""The bootstrap provider's failure modes against a fresh one-node OpenBao cluster, faults from the proxy.

Each test gets its own uninitialised cluster (`target` from tests/test_vault_bootstrap_real.py) because
the bootstrap initialises it. What a real server cannot be made to do here (peers that stay unhealthy,
IAM lookups refused, auto-unseal that never completes) stays in tests/test_vault_bootstrap.py.
"""

import time

import boto3
import hvac
import hvac.exceptions as hx
import pytest
from botocore.exceptions import ClientError

from providers import break_glass
from providers import vault_bootstrap as bootstrap_module
from providers.common import BootstrapError
from providers.vault_bootstrap import VaultBootstrapProvider
from tests.support.provider_host import call_in_provider_host
from tests.test_vault_bootstrap_real import (  # noqa: F401  (fixtures)
    WAITS,
    bootstrapped,
    fast_retries,
    props,
    secret_arn,
    stored_material,
    target,
    target_factory,
)

pytestmark = [pytest.mark.openbao, pytest.mark.slow]


def initialised(target) -> bool:
    return bool(hvac.Client(url=target.url).sys.read_init_status()["initialized"])


def sent(target, path, method=None):
    return [r for r in target.proxy.request_log if r.path == path and (method is None or r.method == method)]


def provisioner_accessors(target, root_token):
    """Accessors of the live tokens with exactly the provisioner policy (asked with the stored root token)."""
    root = target.client(root_token)
    found = []
    for accessor in root.auth.token.list_accessors()["data"]["keys"]:
        if root.auth.token.lookup_accessor(accessor)["data"]["policies"] == ["provisioner"]:
            found.append(accessor)
    return found


def test_sealing_during_configuration_is_a_clear_error(bootstrapped, monkeypatch):
    target, given, outs = bootstrapped
    monkeypatch.setattr(bootstrap_module, "RETRY_TOTAL", 0)
    target.proxy.fail_next(1, status=503, path_prefix="sys/policies/acl/")
    with pytest.raises(BootstrapError, match=r"answered 503 \(sealed, or no active node\) while configuring"):
        VaultBootstrapProvider().update("cluster", {**given, **outs}, given)


def test_an_unreachable_vault_times_out_with_an_instruction(target, secret_arn):
    dead = props(target, secret_arn, address="http://127.0.0.1:9", waits={**WAITS, "ready_s": 0.3})
    with pytest.raises(
        BootstrapError,
        match=r"did not answer within 0.3 s \(last: connection failed.*security groups allow 8200",
    ):
        VaultBootstrapProvider().create(dead)


def test_a_slow_vault_times_out_with_an_instruction(target, secret_arn, monkeypatch):
    monkeypatch.setattr(bootstrap_module, "TIMEOUT_S", 0.1)
    target.proxy.add_latency(0.5, path_prefix="sys/health")
    with pytest.raises(
        BootstrapError, match=r"did not answer within 0.5 s \(last: no answer before the request timed out\)"
    ):
        VaultBootstrapProvider().create(props(target, secret_arn, waits={**WAITS, "ready_s": 0.5}))
    assert not initialised(target)


def test_first_run_waits_for_a_node_to_answer(target, secret_arn):
    target.proxy.fail_next(5, status=502, path_prefix="sys/health")  # no healthy target behind the LB yet
    VaultBootstrapProvider().create(props(target, secret_arn))
    assert [r.status for r in sent(target, "sys/health")][:6] == [502] * 5 + [200]


def test_a_half_joined_cluster_is_a_clear_error_and_the_next_run_resumes(target, secret_arn):
    expected = (
        r"half-joined cluster: 1 of 3 raft peers after 0.4 s; check the nodes' retry_join .*security group "
        r"rule for 8201 .*instance health"
    )
    with pytest.raises(BootstrapError, match=expected):
        VaultBootstrapProvider().create(
            props(target, secret_arn, cluster_size=3, waits={**WAITS, "peers_s": 0.4})
        )
    # The failed create left no state; the stored root token lets the next run finish, without re-init.
    target.proxy.clear()
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None
    assert not sent(target, "sys/init", "PUT")
    assert outs["bootstrap"] == "resumed" and outs["root_token_revoked"] is True
    with pytest.raises(hx.Forbidden):
        target.client(stored_material(secret_arn)["root_token"]).auth.token.lookup_self()


def test_a_failed_root_revocation_takes_the_new_provisioner_token_back_and_the_next_run_finishes(
    target, secret_arn
):
    """The provisioner token is issued just before the root token is revoked; if that revocation fails the
    create fails, no state keeps the new token, and it must not live on unknown to anyone."""
    target.proxy.fail_next(1, status=503, path_prefix="auth/token/revoke-self")
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().create(props(target, secret_arn))
    message = str(failed.value)
    assert "while revoking the root token" in message
    assert "provisioner token this run issued was revoked again" in message
    # The root token stays in the break-glass secret, so the re-run below can finish the bootstrap with it.
    assert message.endswith("the next run resumes with the root token the bootstrap stored")
    root_token = stored_material(secret_arn)["root_token"]
    assert provisioner_accessors(target, root_token) == []
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None
    assert outs["bootstrap"] == "resumed" and outs["root_token_revoked"] is True
    provisioner = target.client(outs["provisioner_token"]).auth.token.lookup_self()["data"]
    assert provisioner["accessor"] == outs["provisioner_accessor"]


def test_a_provisioner_token_that_cannot_be_taken_back_is_named_by_its_accessor(target, secret_arn):
    target.proxy.fail_next(50, status=503, path_prefix="auth/token/revoke")
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().create(props(target, secret_arn))
    root_token = stored_material(secret_arn)["root_token"]
    (accessor,) = provisioner_accessors(target, root_token)
    assert f"vault token revoke -accessor {accessor}" in str(failed.value)
    token_id = target.client(root_token).auth.token.lookup_accessor(accessor)["data"]["id"]
    assert token_id == "" or token_id not in str(failed.value)


def test_a_missing_break_glass_secret_stops_before_init(target, aws):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/test/vault/break-glass-AbCdEf"
    with pytest.raises(
        BootstrapError, match=r"break-glass secret .* does not exist.*before Vault is initialised"
    ):
        VaultBootstrapProvider().create(props(target, missing))
    assert not initialised(target) and not sent(target, "sys/init", "PUT")


def test_a_break_glass_secret_scheduled_for_deletion_stops_before_init(target, secret_arn):
    boto3.client("secretsmanager").delete_secret(SecretId=secret_arn, RecoveryWindowInDays=7)
    with pytest.raises(BootstrapError, match=r"scheduled for deletion.*aws secretsmanager restore-secret"):
        VaultBootstrapProvider().create(props(target, secret_arn))
    assert not initialised(target)
    boto3.client("secretsmanager").restore_secret(SecretId=secret_arn)
    outs = VaultBootstrapProvider().create(props(target, secret_arn)).outs
    assert outs is not None and outs["root_token_revoked"]


class FailingStore:
    """Secrets Manager whose value writes fail once Vault is initialised (the marker write passes)."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def put_secret_value(self, **kwargs):
        if "VersionStages" in kwargs:
            return self.real.put_secret_value(**kwargs)
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "PutSecretValue")


def test_a_failed_store_after_init_says_how_to_recover_and_so_does_the_next_run(
    target, secret_arn, monkeypatch
):
    real_client = break_glass.client
    monkeypatch.setattr(break_glass, "client", lambda region: FailingStore(real_client(region)))
    with pytest.raises(BootstrapError) as failed:
        VaultBootstrapProvider().create(props(target, secret_arn))
    message = str(failed.value)
    assert "was initialised, but its recovery shares and root token could not be stored" in message
    assert "kept throttling" in message and "Nothing has been written to Vault yet" in message
    assert "wipe the cluster's raft data" in message
    assert [r.path for r in target.proxy.request_log if r.method not in {"GET", "HEAD"}] == ["sys/init"]
    monkeypatch.setattr(break_glass, "client", real_client)
    with pytest.raises(BootstrapError, match=r"still marks an unfinished init.*holds no data yet: wipe"):
        VaultBootstrapProvider().create(props(target, secret_arn))


def test_a_lost_init_answer_is_never_retried_and_says_what_to_check(target, secret_arn):
    target.proxy.drop_next(1, path_prefix="sys/init")
    with pytest.raises(
        BootstrapError, match=r"answer to sys/init .* was lost.*`vault status`.*Initialized false"
    ):
        VaultBootstrapProvider().create(props(target, secret_arn))
    assert len(sent(target, "sys/init", "PUT")) == 1


def test_an_init_refused_by_vault_clears_the_pending_marker(target, secret_arn):
    target.proxy.fail_next(1, status=400, path_prefix="sys/init")
    with pytest.raises(BootstrapError, match=r"refused sys/init.*nothing was initialised or stored"):
        VaultBootstrapProvider().create(props(target, secret_arn))
    assert not break_glass.init_pending(boto3.client("secretsmanager"), secret_arn)
    assert not initialised(target)


def test_invalid_inputs_are_reported_together_before_anything_happens(target, secret_arn):
    bad = props(
        target,
        secret_arn,
        recovery_pgp_keys=["ZXhhbXBsZQ=="],
        ci_approle={"token_policies": ["no-such-policy"]},
        autopilot={"min_quorum": 2},
    )
    with pytest.raises(BootstrapError) as invalid:
        VaultBootstrapProvider().create(bad)
    message = str(invalid.value)
    assert "recovery_pgp_keys: 1 keys for 5 shares" in message
    assert "AppRole role ci: token policy 'no-such-policy' is not among the policies written" in message
    assert "min_quorum must be at least 3" in message
    assert target.proxy.request_log == []


def test_the_provider_survives_pulumis_serialisation_in_a_fresh_interpreter(target, secret_arn):
    done = call_in_provider_host(VaultBootstrapProvider(), "create", props(target, secret_arn))
    assert done["outs"]["root_token_revoked"] is True
    provisioner = hvac.Client(url=target.url, token=done["outs"]["provisioner_token"])
    assert provisioner.auth.token.lookup_self()["data"]["policies"] == ["provisioner"]


def test_a_cluster_sealed_between_runs_is_reported_as_sealed_promptly(bootstrapped):
    """The proxy answers sys/health as a sealed node does (the `sealedcode` the bootstrap asks for), so
    the bootstrap sees a sealed node at once and waits only `unseal_s`, not `ready_s`, before saying so."""

    target, given, outs = bootstrapped
    target.proxy.log.clear()
    target.proxy.sealed = True
    began = time.monotonic()
    with pytest.raises(
        BootstrapError,
        match=r"is still sealed after 0.5 s: auto-unseal has not completed.*re-run `pulumi up` \(init is not "
        r"repeated\)",
    ):
        VaultBootstrapProvider().update(
            "cluster", {**given, **outs}, {**given, "waits": {**WAITS, "ready_s": 30, "unseal_s": 0.5}}
        )
    assert time.monotonic() - began < 10
    assert not sent(target, "sys/init", "PUT")
