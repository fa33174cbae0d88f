"""The break-glass broker against moto: the procedure, each refusal, races, and failures half-way.

Vault is `FlakyTokens` here (it records mints and revocations and fails on cue); the token role, wrapping,
TTL and revocation by accessor are exercised against a real OpenBao server in test_break_glass_vault.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambdas.break_glass_broker import (
    ACTIVE,
    CANCELLED,
    DENIED,
    EXPIRED,
    FAILED,
    PENDING,
    REVOKED,
    SWEPT_METRIC,
    handler,
)
from lambdas.break_glass_broker.broker import SCHEDULE_SLACK_S, STALE_ACTIVATION_S, schedule_name
from lambdas.break_glass_broker.handler import handle_url
from lambdas.break_glass_broker.identity import Refused, caller_from_arn
from tests.support.break_glass import (
    ACCOUNT,
    JUSTIFICATION,
    PEOPLE,
    ROLE_PREFIX,
    BrokerStack,
    approver,
    requester,
    role_arn,
    session_of,
)


@pytest.fixture
def stack(aws: Any) -> BrokerStack:
    return BrokerStack.create()


def refusal(action: Callable[[], Any]) -> Refused:
    with pytest.raises(Refused) as caught:
        action()
    return caught.value


def test_happy_path_records_pages_and_schedules(stack: BrokerStack) -> None:
    broker = stack.broker
    made = broker.request(requester("alice"), JUSTIFICATION, "30m")
    rid = made["request_id"]
    assert made["status"] == PENDING and made["duration_s"] == 1800
    broker.approve(approver("bob"), rid)
    broker.approve(approver("carol"), rid)
    granted = broker.activate(requester("alice"), rid)

    assert granted["status"] == ACTIVE
    assert granted["wrapping_token"] == "wrapping-1"
    assert granted["accessor"] == "accessor-1-break-glass"
    assert granted["ends_at"] == stack.clock.now + 1800
    assert granted["approvers"] == ["bob", "carol"]
    assert [event["event"] for event in stack.logged(rid)] == [
        "break-glass.requested",
        "break-glass.approved",
        "break-glass.approved",
        "break-glass.activated",
    ]
    activated = stack.logged(rid)[-1]
    assert activated["actor_arn"] == role_arn("alice")
    assert "wrapping-1" not in json.dumps(stack.logged(rid))
    [page] = stack.pages()
    assert "alice" in page and "bob, carol" in page and JUSTIFICATION in page
    assert "accessor-1-break-glass" in page and "wrapping-1" not in page
    [schedule] = stack.schedules()
    assert schedule["Name"] == schedule_name(rid)
    assert schedule["ScheduleExpression"].startswith("at(") and schedule["ActionAfterCompletion"] == "DELETE"
    assert json.loads(schedule["Target"]["Input"]) == {"action": "scheduled-revoke", "request_id": rid}
    assert broker.status(requester("alice"), rid)["events"] == [
        json.dumps(event, sort_keys=True) for event in stack.logged(rid)
    ]


def test_drill_requests_mint_from_the_drill_token_role(stack: BrokerStack) -> None:
    rid = stack.approved(drill=True)
    granted = stack.broker.activate(requester("alice"), rid)
    assert granted["accessor"].endswith("break-glass-drill") and granted["drill"] is True


@pytest.mark.parametrize(
    ("justification", "duration", "code"),
    [
        ("fix it", "30m", "justification-too-short"),
        (JUSTIFICATION, "5h", "bad-duration"),
        (JUSTIFICATION, "1m", "bad-duration"),
        (JUSTIFICATION, "soon", "bad-duration"),
    ],
)
def test_bad_requests_are_refused_with_their_reason(
    stack: BrokerStack, justification: str, duration: str, code: str
) -> None:
    refused = refusal(lambda: stack.broker.request(requester("alice"), justification, duration))
    assert (refused.status, refused.code) == (400, code)
    assert "justification" in str(refused) or "duration" in str(refused)


def test_the_requester_never_counts(stack: BrokerStack) -> None:
    rid = stack.broker.request(requester("alice"), JUSTIFICATION, "30m")["request_id"]
    refused = refusal(lambda: stack.broker.approve(approver("alice"), rid))
    assert refused.code == "approver-is-requester"
    assert stack.broker.status(requester("alice"), rid).get("approvers") is None


def test_one_person_behind_two_identities_counts_once(stack: BrokerStack) -> None:
    rid = stack.broker.request(requester("alice"), JUSTIFICATION, "30m")["request_id"]
    stack.broker.approve(session_of("bob", "laptop"), rid)
    # Bob again, from another session (another principal of his, another session name): still Bob.
    refused = refusal(lambda: stack.broker.approve(session_of("bob", "carol"), rid))
    assert refused.code == "already-approved"
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "not-enough-approvals"


def test_only_listed_people_may_act_and_only_as_listed(stack: BrokerStack) -> None:
    rid = stack.broker.request(requester("alice"), JUSTIFICATION, "30m")["request_id"]
    assert refusal(lambda: stack.broker.approve(session_of("erin"), rid)).code == "approver-not-listed"
    refused = refusal(lambda: stack.broker.request(session_of("bob"), JUSTIFICATION, "30m"))
    assert refused.code == "requester-not-listed"

    def caller(arn: str) -> Refused:
        return refusal(
            lambda: caller_from_arn(arn, account_id=ACCOUNT, role_prefix=ROLE_PREFIX, people=PEOPLE)
        )

    for arn in (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/SomeAdminRole/bob",  # not a break-glass role
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_PREFIX}mallory/mallory",  # nobody listed
        f"arn:aws:sts::210987654321:assumed-role/{ROLE_PREFIX}bob/bob",  # another account
        f"arn:aws:iam::{ACCOUNT}:user/bob",  # not a role session
    ):
        assert (caller(arn).status, caller(arn).code) == (403, "not-a-break-glass-role"), arn


def test_expired_requests_take_no_approval_and_no_activation(stack: BrokerStack) -> None:
    rid = stack.approved(by=("bob",))
    stack.clock.now += stack.settings.approval_window_s
    assert refusal(lambda: stack.broker.approve(approver("carol"), rid)).code == "request-expired"
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "request-expired"
    assert stack.tokens.minted == []


def test_denied_and_cancelled_requests_are_final(stack: BrokerStack) -> None:
    rid = stack.approved(by=("bob",))
    assert refusal(lambda: stack.broker.deny(approver("alice"), rid, "mine")).code == "approver-is-requester"
    assert stack.broker.deny(approver("dave"), rid, "use the runbook instead")["status"] == DENIED
    assert refusal(lambda: stack.broker.approve(approver("carol"), rid)).code == "request-denied"
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "request-denied"
    other = stack.broker.request(requester("alice"), JUSTIFICATION, "30m")["request_id"]
    assert refusal(lambda: stack.broker.cancel(requester("erin"), other)).code == "not-the-requester"
    assert stack.broker.cancel(requester("alice"), other)["status"] == CANCELLED


def test_only_the_requester_activates_and_only_once(stack: BrokerStack) -> None:
    rid = stack.approved()
    assert refusal(lambda: stack.broker.activate(requester("erin"), rid)).code == "not-the-requester"
    stack.broker.activate(requester("alice"), rid)
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "already-active"
    assert len(stack.tokens.minted) == 1


# Races. Each state change is one conditional write, and DynamoDB applies a conditional write atomically, so
# two racing calls reach the table in some order: the tests drive each order (moto's server does not lock
# between a condition's check and its write, so firing threads at it would test moto, not the broker).


def test_a_second_activation_during_the_first_is_refused(stack: BrokerStack) -> None:
    rid = stack.approved()
    seen: list[Refused] = []
    original = stack.tokens.mint

    def mint_while_another_activation_arrives(*args: Any, **kwargs: Any) -> Any:
        seen.append(refusal(lambda: stack.broker.activate(requester("alice"), rid)))
        return original(*args, **kwargs)

    stack.tokens.mint = mint_while_another_activation_arrives
    assert stack.broker.activate(requester("alice"), rid)["status"] == ACTIVE
    assert [refused.code for refused in seen] == ["already-active"]
    assert len(stack.tokens.minted) == 1


@pytest.mark.parametrize("first", ["approve", "deny"])
def test_an_approval_and_a_denial_in_either_order_leave_the_request_denied(
    stack: BrokerStack, first: str
) -> None:
    rid = stack.approved(by=("bob",))
    approve = lambda: stack.broker.approve(approver("carol"), rid)  # noqa: E731
    deny = lambda: stack.broker.deny(approver("dave"), rid)  # noqa: E731
    if first == "approve":
        approve()
        deny()
    else:
        deny()
        assert refusal(approve).code == "request-denied"
    assert stack.broker.status(requester("alice"), rid)["status"] == DENIED
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "request-denied"


def test_an_approval_after_the_sweeper_expired_the_request_is_refused(stack: BrokerStack) -> None:
    rid = stack.approved(by=("bob",))
    stack.clock.now += stack.settings.approval_window_s
    stack.broker.sweep()
    stack.clock.now -= 1  # even with a clock that lags the sweeper's
    assert refusal(lambda: stack.broker.approve(approver("carol"), rid)).code == "request-expired"


def test_an_approval_racing_expiry_is_refused_at_the_deadline(stack: BrokerStack) -> None:
    rid = stack.approved(by=("bob",))
    stack.clock.now = stack.broker.status(requester("alice"), rid)["approval_deadline"]
    assert refusal(lambda: stack.broker.approve(approver("carol"), rid)).code == "request-expired"
    stack.broker.sweep()
    view = stack.broker.status(requester("alice"), rid)
    assert view["status"] == EXPIRED and view["approvers"] == ["bob"]


def test_revocation_by_requester_or_approver_revokes_in_vault_first(stack: BrokerStack) -> None:
    rid = stack.approved()
    accessor = stack.broker.activate(requester("alice"), rid)["accessor"]
    assert refusal(lambda: stack.broker.revoke(requester("erin"), rid)).code == "not-allowed"
    ended = stack.broker.revoke(approver("dave"), rid, "incident closed")
    assert ended["status"] == REVOKED and stack.tokens.revoked == [accessor]
    assert stack.schedules() == []
    assert stack.logged(rid)[-1]["event"] == "break-glass.revoked"
    assert refusal(lambda: stack.broker.revoke(requester("alice"), rid)).code == "request-revoked"


def test_a_failed_revoke_leaves_the_grant_active_and_recorded(stack: BrokerStack) -> None:
    rid = stack.approved()
    stack.broker.activate(requester("alice"), rid)
    stack.tokens.fail_revoke = 1
    assert refusal(lambda: stack.broker.revoke(requester("alice"), rid)).code == "vault-refused"
    assert stack.broker.status(requester("alice"), rid)["status"] == ACTIVE
    assert stack.broker.revoke(requester("alice"), rid)["status"] == REVOKED
    assert stack.tokens.live() == set()


def test_a_mint_failure_puts_the_request_back(stack: BrokerStack) -> None:
    rid = stack.approved()
    stack.tokens.fail_mint = True
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "vault-refused"
    view = stack.broker.status(requester("alice"), rid)
    assert view["status"] == PENDING and "injected" in view["failure"]
    stack.tokens.fail_mint = False
    assert stack.broker.activate(requester("alice"), rid)["status"] == ACTIVE


def test_a_token_that_cannot_be_recorded_is_revoked_again(stack: BrokerStack) -> None:
    rid = stack.approved()
    stack.clients["logs"].delete_log_group(logGroupName=stack.settings.log_group)
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "activation-undone"
    assert stack.tokens.minted and stack.tokens.live() == set()
    assert stack.broker.status(requester("alice"), rid)["status"] == PENDING
    assert stack.pages() == []


def test_when_undoing_fails_too_the_sweeper_finishes_the_revocation(stack: BrokerStack) -> None:
    rid = stack.approved()
    stack.clients["sns"].delete_topic(TopicArn=stack.settings.topic_arn)
    stack.tokens.fail_revoke = 1
    assert refusal(lambda: stack.broker.activate(requester("alice"), rid)).code == "activation-undone"
    view = stack.broker.status(requester("alice"), rid)
    assert view["status"] == FAILED and view["revoke_pending"] is True
    assert stack.tokens.live() == {view["accessor"]}
    stack.clients["sns"].create_topic(Name="candlefish-test-pages")
    assert stack.broker.sweep()["retried"] == 1
    assert stack.tokens.live() == set()
    assert stack.broker.status(requester("alice"), rid)["revoke_pending"] is False


def test_the_one_shot_schedule_revokes_at_the_end_of_the_window(stack: BrokerStack) -> None:
    rid = stack.approved()
    granted = stack.broker.activate(requester("alice"), rid)
    stack.clock.now = granted["ends_at"] - SCHEDULE_SLACK_S - 1
    assert stack.broker.scheduled_revoke(rid)["revoked"] is False
    assert stack.tokens.live() == {granted["accessor"]}
    stack.clock.now = granted["ends_at"]
    assert stack.broker.scheduled_revoke(rid) == {"request_id": rid, "revoked": True, "status": EXPIRED}
    assert stack.tokens.live() == set()
    assert stack.broker.scheduled_revoke(rid)["revoked"] is False  # a retried schedule does nothing


def test_the_sweeper_revokes_overdue_grants_and_alarms(aws: Any) -> None:
    stack = BrokerStack.create(approval_window_s=900)
    overdue = stack.approved()
    stack.broker.activate(requester("alice"), overdue)  # ends at +1800
    stale = stack.broker.request(requester("gina"), JUSTIFICATION, "30m")["request_id"]  # deadline +900
    stack.clock.now += 1000
    current = stack.approved(who="frank")
    stack.broker.activate(requester("frank"), current)  # ends at +2800
    stack.pages()  # the activation pages
    stack.clock.now += 1000
    counts = stack.broker.sweep()
    assert counts["revoked"] == 1 and counts["expired"] == 1
    assert stack.broker.status(requester("alice"), overdue)["status"] == EXPIRED
    assert stack.broker.status(requester("frank"), current)["status"] == ACTIVE
    assert stack.broker.status(requester("gina"), stale)["status"] == EXPIRED
    assert any("sweeper had to revoke" in page for page in stack.pages())
    metrics = stack.clients["cloudwatch"].list_metrics(Namespace="Candlefish/BreakGlass")["Metrics"]
    assert [metric["MetricName"] for metric in metrics] == [SWEPT_METRIC]


def test_the_sweeper_closes_an_activation_the_broker_abandoned(stack: BrokerStack) -> None:
    rid = stack.approved()
    stack.broker.requests.begin_activation(rid, "alice", "f" * 32, stack.clock.now, 2)  # then the broker died
    stack.clock.now += STALE_ACTIVATION_S
    assert stack.broker.sweep()["failed"] == 1
    assert stack.broker.status(requester("alice"), rid)["status"] == FAILED


def url_event(arn: str | None, method: str, path: str, body: Any = None) -> dict[str, Any]:
    context: dict[str, Any] = {"http": {"method": method}}
    if arn is not None:
        context["authorizer"] = {"iam": {"userArn": arn, "accountId": ACCOUNT}}
    return {"requestContext": context, "rawPath": path, "body": json.dumps(body) if body is not None else ""}


def test_the_function_url_takes_the_caller_from_aws_not_the_body(stack: BrokerStack) -> None:
    alice = role_arn("alice")
    answer = handle_url(
        stack.broker,
        url_event(alice, "POST", "/requests", {"justification": JUSTIFICATION, "requester": "mallory"}),
    )
    made = json.loads(answer["body"])
    assert answer["statusCode"] == 200 and made["requester"] == "alice"
    unsigned = handle_url(
        stack.broker, url_event(None, "POST", "/requests", {"justification": JUSTIFICATION})
    )
    assert unsigned["statusCode"] == 401
    bad = handle_url(stack.broker, url_event(alice, "POST", "/requests", None) | {"body": "[1"})
    assert json.loads(bad["body"])["error"] == "bad-body"
    nowhere = handle_url(stack.broker, url_event(alice, "POST", "/admin"))
    assert nowhere["statusCode"] == 404
    listed = json.loads(handle_url(stack.broker, url_event(alice, "GET", "/requests"))["body"])
    assert [item["request_id"] for item in listed] == [made["request_id"]]


def test_every_answer_is_json(stack: BrokerStack) -> None:
    rid = stack.approved()
    views = [stack.broker.status(requester("alice"), rid), stack.broker.activate(requester("alice"), rid)]
    assert json.loads(json.dumps(views))[1]["approvals"][0]["at"] == stack.clock.now


def test_the_lambda_entry_point_reads_its_environment_and_routes(
    stack: BrokerStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = stack.settings
    environment = {
        "TABLE_NAME": settings.table,
        "EVENT_LOG_GROUP": settings.log_group,
        "PAGE_TOPIC_ARN": settings.topic_arn,
        "ACCOUNT_ID": ACCOUNT,
        "ROLE_PREFIX": ROLE_PREFIX,
        "PEOPLE": json.dumps({person: sorted(may) for person, may in PEOPLE.items()}),
        "VAULT_ADDR": "https://vault.example.internal:8200",
        "SCHEDULE_GROUP": settings.scheduler_group,
        "SCHEDULER_ROLE_ARN": settings.scheduler_role_arn,
        "FUNCTION_ARN": settings.function_arn,
        "AWS_REGION": "us-east-1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert handler.lambda_handler({"action": "sweep"}, None) == {
        "revoked": 0,
        "expired": 0,
        "failed": 0,
        "retried": 0,
    }
    made = handler.lambda_handler(
        url_event(role_arn("erin"), "POST", "/requests", {"justification": JUSTIFICATION}), None
    )
    assert made["statusCode"] == 200 and json.loads(made["body"])["requester"] == "erin"
    with pytest.raises(ValueError, match="unknown invocation"):
        handler.lambda_handler({"action": "grant-me-everything"}, None)
