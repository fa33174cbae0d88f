"""The deployment preflight: whether Vault is reachable, answered in seconds, and how to reach it."""

import socket
import time

import pytest
import yaml

from tests.support.mocks import ROOT
from tools import preflight

pytestmark = pytest.mark.openbao


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_a_running_vault_is_reachable(openbao_dev, capsys):
    assert preflight.main(["--address", openbao_dev.addr]) == 0
    assert f"Vault answered sys/health at {openbao_dev.addr}" in capsys.readouterr().out


def test_an_unreachable_address_fails_fast_naming_the_ways_in(capsys):
    address = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    assert preflight.main(["--address", address, "--timeout", "2"]) == preflight.EXIT_UNREACHABLE
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: Vault is not reachable at {address} from here: TCP connection to 127.0.0.1:"
    )
    assert "candlefish-vpc" in err and "AWS-StartPortForwardingSession" in err
    assert "pulumi config set vaultDeployAddress https://localhost:8443" in err


def test_something_that_is_not_vault_is_not_taken_for_it(openbao_dev):
    verdict = preflight.check(openbao_dev.addr + "/not-vault")
    assert not verdict.reachable and "not Vault's health document" in verdict.detail


def test_a_malformed_address_is_named():
    assert preflight.check("vault.internal:8200").detail == "not an http(s) URL with a host name"


def test_without_an_address_it_says_what_the_first_deployment_needs(capsys, monkeypatch):
    monkeypatch.delenv("VAULT_DEPLOY_ADDRESS", raising=False)
    assert preflight.main([]) == 0
    assert "first deployment" in capsys.readouterr().out


def test_the_deploy_workflow_runs_the_preflight_before_pulumi_up():
    steps = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]["deploy"]["steps"]
    names = [step.get("run", "") + str(step.get("uses", "")) for step in steps]
    preflight_at = next(i for i, text in enumerate(names) if "tools.preflight" in text)
    up_at = next(i for i, text in enumerate(names) if text.startswith("pulumi/actions@"))
    assert preflight_at < up_at
    assert steps[preflight_at]["env"]["VAULT_DEPLOY_ADDRESS"] == "${{ vars.VAULT_DEPLOY_ADDRESS }}"
