"""A small evaluator of resource and key policies, for plan tests that ask "may this principal do this?".

It follows IAM's single-account logic for what these documents use (AWS IAM User Guide, "Policy
evaluation logic"): an explicit Deny wins; an Allow naming the principal's role ARN grants by itself; an
Allow to the account root (`arn:...:root`) only delegates to IAM, so it grants when the caller's identity
policies allow (`identity_allows`, e.g. a deployer with administrator rights). KMS key policies are no
different here except that nothing outside them grants (pass `key_policy=True`: an identity policy alone
never allows).

Supported: Principal `*`, {"AWS": ...}; Action with `*`/`?` wildcards; condition operators StringEquals,
StringNotEquals, StringLike, StringNotLike, ArnEquals, ArnNotEquals, ArnLike, ArnNotLike, Bool, with the
request's context keys. A key missing from the request makes a positive operator false and a negated one
true, as IAM does. Anything else raises, so a test never passes on a condition this module ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit-deny", "implicit-deny"


@dataclass(frozen=True)
class Request:
    """Who asks for what: the principal's ARN (for a role session, the role's ARN, as aws:PrincipalArn is)."""

    principal_arn: str
    action: str
    context: Mapping[str, str] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        if key == "aws:PrincipalArn":
            return self.principal_arn
        return self.context.get(key)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(value: str, pattern: str) -> bool:
    return fnmatchcase(value, pattern)


OPERATORS = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (lambda v, p: v == p, False),
    "ArnNotEquals": (lambda v, p: v == p, True),
    "ArnLike": (_like, False),
    "ArnNotLike": (_like, True),
    "Bool": (lambda v, p: v.lower() == str(p).lower(), False),
}


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    for operator, keys in condition.items():
        if operator not in OPERATORS:
            raise ValueError(f"condition operator {operator} is not supported by this evaluator")
        test, negated = OPERATORS[operator]
        for key, patterns in keys.items():
            value = request.value(key)
            if value is None:
                if not negated:
                    return False
                continue
            matched = any(test(value, pattern) for pattern in _list(patterns))
            if matched == negated:
                return False
    return True


def _principal_match(statement: Mapping[str, Any], request: Request) -> str | None:
    """ "direct" when the statement names the principal (or everyone), "account" when it names an account
    root (delegating to IAM), None when it does not apply to the principal."""
    principal = statement.get("Principal")
    if principal == "*":
        return "direct"
    named = [str(arn) for arn in _list((principal or {}).get("AWS", []))]
    if "*" in named or request.principal_arn in named:
        return "direct"
    account = request.principal_arn.split(":")[4]
    if any(arn.endswith(f":{account}:root") or arn == account for arn in named):
        return "account"
    return None


def _action_match(statement: Mapping[str, Any], action: str) -> bool:
    return any(fnmatchcase(action.lower(), str(given).lower()) for given in _list(statement["Action"]))


def decide(
    policy: Mapping[str, Any] | str, request: Request, *, identity_allows: bool, key_policy: bool = False
) -> str:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for `request` under `policy` (a document or its JSON)."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    allowed = identity_allows and not key_policy
    for statement in _list(document["Statement"]):
        match = _principal_match(statement, request)
        if match is None or not _action_match(statement, request.action):
            continue
        if not _condition_holds(statement.get("Condition") or {}, request):
            continue
        if statement["Effect"] == "Deny":
            return EXPLICIT_DENY
        if match == "direct" or identity_allows:
            allowed = True
    return ALLOW if allowed else IMPLICIT_DENY
