"""The break-glass broker wired to moto (DynamoDB, CloudWatch Logs, SNS, Scheduler, CloudWatch) for tests.

`BrokerStack.create()` makes the table (with its status index), the event log group, the pages topic with
an SQS queue subscribed to read the pages back, and the schedule group, then builds a `Broker` whose Vault
side is either a real token source (`tokens=`) or `FlakyTokens`, a stand-in for faults a real server
cannot be made to produce on cue (a mint that fails, a revoke that fails once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import hvac
import pytest

from components.vault.policies import render_policies
from lambdas.break_glass_broker.broker import Broker
from lambdas.break_glass_broker.identity import Caller, caller_from_arn
from lambdas.break_glass_broker.record import Recorder
from lambdas.break_glass_broker.settings import Settings
from lambdas.break_glass_broker.store import STATUS_INDEX, Requests
from lambdas.break_glass_broker.tokens import TokenError, Wrapped
from lambdas.rotation.vault import VaultClient
from providers import vault_break_glass

ACCOUNT = "123456789012"
ROLE_PREFIX = "candlefish-test-bg-"
BOTH = frozenset({"requester", "approver"})
PEOPLE = {
    "alice": BOTH,
    "bob": frozenset({"approver"}),
    "carol": frozenset({"approver"}),
    "dave": frozenset({"approver"}),
    "erin": frozenset({"requester"}),
    "frank": BOTH,
    "gina": frozenset({"requester"}),
}
START = 1_900_000_000
MAX_TTL_S = 3600


def role_arn(person: str, session: str = "cli") -> str:
    """The ARN a session of `person`'s own break-glass role presents."""
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_PREFIX}{person}/{session}"


def session_of(person: str, session: str = "cli") -> Caller:
    return caller_from_arn(
        role_arn(person, session), account_id=ACCOUNT, role_prefix=ROLE_PREFIX, people=PEOPLE
    )


# Readability at call sites: the same person's session, whichever part they play.
requester = approver = session_of


@dataclass
class FlakyTokens:
    """Records mints and revocations; `fail_mint` / `fail_revoke` make the next calls fail."""

    minted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    fail_mint: bool = False
    fail_revoke: int = 0

    def mint(
        self, token_role: str, ttl_s: int, wrap_ttl_s: int, meta: dict[str, str], display: str
    ) -> Wrapped:
        if self.fail_mint:
            raise TokenError("Vault refused to mint (injected)")
        accessor = f"accessor-{len(self.minted) + 1}-{token_role}"
        self.minted.append(accessor)
        return Wrapped(f"wrapping-{len(self.minted)}", accessor, wrap_ttl_s)

    def revoke(self, accessor: str) -> bool:
        if self.fail_revoke:
            self.fail_revoke -= 1
            raise TokenError("Vault did not revoke (injected)")
        self.revoked.append(accessor)
        return True

    def live(self) -> set[str]:
        return set(self.minted) - set(self.revoked)


