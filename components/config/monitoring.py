"""The monitoring section of the stack config: business hours, audit-read prefixes and alerting log retention.

Business hours decide which secret reads the audit watcher reports as out-of-hours access (the deployment
guide's third alarm). The time zone is an IANA name, checked here with `zoneinfo` against the deployer's tz
database: the audit watcher is shipped that zone's compiled rules (`zone_file`), so the function computes
local time, DST included, without depending on the tz data of the Lambda runtime image.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from components.config.reader import ConfigReader, log_retention

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_DAYS = DAY_NAMES[:5]
DEFAULT_ALERT_LOG_DAYS = 90
# The audit watcher's log lists who read which secret out of hours: security evidence, kept a year in
# production like the audit log itself (the policy pack's security-log-retention rule agrees).
PRODUCTION_MIN_ALERT_LOG_DAYS = 365
MAX_READ_PREFIXES = 10
# A KV v2 read path prefix: `<mount>/data/<path>/`, lowercase segments, ending in a slash.
READ_PREFIX_PATTERN = r"[a-z0-9][a-z0-9_-]*/data/(?:[a-z0-9][a-z0-9_-]*/)*"
POLICY_PATTERN = r"[a-z0-9][a-z0-9_.-]{0,127}"
# Reads under these policies are exactly what out-of-hours monitoring exists to see.
NEVER_EXEMPT = ("root", "break-glass")


@dataclass(frozen=True)
class BusinessHours:
    """When secret reads are expected: local hours [start, end) on the given days in an IANA time zone."""

    time_zone: str
    days: tuple[str, ...]
    start_hour: int
    end_hour: int

    @property
    def weekdays(self) -> tuple[int, ...]:
        """The days as `datetime.weekday()` numbers (Monday is 0)."""
        return tuple(DAY_NAMES.index(day) for day in self.days)


@dataclass(frozen=True)
class MonitoringConfig:
    """Business hours, the audit paths counted as secret reads, and who may read at any hour."""

    business_hours: BusinessHours
    alert_log_retention_days: int
    audit_read_prefixes: tuple[str, ...]
    off_hours_exempt_policies: tuple[str, ...]


def zone_file(key: str) -> Path | None:
    """The compiled (TZif) rules of an IANA zone on this machine: the system tz database, else `tzdata`."""
    if not key or key.startswith("/") or ".." in key.split("/"):
        return None
    for root in zoneinfo.TZPATH:
        candidate = Path(root, key)
        if candidate.is_file():
            return candidate
    try:
        packaged = resources.files("tzdata.zoneinfo").joinpath(*key.split("/"))
    except ModuleNotFoundError:
        return None
    return Path(str(packaged)) if packaged.is_file() else None


def read_monitoring(reader: ConfigReader, *, production: bool) -> MonitoringConfig:
    """Read the monitoring keys, recording a problem for anything malformed."""
    hours = _business_hours(reader)
    retention = log_retention(
        reader, "alertLogRetentionDays", DEFAULT_ALERT_LOG_DAYS, PRODUCTION_MIN_ALERT_LOG_DAYS, production
    )
    return MonitoringConfig(
        business_hours=hours,
        alert_log_retention_days=retention,
        audit_read_prefixes=_read_prefixes(reader),
        off_hours_exempt_policies=_exempt_policies(reader),
    )


def _business_hours(reader: ConfigReader) -> BusinessHours:
    zone = reader.string("businessHoursTimeZone", "UTC", allowed="an IANA time zone such as Europe/London")
    if zone is not None and not _is_zone(zone):
        reader.problem(
            "businessHoursTimeZone",
            f"{zone!r} is not an IANA time zone known to this machine's tz database",
            "an IANA name such as Europe/London or America/New_York",
        )
    days = reader.string_list("businessDays", list(DEFAULT_DAYS), allowed="day names Mon to Sun")
    unknown = [day for day in days if day not in DAY_NAMES]
    if unknown:
        reader.problem("businessDays", f"{', '.join(map(repr, unknown))} not a day name", "Mon to Sun")
    if len(set(days)) != len(days):
        reader.problem("businessDays", "lists a day more than once", "distinct day names")
    if not days:
        reader.problem("businessDays", "is empty: every read would be out of hours", "one or more days")
    start = reader.integer("businessHoursStart", 8, low=0, high=23)
    end = reader.integer("businessHoursEnd", 18, low=1, high=24)
    if start is not None and end is not None and start >= end:
        reader.problem(
            "businessHoursEnd",
            f"{end} is not after businessHoursStart {start}",
            "an hour after the start; windows that cross midnight are not supported",
        )
    return BusinessHours(
        time_zone=zone or "UTC",
        days=tuple(day for day in DAY_NAMES if day in days),
        start_hour=8 if start is None else start,
        end_hour=18 if end is None else end,
    )


def _is_zone(key: str) -> bool:
    try:
        zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return zone_file(key) is not None


def _read_prefixes(reader: ConfigReader) -> tuple[str, ...]:
    allowed = "KV v2 data path prefixes ending in '/', e.g. secret/data/candlefish/"
    prefixes = reader.string_list("auditReadPrefixes", ["secret/data/candlefish/"], allowed=allowed)
    if not 1 <= len(prefixes) <= MAX_READ_PREFIXES:
        reader.problem("auditReadPrefixes", f"has {len(prefixes)} prefixes", f"1 to {MAX_READ_PREFIXES}")
    for index, prefix in enumerate(prefixes):
        if not re.fullmatch(READ_PREFIX_PATTERN, prefix):
            reader.problem(f"auditReadPrefixes[{index}]", f"{prefix!r} is not a KV v2 read prefix", allowed)
    return tuple(dict.fromkeys(prefixes))


def _exempt_policies(reader: ConfigReader) -> tuple[str, ...]:
    allowed = "Vault policy names of automation that reads at any hour, e.g. rotation"
    policies = reader.string_list("offHoursExemptPolicies", ["rotation"], allowed=allowed)
    for index, policy in enumerate(policies):
        if not re.fullmatch(POLICY_PATTERN, policy):
            reader.problem(f"offHoursExemptPolicies[{index}]", f"{policy!r} is not a policy name", allowed)
        elif policy in NEVER_EXEMPT:
            reader.problem(
                f"offHoursExemptPolicies[{index}]",
                f"exempting {policy!r} would hide the reads out-of-hours monitoring exists to see",
                "automation policies only, never root or break-glass",
            )
    return tuple(dict.fromkeys(policies))
