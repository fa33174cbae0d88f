"""tools.loadtest: arguments, the verdict, and real runs against a 3-node OpenBao cluster with a token of
the bootstrap's own `loadtest` policy."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import hvac
import pytest

from components.vault.policies import render_policies
from tests.support.openbao import OpenBaoCluster
from tools import loadgen, loadtest
from tools.loadgen import Figures
from tools.loadtest import Settings


def figures(**overrides) -> Figures:
    good = Figures(
        requests=5000, reads=4500, writes=500, seconds=2.0, throughput_per_s=2500.0, p50_ms=3.0,
        p95_ms=8.0, p99_ms=20.0, max_ms=40.0, error_count=0, errors={},
    )  # fmt: skip
    return dataclasses.replace(good, **overrides)


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"vault_addr": "vault.internal:8200"}, "--vault-addr"),
        ({"concurrency": 0}, "--concurrency"),
        ({"duration_s": 0}, "--duration"),
        ({"rate_per_s": -1}, "--rate"),
        ({"read_ratio": 1.5}, "--read-ratio"),
        ({"keys": 0}, "--keys"),
    ],
)
def test_each_bad_argument_is_named(change, argument):
    settings = Settings(**{"vault_addr": "https://vault.internal:8200", **change})
    problems = loadtest.validate_settings(settings)
    assert len(problems) == 1 and problems[0].startswith(argument), problems


def test_good_arguments_have_no_problem():
    assert loadtest.validate_settings(Settings(vault_addr="https://vault.internal:8200")) == []


def test_main_refuses_without_a_token_and_says_where_it_goes(monkeypatch, capsys):
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    assert loadtest.main(["--vault-addr", "https://vault.internal:8200"]) == loadtest.EXIT_USAGE
    assert "VAULT_TOKEN" in capsys.readouterr().err


def test_verdict_passes_when_both_targets_are_met():
    outcome, limited, reasons = loadtest.verdict(figures(), ceiling_per_s=10_000)
    assert (outcome, limited, reasons) == ("pass", False, [])


def test_verdict_fails_on_p99_at_the_target():
    outcome, _, reasons = loadtest.verdict(figures(p99_ms=100.0), ceiling_per_s=10_000)
    assert outcome == "fail" and "p99 100.0 ms is not under" in reasons[0]


def test_verdict_fails_on_errors_even_when_fast():
    outcome, _, reasons = loadtest.verdict(figures(error_count=3, errors={"http 503": 3}), 10_000)
    assert outcome == "fail" and "3 requests failed" in reasons[0]


def test_a_slow_generator_makes_a_missed_throughput_inconclusive():
    outcome, limited, reasons = loadtest.verdict(figures(throughput_per_s=900.0), ceiling_per_s=1000)
    assert outcome == "inconclusive" and limited
    assert any("the generator was the limit" in reason for reason in reasons)


def test_a_fast_generator_leaves_a_missed_throughput_a_failure():
    outcome, limited, _ = loadtest.verdict(figures(throughput_per_s=900.0), ceiling_per_s=5000)
    assert outcome == "fail" and not limited


def test_percentile_is_nearest_rank():
    samples = sorted(float(n) for n in range(1, 101))
    assert loadgen.percentile(samples, 0.99) == 99.0
    assert loadgen.percentile(samples, 0.50) == 50.0
    assert loadgen.percentile([], 0.99) == 0.0


def test_the_plan_repr_hides_the_token():
    plan = loadgen.Plan("http://127.0.0.1:1", "example-not-a-secret", "secret", "p", 1, 1, 1.0)
    assert "example-not-a-secret" not in repr(plan)


def test_the_generator_ceiling_is_measured_against_a_local_endpoint():
    ceiling = loadgen.measure_ceiling(concurrency=4, duration_s=0.5, read_ratio=1.0)
    assert ceiling.requests > 0 and ceiling.error_count == 0 and ceiling.throughput_per_s > 0


@pytest.fixture(scope="module")
def loadtest_token(openbao_cluster: OpenBaoCluster) -> str:
    """A token of the bootstrap's loadtest policy, as an administrator would issue it."""
    root = openbao_cluster.client(openbao_cluster.leader())
    if "secret/" not in root.sys.list_mounted_secrets_engines()["data"]:
        try:
            root.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        except hvac.exceptions.InvalidRequest as error:  # another test mounted it meanwhile
            assert "path is already in use" in str(error)
    text = render_policies([], region="us-east-1")["loadtest"]
    root.sys.create_or_update_acl_policy("loadtest", text)
    token: str = root.auth.token.create(policies=["loadtest"], ttl="10m", no_default_policy=True)["auth"][
        "client_token"
    ]
    return token


