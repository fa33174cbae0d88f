"""Who is calling: taken from what AWS verified (the function URL's SigV4 check), never from the request.

Each person listed in the stack config gets a role of their own, `<prefix><person>`, created by the
BreakGlassAccess component. Its trust policy admits only that person's principals (their IAM user, or a
role whose sessions carry the person's name as `sts:SourceIdentity`, which an identity provider such as
IAM Identity Center sets upstream and no session can change) and only with MFA. So the role in the caller's
ARN names the person: two sessions, or two principals, of one person are the same person here, and the
session name, which the caller picks, plays no part. The broker's `PEOPLE` setting says what each person
may do (request, approve). Any other caller ARN is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUESTER = "requester"
APPROVER = "approver"

_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/"
    r"(?P<role>[\w+=,.@-]{1,64})/(?P<session>[\w+=,.@-]{2,64})"
)


class Refused(Exception):
    """The broker refuses the call: `status` is the HTTP status, the message says why (no secrets)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Caller:
    """A verified caller: the person behind the session and what they may do."""

    arn: str
    person: str
    may: frozenset[str]


def caller_from_event(
    event: dict[str, Any], *, account_id: str, role_prefix: str, people: Mapping[str, frozenset[str]]
) -> Caller:
    """The caller of a function URL request, from `requestContext.authorizer.iam` (set by Lambda)."""
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    arn = str(iam.get("userArn") or "")
    if not arn:
        raise Refused(401, "unauthenticated", "the request carries no AWS-verified caller (AWS_IAM auth)")
    return caller_from_arn(arn, account_id=account_id, role_prefix=role_prefix, people=people)


def caller_from_arn(
    arn: str, *, account_id: str, role_prefix: str, people: Mapping[str, frozenset[str]]
) -> Caller:
    match = _ASSUMED_ROLE.fullmatch(arn)
    role = match["role"] if match else ""
    person = role[len(role_prefix) :] if role.startswith(role_prefix) else ""
    if not match or match["account"] != account_id or person not in people:
        raise Refused(
            403,
            "not-a-break-glass-role",
            f"callers must use their own break-glass role ({role_prefix}<person>) in account {account_id}; "
            f"{arn} is not one",
        )
    return Caller(arn=arn, person=person, may=frozenset(people[person]))
