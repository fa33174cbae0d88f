"""The Vault side of break-glass access, as plain data for the bootstrap's desired configuration.

- Token role `break-glass`: only the `break-glass` policy, orphan tokens (they live their window even
  though the broker's own login token is revoked seconds later), not renewable, and an explicit max TTL
  equal to the configured limit (default 1 h, at most 4 h), which no renewal or parameter can extend.
- Token role `break-glass-drill`: the same, with the harmless `break-glass-drill` policy, for drills.
- AWS auth role `break-glass-broker`: bound to the broker Lambda's IAM role, short logins, only the
  `break-glass-broker` policy (mint from those two token roles, response-wrapped, and revoke by accessor).

The provisioner token may read these but never write them (nor the two policies): with them it could mint
itself a break-glass token. A run that must change them takes an admin token (`vaultAdoptToken`), as for
the other protected policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Names of Vault token roles and policies, not credentials.
TOKEN_ROLE = "break-glass"  # noqa: S105
DRILL_TOKEN_ROLE = "break-glass-drill"  # noqa: S105
TOKEN_POLICY = "break-glass"  # noqa: S105
DRILL_POLICY = "break-glass-drill"
BROKER_ROLE = "break-glass-broker"
BROKER_POLICY = "break-glass-broker"
# The broker logs in per invocation and revokes its token when done; 15 minutes covers the longest run.
BROKER_LOGIN = ("5m", "15m")
DEFAULT_MAX_TTL = "1h"
MIN_MAX_TTL_S = 300
LIMIT_MAX_TTL_S = 4 * 3600
PROTECTED_POLICIES = (BROKER_POLICY, DRILL_POLICY)
PROTECTED_AWS_ROLES = (BROKER_ROLE,)
PROTECTED_TOKEN_ROLES = (TOKEN_ROLE, DRILL_TOKEN_ROLE)


def token_role(policy: str, max_ttl_s: int) -> dict[str, Any]:
    """A break-glass token role in canonical form (the fields Vault returns on read)."""
    return {
        "allowed_policies": [policy],
        "disallowed_policies": [],
        "orphan": True,
        "renewable": False,
        "token_explicit_max_ttl": max_ttl_s,
        "token_period": 0,
        "token_type": "service",
        "token_no_default_policy": True,
    }


def token_roles(settings: Mapping[str, Any] | None, max_ttl_s: int) -> dict[str, Any]:
    """The token roles wanted: none when break-glass access is off."""
    if not settings:
        return {}
    return {
        TOKEN_ROLE: token_role(TOKEN_POLICY, max_ttl_s),
        DRILL_TOKEN_ROLE: token_role(DRILL_POLICY, max_ttl_s),
    }


def protected_binding(role: str, policy: str) -> bool:
    """The broker's AWS auth role is the one role allowed to carry the broker policy."""
    return role == BROKER_ROLE and policy == BROKER_POLICY


def problems(settings: Mapping[str, Any] | None, max_ttl_s: int, policies: Mapping[str, str]) -> list[str]:
    if not settings:
        return []
    found = []
    if not str(settings.get("broker_role_arn") or "").startswith("arn:"):
        found.append("break_glass.broker_role_arn: the broker Lambda role's ARN is required")
    if not MIN_MAX_TTL_S <= max_ttl_s <= LIMIT_MAX_TTL_S:
        found.append(
            f"break_glass.max_ttl must be between {MIN_MAX_TTL_S // 60}m and {LIMIT_MAX_TTL_S // 3600}h "
            f"(got {max_ttl_s}s)"
        )
    found += [
        f"break_glass: the {name!r} policy must be among the policies written"
        for name in (TOKEN_POLICY, DRILL_POLICY, BROKER_POLICY)
        if name not in policies
    ]
    return found
