"""What the monitoring reads out of the logs, as data: metric filter patterns and Logs Insights queries.

The Vault audit log holds one JSON object per request and one per response (Vault's audit log schema:
`type`, `time`, `auth.{display_name, policies, token_policies, accessor}`, `request.{operation, path,
mount_type, remote_address}`, `response`, and `error` only when the request failed). Every pattern counts
response entries only, so a request is counted once. The rotation function logs one JSON object per line
(`event`, `secret`, `step`, `error`, `detail`); the audit watcher logs `off_hours_secret_read` lines.

Patterns use CloudWatch Logs' JSON filter pattern syntax; tests/test_audit_filters.py runs each against
sample lines that must match and near-misses that must not, with the evaluator in tests/support.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

LogSource = Literal["audit", "rotation", "watcher"]

# The Vault policy a break-glass token carries (granted by the break-glass procedure, never to a role).
BREAK_GLASS_POLICY = "break-glass"
ROOT_POLICY = "root"


@dataclass(frozen=True)
class MetricFilterSpec:
    """A metric filter: on which log, what it matches, and the metric (count per matching event) it feeds."""

    key: str
    metric: str
    source: LogSource
    pattern: str
    meaning: str


FAILED_AUTHENTICATIONS = MetricFilterSpec(
    key="failed-auth",
    metric="FailedAuthentications",
    source="audit",
    # Login endpoints are auth/<mount>/login (AppRole, AWS, ...) and auth/<mount>/login/<name> (userpass,
    # LDAP). A regex keeps auth/userpass/users/login (managing a user named "login") out.
    pattern=(
        '{ $.type = "response" && $.request.path = %^auth/[^/]+/login$|^auth/[^/]+/login/% && $.error = "*" }'
    ),
    meaning="logins that failed (bad password, secret ID, or IAM identity)",
)
PERMISSION_DENIED = MetricFilterSpec(
    key="permission-denied",
    metric="PermissionDenied",
    source="audit",
    pattern='{ $.type = "response" && $.error = "*permission denied*" }',
    meaning="requests refused by policy, or made with an invalid or revoked token",
)
BREAK_GLASS_USE = MetricFilterSpec(
    key="break-glass",
    metric="BreakGlassUses",
    source="audit",
    pattern=f'{{ $.type = "response" && $.auth.policies[*] = "{BREAK_GLASS_POLICY}" }}',
    meaning="requests made with a token carrying the break-glass policy",
)
ROOT_TOKEN_USE = MetricFilterSpec(
    key="root-token",
    metric="RootTokenUses",
    source="audit",
    pattern=(
        f'{{ $.type = "response" && ($.auth.policies[0] = "{ROOT_POLICY}" '
        f'|| $.auth.token_policies[0] = "{ROOT_POLICY}") }}'
    ),
    meaning="requests made with a root token (its only policy is root)",
)
ROTATION_FAILURES = MetricFilterSpec(
    key="rotation-failures",
    metric="RotationFailures",
    source="rotation",
    pattern='{ $.event = "rotation_failed" }',
    meaning="rotation steps that failed (the rotation function's rotation_failed events)",
)
FIXED_FILTERS = (
    FAILED_AUTHENTICATIONS,
    PERMISSION_DENIED,
    BREAK_GLASS_USE,
    ROOT_TOKEN_USE,
    ROTATION_FAILURES,
)

# The audit watcher's metric (lambdas/audit_watcher/handler.py publishes it in the audit namespace).
OFF_HOURS_METRIC = "OffHoursSecretReads"


def prefix_slug(prefix: str) -> str:
    """`secret/data/candlefish/` → `secret-data-candlefish`, for names."""
    return re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-")


def _read_of(prefixes: Sequence[str]) -> str:
    paths = " || ".join(f'$.request.path = "{prefix}*"' for prefix in prefixes)
    return '$.type = "response" && $.request.operation = "read" && $.error NOT EXISTS && ' + (
        f"({paths})" if len(prefixes) > 1 else paths
    )


def secret_read_filter(prefix: str) -> MetricFilterSpec:
    """Successful reads of secrets under one KV v2 prefix: one metric per configured prefix."""
    return MetricFilterSpec(
        key=f"reads-{prefix_slug(prefix)}",
        metric=f"SecretReads/{prefix.rstrip('/')}",
        source="audit",
        pattern=f"{{ {_read_of([prefix])} }}",
        meaning=f"successful reads of secrets under {prefix}",
    )


def watcher_subscription_pattern(prefixes: Sequence[str]) -> str:
    """What the audit watcher is sent: successful reads under any configured prefix (it re-checks)."""
    return f"{{ {_read_of(prefixes)} }}"


def metric_filters(prefixes: Sequence[str]) -> tuple[MetricFilterSpec, ...]:
    return (*FIXED_FILTERS, *(secret_read_filter(prefix) for prefix in prefixes))


@dataclass(frozen=True)
class InsightsQuery:
    """A saved CloudWatch Logs Insights query over one of the logs."""

    key: str
    title: str
    source: LogSource
    query: str


SECRET_ACCESS_PATTERNS = InsightsQuery(
    key="secret-access-patterns",
    title="Secret reads by path and identity",
    source="audit",
    query=r"""fields @timestamp, request.path, auth.display_name, request.remote_address