def _standby(cluster: OpenBaoCluster) -> str:
    leader = cluster.leader()
    return next(node.addr for node in cluster.nodes if node.addr != leader.addr)


@pytest.mark.openbao
def test_loadtest_policy_allows_only_its_canary_path(openbao_cluster, loadtest_token):
    client = openbao_cluster.client(openbao_cluster.leader(), token=loadtest_token)
    client.secrets.kv.v2.create_or_update_secret(path="canary/loadtest/probe", secret={"v": "x"})
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.create_or_update_secret(path="candlefish/payments", secret={"v": "x"})
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.list_secrets(path="canary/loadtest")
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.delete_metadata_and_all_versions(path="canary/loadtest/probe")


@pytest.mark.openbao
def test_a_run_against_the_cluster_reports_figures_and_the_server(openbao_cluster, loadtest_token):
    settings = Settings(
        vault_addr=openbao_cluster.leader().addr, concurrency=8, duration_s=1.5, read_ratio=0.8,
        keys=4, ceiling_s=0.5, ca_cert=openbao_cluster.ca_cert_path,
    )  # fmt: skip
    report = loadtest.run(settings, loadtest_token)
    assert report.server.startswith("OpenBao 2.7"), report.server
    assert report.vault["requests"] > 0 and report.vault["error_count"] == 0, report.vault
    assert report.vault["reads"] > 0 and report.vault["writes"] > 0
    assert 0 < report.vault["p50_ms"] <= report.vault["p99_ms"] <= report.vault["max_ms"]
    assert report.answered_by == {"active": 20, "standby": 0}
    assert report.generator_ceiling_per_s > 0 and report.verdict in {"pass", "fail", "inconclusive"}


@pytest.mark.openbao
def test_through_a_standby_the_report_says_a_standby_answered(openbao_cluster, loadtest_token):
    settings = Settings(
        vault_addr=_standby(openbao_cluster), concurrency=2, duration_s=0.5, read_ratio=1.0, keys=2,
        ceiling_s=0.2, ca_cert=openbao_cluster.ca_cert_path,
    )  # fmt: skip
    report = loadtest.run(settings, loadtest_token)
    assert report.answered_by == {"active": 0, "standby": 20}
    # disable_standby_reads: the standby forwards, so reads still succeed
    assert report.vault["error_count"] == 0 and report.vault["reads"] > 0


@pytest.mark.openbao
def test_direct_to_active_targets_the_leader_from_a_standby(openbao_cluster, loadtest_token):
    settings = Settings(
        vault_addr=_standby(openbao_cluster), concurrency=2, duration_s=0.5, keys=2, ceiling_s=0.2,
        direct_to_active=True, ca_cert=openbao_cluster.ca_cert_path,
    )  # fmt: skip
    report = loadtest.run(settings, loadtest_token)
    assert report.target == openbao_cluster.leader().addr
    assert report.answered_by == {"active": 20, "standby": 0}


@pytest.mark.openbao
def test_a_token_without_the_loadtest_policy_is_refused_with_the_fix(openbao_cluster, monkeypatch, capsys):
    root = openbao_cluster.client(openbao_cluster.leader())
    weak = root.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", weak)
    code = loadtest.main(
        ["--vault-addr", openbao_cluster.leader().addr, "--ca-cert", openbao_cluster.ca_cert_path,
         "--duration", "0.5"]
    )  # fmt: skip
    assert code == loadtest.EXIT_USAGE
    assert "loadtest policy" in capsys.readouterr().err


def test_the_generator_leaves_the_callers_event_loop_in_place():
    """asyncio.run would unset the thread's current loop when done, and Pulumi's runtime (in the same test
    process) asks for the current loop later; run_async must leave it as it found it."""
    seen: list[object] = []

    def caller() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            assert loadgen.run_async(asyncio.sleep(0, result="done")) == "done"
            seen.append(asyncio.get_event_loop() is loop)
        finally:
            loop.close()

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(10)
    assert seen == [True]
