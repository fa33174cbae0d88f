"""The broker's settings, from its environment (set by the BreakGlassAccess component)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

MIN_JUSTIFICATION = 20
MAX_JUSTIFICATION = 2000
MIN_DURATION_S = 300
# Vault's explicit max TTL on the token role is the hard ceiling; this is the broker's own.
HARD_MAX_DURATION_S = 4 * 3600


@dataclass(frozen=True)
class Settings:
    """Where the broker keeps and sends things, and the rules it enforces."""

    table: str
    log_group: str
    topic_arn: str
    account_id: str
    # Each person's own role is `<role_prefix><person>`; `people` says who may request and who may approve.
    role_prefix: str
    vault_addr: str
    region: str
    scheduler_group: str
    scheduler_role_arn: str
    function_arn: str
    vault_ca_pem: str = ""
    vault_role: str = "break-glass-broker"
    vault_server_id: str = ""
    # Vault token role names (not credentials).
    token_role: str = "break-glass"  # noqa: S105
    drill_token_role: str = "break-glass-drill"  # noqa: S105
    min_approvals: int = 2
    max_duration_s: int = 3600
    default_duration_s: int = 1800
    approval_window_s: int = 3600
    wrap_ttl_s: int = 120
    record_retention_days: int = 400
    people: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        values = os.environ if env is None else env

        def number(name: str, default: int) -> int:
            return int(values.get(name) or default)

        return cls(
            table=values["TABLE_NAME"],
            log_group=values["EVENT_LOG_GROUP"],
            topic_arn=values["PAGE_TOPIC_ARN"],
            account_id=values["ACCOUNT_ID"],
            role_prefix=values["ROLE_PREFIX"],
            vault_addr=values["VAULT_ADDR"],
            region=values.get("AWS_REGION", ""),
            scheduler_group=values["SCHEDULE_GROUP"],
            scheduler_role_arn=values["SCHEDULER_ROLE_ARN"],
            function_arn=values.get("FUNCTION_ARN", ""),
            vault_ca_pem=values.get("VAULT_CA_PEM", ""),
            vault_role=values.get("VAULT_ROLE", "break-glass-broker"),
            vault_server_id=values.get("VAULT_IAM_SERVER_ID", ""),
            min_approvals=number("MIN_APPROVALS", 2),
            max_duration_s=number("MAX_DURATION_SECONDS", 3600),
            default_duration_s=number("DEFAULT_DURATION_SECONDS", 1800),
            approval_window_s=number("APPROVAL_WINDOW_SECONDS", 3600),
            wrap_ttl_s=number("WRAP_TTL_SECONDS", 120),
            people={
                person: frozenset(capacities) for person, capacities in json.loads(values["PEOPLE"]).items()
            },
        )
