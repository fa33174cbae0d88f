"""The `breakGlass` section of the stack config: who may request and approve emergency access, and its limits.

```yaml
candlefish-secrets:breakGlass:
  enabled: true                  # default: on in production, off elsewhere
  requesters:                    # person -> the IAM principals they sign in with
    alice: [user/alice]          # user/<name> and role/<path/name> are in the stack's account
  approvers:
    bob: [role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Oncall_0a1b2c3d, user/bob]
  minimumApprovals: 2            # default 2 (2 or more in production)
  maxDuration: 1h                # the token role's explicit max TTL: 5m to 4h, default 1h
  defaultDuration: 30m
  approvalWindow: 1h             # how long a request waits for approvals and activation
```

A person is a name (what the audit trail shows); each gets a role of their own that only their principals
may assume, with MFA. A principal that is an IAM user must be that person's own user (its name is the
person). A principal that is a role (an IAM Identity Center permission set, say) is shared by many people,
so its sessions must carry the person's name as their source identity. Validation refuses an approver list
that could not reach the minimum for some requester without that requester.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config.reader import ConfigReader

KEY = "breakGlass"
FIELDS = frozenset(
    {
        "enabled",
        "requesters",
        "approvers",
        "minimumApprovals",
        "maxDuration",
        "defaultDuration",
        "approvalWindow",
    }
)
# A person's name: what STS accepts as a source identity, lowercase, short enough for a role name.
PERSON_PATTERN = r"[a-z0-9][a-z0-9_.@=,+-]{1,30}"
# A full ARN, or `user/<name>` / `role/<path/name>` in the stack's own account.
PRINCIPAL_PATTERN = r"(arn:aws[a-z-]*:iam::\d{12}:)?(user|role)/[\w+=,.@/-]+"
DURATION_PATTERN = r"(\d+)(m|h)"
MAX_TTL_LIMIT_S = 4 * 3600
MIN_DURATION_S = 300


@dataclass(frozen=True)
class BreakGlassConfig:
    """Who may request and approve, how many approvals, and the time limits (seconds)."""

    enabled: bool = False
    requesters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    approvers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    minimum_approvals: int = 2
    max_duration_s: int = 3600
    default_duration_s: int = 1800
    approval_window_s: int = 3600

    @property
    def people(self) -> dict[str, frozenset[str]]:
        """Each person and what they may do ("requester", "approver")."""
        everyone = sorted(set(self.requesters) | set(self.approvers))
        return {
            person: frozenset(
                kind
                for kind, listed in (("requester", self.requesters), ("approver", self.approvers))
                if person in listed
            )
            for person in everyone
        }

    def principals(self, person: str) -> tuple[str, ...]:
        return tuple(sorted({*self.requesters.get(person, ()), *self.approvers.get(person, ())}))


def read_break_glass(reader: ConfigReader, *, production: bool) -> BreakGlassConfig:
    body = reader.mapping(KEY, {})
    for unknown in sorted(set(body) - FIELDS):
        reader.problem(
            f"{KEY}.{unknown}", "is not a break-glass setting", "one of " + ", ".join(sorted(FIELDS))
        )
    enabled = body.get("enabled", production)
    if not isinstance(enabled, bool):
        reader.problem(f"{KEY}.enabled", f"{enabled!r} is not a boolean", "true or false")
        enabled = False
    requesters = _people(reader, body, "requesters")
    approvers = _people(reader, body, "approvers")
    minimum = body.get("minimumApprovals", 2)
    floor = 2 if production else 1
    if isinstance(minimum, bool) or not isinstance(minimum, int) or not floor <= minimum <= 10:
        reader.problem(
            f"{KEY}.minimumApprovals", f"{minimum!r} is not allowed", f"an integer from {floor} to 10"
        )
        minimum = 2
    config = BreakGlassConfig(
        enabled=enabled,
        requesters=requesters,
        approvers=approvers,
        minimum_approvals=minimum,
        max_duration_s=_duration(reader, body, "maxDuration", 3600, MAX_TTL_LIMIT_S),
        default_duration_s=_duration(reader, body, "defaultDuration", 1800, MAX_TTL_LIMIT_S),
        approval_window_s=_duration(reader, body, "approvalWindow", 3600, 24 * 3600),
    )
    if config.default_duration_s > config.max_duration_s:
        reader.problem(f"{KEY}.defaultDuration", "is longer than maxDuration", "at most maxDuration")
    if enabled:
        _check_reachable(reader, config)
    return config


def _people(reader: ConfigReader, body: Mapping[str, Any], part: str) -> dict[str, tuple[str, ...]]:
    listed = body.get(part, {})
    key = f"{KEY}.{part}"
    if not isinstance(listed, dict):
        reader.problem(key, "must map each person to their IAM principal ARNs", "{alice: [arn:aws:iam::...]}")
        return {}
    people: dict[str, tuple[str, ...]] = {}
    for person, principals in sorted(listed.items()):
        if not re.fullmatch(PERSON_PATTERN, str(person)):
            reader.problem(f"{key}.{person}", "is not a usable person name", "lowercase, 2-31 characters")
            continue
        arns = [principals] if isinstance(principals, str) else principals
        if not isinstance(arns, list) or not arns or not all(isinstance(arn, str) for arn in arns):
            reader.problem(
                f"{key}.{person}", "must list IAM principal ARNs", "[arn:aws:iam::<account>:user/...]"
            )
            continue
        bad = [arn for arn in arns if not re.fullmatch(PRINCIPAL_PATTERN, arn)]
        if bad:
            reader.problem(
                f"{key}.{person}",
                f"{bad!r} are not IAM users or roles",
                "user/<name>, role/<path/name> or a full ARN",
            )
            continue
        others = [arn for arn in arns if is_user(arn) and arn.rsplit("/", 1)[1].lower() != person]
        if others:
            reader.problem(
                f"{key}.{person}",
                f"{others!r} are other people's IAM users",
                "a person's IAM user is named after them; shared access goes through a role",
            )
            continue
        people[person] = tuple(arns)
    return people


def is_user(principal: str) -> bool:
    """An IAM user (`user/<name>` or its ARN), as opposed to a role."""
    return principal.startswith("user/") or ":user/" in principal


def _duration(reader: ConfigReader, body: Mapping[str, Any], name: str, default: int, limit: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    match = re.fullmatch(DURATION_PATTERN, str(value))
    seconds = int(match[1]) * (3600 if match[2] == "h" else 60) if match else 0
    if not MIN_DURATION_S <= seconds <= limit:
        reader.problem(
            f"{KEY}.{name}",
            f"{value!r} is not allowed",
            f"minutes or hours like 30m or 1h, 5m to {limit // 3600}h",
        )
        return default
    return seconds


def _check_reachable(reader: ConfigReader, config: BreakGlassConfig) -> None:
    if not config.requesters:
        reader.problem(
            f"{KEY}.requesters", "lists nobody while break-glass is enabled", "at least one person"
        )
    short = [
        person
        for person in sorted(config.requesters)
        if len(set(config.approvers) - {person}) < config.minimum_approvals
    ]
    if short:
        reader.problem(
            f"{KEY}.approvers",
            f"cannot reach {config.minimum_approvals} approvals without the requester for {', '.join(short)}",
            f"at least {config.minimum_approvals} approvers other than each requester",
        )
