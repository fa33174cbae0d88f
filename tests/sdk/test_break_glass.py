"""The SDK's break-glass API and CLI against the real broker (moto for AWS, OpenBao for Vault), reached
through a local function URL that checks SigV4 signatures as Lambda does."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from candlefish_secrets.break_glass import BreakGlass, BreakGlassRefused, BrokerClient, drill
from candlefish_secrets.cli import EXIT_ACCESS_DENIED, EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from candlefish_secrets.errors import AccessDenied, ConfigurationError

from lambdas.break_glass_broker.tokens import Tokens
from lambdas.rotation.vault import VaultClient
from tests.support.break_glass import JUSTIFICATION, BrokerStack, role_arn, session_of
from tests.support.break_glass_url import REGION, FunctionUrl

pytestmark = pytest.mark.openbao
# AWS profiles of the test: three people's role sessions, and Alice from a second principal of hers.
PEOPLE = {"alice": "alice", "bob": "bob", "carol": "carol", "erin": "erin", "alice-approving": "alice"}
SECRET = "example-not-a-secret"


def key_of(name: str) -> str:
    return "AKIA" + name.upper().replace("-", "")[:12].ljust(16, "X")


@pytest.fixture
def broker_url(aws: Any, broker_login: Callable[[], VaultClient]) -> Iterator[FunctionUrl]:
    stack = BrokerStack.create(tokens=Tokens(broker_login))
    identities = {key_of(name): (SECRET, role_arn(person, name)) for name, person in PEOPLE.items()}
    server = FunctionUrl(stack.broker, identities).start()
    try:
        yield server
    finally:
        server.stop()


def as_person(url: FunctionUrl, name: str, openbao_dev: Any, secret: str = SECRET) -> BreakGlass:
    session = boto3.session.Session(
        aws_access_key_id=key_of(name), aws_secret_access_key=secret, region_name=REGION
    )
    return BreakGlass(BrokerClient(url.url, session=session, region=REGION), vault_addr=openbao_dev.addr)


def test_request_approve_activate_revoke_through_the_sdk(broker_url: FunctionUrl, openbao_dev: Any) -> None:
    alice = as_person(broker_url, "alice", openbao_dev)
    made = alice.request(JUSTIFICATION, "30m")
    for approver in ("bob", "carol"):
        as_person(broker_url, approver, openbao_dev).approve(made["request_id"])
    grant = alice.activate(made["request_id"])
    assert grant.token not in repr(grant) and grant.policies == ("break-glass",)
    looked = alice.token_works(grant)
    assert looked is not None and looked["accessor"] == grant.accessor
    assert alice.status(made["request_id"])["status"] == "active"
    assert [item["request_id"] for item in alice.list()] == [made["request_id"]]
    as_person(broker_url, "bob", openbao_dev).revoke(made["request_id"], "fixed")
    assert alice.token_works(grant) is None


def test_the_broker_refusals_arrive_as_typed_errors(broker_url: FunctionUrl, openbao_dev: Any) -> None:
    alice = as_person(broker_url, "alice", openbao_dev)
    with pytest.raises(ConfigurationError, match="justification: at least 20 characters"):
        alice.request("fix", "30m")
    made = alice.request(JUSTIFICATION)
    with pytest.raises(AccessDenied, match="approver-is-requester"):
        as_person(broker_url, "alice-approving", openbao_dev).approve(made["request_id"])
    with pytest.raises(AccessDenied, match="approver-not-listed"):
        as_person(broker_url, "erin", openbao_dev).approve(made["request_id"])
    with pytest.raises(BreakGlassRefused, match="not-enough-approvals") as refused:
        alice.activate(made["request_id"])
    assert refused.value.code == "not-enough-approvals" and refused.value.exit_code == EXIT_FAILED
    forged = as_person(broker_url, "bob", openbao_dev, secret="example-not-the-right-key")
    with pytest.raises(AccessDenied, match="HTTP 403"):
        forged.approve(made["request_id"])


def test_a_wrapping_token_someone_else_unwrapped_is_reported(
    broker_url: FunctionUrl, openbao_dev: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = as_person(broker_url, "alice", openbao_dev)
    made = alice.request(JUSTIFICATION)
    for approver in ("bob", "carol"):
        as_person(broker_url, approver, openbao_dev).approve(made["request_id"])
    original = BreakGlass._unwrap

    def intercepted(self: BreakGlass, wrapping_token: str) -> dict[str, Any]:
        original(self, wrapping_token)  # an eavesdropper unwraps first
        return original(self, wrapping_token)

    monkeypatch.setattr(BreakGlass, "_unwrap", intercepted)
    with pytest.raises(AccessDenied, match="someone else did"):
        alice.activate(made["request_id"])


def test_a_drill_runs_end_to_end_and_times_access(broker_url: FunctionUrl, openbao_dev: Any) -> None:
    report = drill(
        as_person(broker_url, "alice", openbao_dev),
        [as_person(broker_url, name, openbao_dev) for name in ("bob", "carol")],
        "Quarterly break-glass drill, no incident",
    )
    assert report.passed, report.problems
    assert report.seconds_to_access > 0
    assert any("break-glass-drill" in step for step in report.steps)
    assert report.steps[-1] == "revoked: Vault refuses the token"


def test_a_drill_can_wait_for_the_automatic_revocation(
    aws: Any, broker_login: Callable[[], VaultClient], openbao_dev: Any
) -> None:
    stack = BrokerStack.create(tokens=Tokens(broker_login))
    identities = {key_of(name): (SECRET, role_arn(person, name)) for name, person in PEOPLE.items()}
    server = FunctionUrl(stack.broker, identities).start()
    stack.clock.now = int(time.time())
    polls: list[float] = []

    def scheduler_fires(seconds: float) -> None:
        """Each poll: time passes; at the end of the window the one-shot schedule invokes the broker."""
        polls.append(seconds)
        granted = [item for item in stack.broker.list(session_of("alice")) if item.get("ends_at")]
        if granted and len(polls) == 2:
            stack.clock.now = granted[0]["ends_at"]
            stack.broker.scheduled_revoke(granted[0]["request_id"])

    try:
        report = drill(
            as_person(server, "alice", openbao_dev),
            [as_person(server, name, openbao_dev) for name in ("bob", "carol")],
            "Quarterly break-glass drill, no incident",
            wait_for_expiry=True,
            sleep=scheduler_fires,
            poll_s=0,
        )
    finally:
        server.stop()
    assert report.passed, report.problems
    assert report.steps[-1] == "revoked on time by the schedule: Vault refuses the token"
    assert len(polls) == 2


@pytest.fixture
def cli_env(broker_url: FunctionUrl, openbao_dev: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "".join(
            f"[{name}]\naws_access_key_id = {key_of(name)}\naws_secret_access_key = {SECRET}\n"
            for name in PEOPLE
        )
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("CANDLEFISH_BREAK_GLASS_URL", broker_url.url)
    monkeypatch.setenv("VAULT_ADDR", openbao_dev.addr)
    return broker_url.url


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--json", "break-glass", *argv[:1], *argv[1:], "--region", REGION])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_end_to_end_with_a_token_file(
    cli_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    code, out, _ = cli(capsys, "request", "--justification", JUSTIFICATION, "--profile", "alice")
    assert code == EXIT_OK
    request_id = json.loads(out)["request_id"]
    assert cli(capsys, "approve", request_id, "--profile", "alice-approving")[0] == EXIT_ACCESS_DENIED
    for approver in ("bob", "carol"):
        assert cli(capsys, "approve", request_id, "--profile", approver)[0] == EXIT_OK
    token_file = tmp_path / "token"
    code, out, err = cli(
        capsys, "activate", request_id, "--profile", "alice", "--token-file", str(token_file)
    )
    assert code == EXIT_OK and "accessor" in err
    token = token_file.read_text().strip()
    assert token and token not in out + err
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    code, _, err = cli(
        capsys, "activate", request_id, "--profile", "alice", "--token-file", str(tmp_path / "t2")
    )
    assert code == EXIT_FAILED and "already-active" in err
    code, out, _ = cli(capsys, "status", request_id, "--profile", "bob")
    assert json.loads(out)["status"] == "active" and token not in out
    assert cli(capsys, "revoke", request_id, "--profile", "alice")[0] == EXIT_OK


def test_the_cli_drill_and_bad_usage(
    cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(
        capsys, "drill", "--profile", "alice", "--approver-profile", "bob", "--approver-profile", "carol"
    )
    report = json.loads(out)
    assert code == EXIT_OK and report["passed"] is True and report["seconds_to_access"] > 0
    assert cli(capsys, "approve", "not-an-id", "--profile", "bob")[0] == EXIT_USAGE
    monkeypatch.delenv("CANDLEFISH_BREAK_GLASS_URL")
    code, _, err = cli(capsys, "list", "--profile", "bob")
    assert code == EXIT_USAGE and "CANDLEFISH_BREAK_GLASS_URL" in err