class Clock:
    def __init__(self, now: int = START) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class BrokerStack:
    settings: Settings
    broker: Broker
    clock: Clock
    queue_url: str
    clients: dict[str, Any]

    @classmethod
    def create(cls, tokens: Any | None = None, **overrides: Any) -> BrokerStack:
        clients = {
            name: boto3.client(name) for name in ("dynamodb", "logs", "sns", "sqs", "scheduler", "cloudwatch")
        }
        table = "candlefish-test-break-glass"
        clients["dynamodb"].create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "request_id", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
                {"AttributeName": "created_at", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "request_id", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": STATUS_INDEX,
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "created_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        log_group = "/candlefish/test/break-glass"
        clients["logs"].create_log_group(logGroupName=log_group)
        topic = clients["sns"].create_topic(Name="candlefish-test-pages")["TopicArn"]
        queue_url = clients["sqs"].create_queue(QueueName="pages")["QueueUrl"]
        queue_arn = clients["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        clients["sns"].subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        clients["scheduler"].create_schedule_group(Name="candlefish-test-break-glass")
        values = {
            "table": table,
            "log_group": log_group,
            "topic_arn": topic,
            "account_id": ACCOUNT,
            "role_prefix": ROLE_PREFIX,
            "people": PEOPLE,
            "vault_addr": "http://127.0.0.1:1",
            "region": "us-east-1",
            "scheduler_group": "candlefish-test-break-glass",
            "scheduler_role_arn": f"arn:aws:iam::{ACCOUNT}:role/candlefish-test-break-glass-scheduler",
            "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:candlefish-test-break-glass",
        }
        settings = Settings(**{**values, **overrides})
        requests = Requests(clients["dynamodb"], table)
        recorder = Recorder(
            logs=clients["logs"],
            sns=clients["sns"],
            cloudwatch=clients["cloudwatch"],
            requests=requests,
            log_group=log_group,
            topic_arn=topic,
            retention_days=settings.record_retention_days,
        )
        clock = Clock()
        ids = iter(f"{n:032x}" for n in range(1, 10_000))
        broker = Broker(
            settings,
            requests,
            recorder,
            tokens if tokens is not None else FlakyTokens(),
            clients["scheduler"],
            clock=clock,
            new_id=lambda: next(ids),
        )
        return cls(settings, broker, clock, queue_url, clients)

    @property
    def tokens(self) -> Any:
        return self.broker.tokens

    def logged(self, request_id: str) -> list[dict[str, Any]]:
        answer = self.clients["logs"].get_log_events(
            logGroupName=self.settings.log_group, logStreamName=request_id, startFromHead=True
        )
        return [json.loads(event["message"]) for event in answer["events"]]

    def pages(self) -> list[str]:
        answer = self.clients["sqs"].receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [message["Body"] for message in answer.get("Messages") or []]

    def schedules(self) -> list[dict[str, Any]]:
        scheduler = self.clients["scheduler"]
        listed = scheduler.list_schedules(GroupName=self.settings.scheduler_group)["Schedules"]
        return [
            scheduler.get_schedule(Name=item["Name"], GroupName=self.settings.scheduler_group)
            for item in listed
        ]

    def approved(self, by: tuple[str, ...] = ("bob", "carol"), who: str = "alice", **request: Any) -> str:
        """A request by `who` approved by `by`; returns its id."""
        made = self.broker.request(
            requester(who), request.pop("justification", JUSTIFICATION), "30m", **request
        )
        for person in by:
            self.broker.approve(approver(person), made["request_id"])
        return str(made["request_id"])


JUSTIFICATION = "Vault rejects every AppRole login since the 09:00 deploy; INC-4242"


@pytest.fixture(scope="session")
def break_glass_vault(openbao_dev: Any) -> Iterator[hvac.Client]:
    """The session's OpenBao dev server configured as the bootstrap configures break-glass: the three
    policies and the two token roles (max TTL one hour). Returns a root client."""
    root = openbao_dev.client()
    policies = render_policies([], region="us-east-1")
    for name in (
        vault_break_glass.TOKEN_POLICY,
        vault_break_glass.DRILL_POLICY,
        vault_break_glass.BROKER_POLICY,
    ):
        root.sys.create_or_update_acl_policy(name=name, policy=policies[name])
    for name, role in vault_break_glass.token_roles(
        {"broker_role_arn": "arn:aws:iam::1:role/b"}, MAX_TTL_S
    ).items():
        root.write_data(f"auth/token/roles/{name}", data=role)
    yield root
    root.adapter.close()


@pytest.fixture
def broker_login(break_glass_vault: hvac.Client, openbao_dev: Any) -> Callable[[], VaultClient]:
    """The broker's Vault login. OpenBao has no AWS auth method, so each login is a fresh token with the
    `break-glass-broker` policy (what the AWS auth role `break-glass-broker` grants), issued by root."""

    def login() -> VaultClient:
        issued = break_glass_vault.auth.token.create(
            policies=[vault_break_glass.BROKER_POLICY], no_default_policy=True, ttl="15m"
        )
        return VaultClient(openbao_dev.addr, token=issued["auth"]["client_token"])

    return login
