"""A stand-in for the one ElastiCache call moto does not model: ModifyReplicationGroup's AUTH token change.

moto 5.2 stores replication groups and answers DescribeReplicationGroups, but its ModifyReplicationGroup
ignores `AuthToken`, `AuthTokenUpdateStrategy` and `ApplyImmediately`. `install` wraps moto's handler for
that one action: moto still applies every other parameter and keeps the group; the stand-in adds the AUTH
token rules from the ElastiCache API reference and user guide, and records which tokens the group accepts:

- `AuthToken` must come with `AuthTokenUpdateStrategy`, be 16-128 printable characters and contain none
  of `/`, `"`, `@`, `%`, space; AUTH needs in-transit encryption (`TransitEncryptionEnabled`).
- `ROTATE` adds the token beside the current one; `SET`, allowed only after a `ROTATE`, keeps only the token
  it names; `DELETE` (turning AUTH off) is refused here because the platform never sends it.
- The group holds at most two tokens, so a `ROTATE` while two are valid is refused. (The user guide says
  ElastiCache keeps two tokens; that a third ROTATE is refused rather than dropping the oldest is this
  stand-in's assumption. The rotation function never relies on it: it always SETs before it ROTATEs.)

Differences from ElastiCache: the change applies at once (the group never shows `modifying` unless a test
sets it), no token is ever returned by describe calls (as in AWS), and error messages are the stand-in's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.core.utils import utcnow
from moto.elasticache.exceptions import InvalidParameterCombinationException, InvalidParameterValueException
from moto.elasticache.responses import ElastiCacheResponse

FORBIDDEN = set('/"@% ')
MAX_TOKENS = 2


@dataclass
class AuthTokens:
    """Which tokens each replication group accepts, and the strategy of its last token change."""

    valid: dict[str, list[str]] = field(default_factory=dict)
    last_strategy: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (group, strategy), never the token

    def apply(self, group_id: str, group: Any, token: str | None, strategy: str | None) -> None:
        if token is None and strategy is None:
            return
        if token is None or strategy is None:
            raise InvalidParameterCombinationException("AuthToken and AuthTokenUpdateStrategy go together")
        if not 16 <= len(token) <= 128 or not token.isprintable() or FORBIDDEN & set(token):
            raise InvalidParameterValueException("Invalid AuthToken provided.")
        if not group.transit_encryption_enabled:
            raise InvalidParameterCombinationException("AUTH needs in-transit encryption")
        tokens = self.valid.setdefault(group_id, [])
        if strategy == "ROTATE":
            if len(tokens) >= MAX_TOKENS:
                raise InvalidParameterCombinationException("the group already has two AUTH tokens; SET first")
            tokens.append(token)
        elif strategy == "SET":
            if self.last_strategy.get(group_id) != "ROTATE":
                raise InvalidParameterCombinationException("SET is allowed only after ROTATE")
            tokens[:] = [token]
        else:
            raise InvalidParameterValueException(f"strategy {strategy} is not used by this platform")
        self.last_strategy[group_id] = strategy
        self.calls.append((group_id, strategy))
        group.auth_token_enabled = True
        group.auth_token_last_modified_date = utcnow()


def install(monkeypatch: pytest.MonkeyPatch) -> AuthTokens:
    """Route ModifyReplicationGroup's AUTH parameters through the stand-in; returns its token record."""
    tokens = AuthTokens()
    moto_modify = ElastiCacheResponse.modify_replication_group

    def modify_replication_group(self: ElastiCacheResponse) -> Any:
        group_id = self._get_param("ReplicationGroupId")
        groups = self.elasticache_backend.describe_replication_groups(replication_group_id=group_id)
        tokens.apply(
            group_id, groups[0], self._get_param("AuthToken"), self._get_param("AuthTokenUpdateStrategy")
        )
        return moto_modify(self)

    monkeypatch.setattr(ElastiCacheResponse, "modify_replication_group", modify_replication_group)
    return tokens