| filter type = "response" and request.operation = "read"
| filter request.mount_type = "kv" and request.path like /^[\w-]+\/data\// and not ispresent(error)
| stats count(*) as reads by request.path, auth.display_name
| sort reads desc
| limit 100""",
)
SECRET_READS_BY_HOUR = InsightsQuery(
    key="secret-reads-by-hour",
    title="Secret reads per hour",
    source="audit",
    query=r"""filter type = "response" and request.operation = "read"
| filter request.mount_type = "kv" and request.path like /^[\w-]+\/data\// and not ispresent(error)
| stats count(*) as reads by bin(1h)""",
)
UNAUTHORISED_ACCESS = InsightsQuery(
    key="unauthorised-access",
    title="Failed logins and denied requests by source",
    source="audit",
    query=r"""fields @timestamp, request.path, request.operation, auth.display_name, request.remote_address
| filter type = "response" and ispresent(error)
| filter error like /permission denied/ or request.path like /^auth\/[^\/]+\/login/
| stats count(*) as attempts by request.remote_address, auth.display_name, request.path
| sort attempts desc
| limit 100""",
)
BREAK_GLASS_ACTIVATIONS = InsightsQuery(
    key="break-glass-activations",
    title="Requests made with break-glass tokens",
    source="audit",
    # A token the broker minted is named after its request (display name `token-break-glass-<request id>`)
    # and its accessor's HMAC is in the broker's `activated` event: both tie a request here to the request.
    query=rf"""parse @message /"policies":\[(?<policy_list>[^\]]*)\]/
| filter type = "response" and policy_list like /"{BREAK_GLASS_POLICY}"/
| parse auth.display_name /^token-break-glass-(?<break_glass_request>[0-9a-f]{{32}})$/
| fields @timestamp, break_glass_request, auth.accessor, auth.display_name, request.operation, request.path,
  request.remote_address
| sort @timestamp desc
| limit 200""",
)
ROTATION_FAILURE_LOG = InsightsQuery(
    key="rotation-failures",
    title="Failed rotation steps",
    source="rotation",
    query="""fields @timestamp, secret, step, error, detail
| filter event = "rotation_failed"
| sort @timestamp desc
| limit 100""",
)
OFF_HOURS_READS = InsightsQuery(
    key="off-hours-reads",
    title="Secret reads outside business hours",
    source="watcher",
    query="""fields @timestamp, local_time, weekday, path, display_name, remote_address
| filter event = "off_hours_secret_read"
| sort @timestamp desc
| limit 100""",
)
QUERIES = (
    SECRET_ACCESS_PATTERNS,
    SECRET_READS_BY_HOUR,
    UNAUTHORISED_ACCESS,
    BREAK_GLASS_ACTIVATIONS,
    ROTATION_FAILURE_LOG,
    OFF_HOURS_READS,
)
