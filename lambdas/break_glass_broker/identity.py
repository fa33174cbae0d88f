"""Who is calling: taken from what AWS verified (the function URL's SigV4 check), never from the request.

Callers reach the broker only through two roles the BreakGlassAccess component creates, a requester role and
an approver role. Their trust policies require MFA, require a source identity that the caller cannot pick
(an IAM user's own user name, or the one an identity provider such as IAM Identity Center set upstream,
which STS never lets a chained session change), and require the role session name to equal that source
identity. So the session name in the caller's ARN names the person, whichever role or session they use:
two sessions or both roles of one person are the same person here, and a different session name cannot
be chosen. Any other caller ARN is refused.
"""

from __future__ import annotations

import re
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
    """A verified caller: the role they came through and the person behind the session."""

    arn: str
    kind: str  # REQUESTER | APPROVER
    person: str


def caller_from_event(
    event: dict[str, Any], *, account_id: str, requester_role: str, approver_role: str
) -> Caller:
    """The caller of a function URL request, from `requestContext.authorizer.iam` (set by Lambda)."""
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    arn = str(iam.get("userArn") or "")
    if not arn:
        raise Refused(401, "unauthenticated", "the request carries no AWS-verified caller (AWS_IAM auth)")
    return caller_from_arn(
        arn, account_id=account_id, requester_role=requester_role, approver_role=approver_role
    )


def caller_from_arn(arn: str, *, account_id: str, requester_role: str, approver_role: str) -> Caller:
    match = _ASSUMED_ROLE.fullmatch(arn)
    roles = {requester_role: REQUESTER, approver_role: APPROVER}
    if not match or match["account"] != account_id or match["role"] not in roles:
        raise Refused(
            403,
            "not-a-break-glass-role",
            f"callers must use a session of the {requester_role} or {approver_role} role in account "
            f"{account_id}; {arn} is neither",
        )
    return Caller(arn=arn, kind=roles[match["role"]], person=match["session"].lower())
