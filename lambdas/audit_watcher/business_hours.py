"""Whether a moment falls in business hours, in a named time zone, daylight saving time included.

The zone's rules come from the compiled TZif file shipped next to this module (`zone.tzif`, copied from the
deployer's tz database when the function is packaged), so the answer does not depend on whether the Lambda
runtime image carries tz data. Converting an aware UTC moment with `astimezone` applies the zone's offset
for that instant, so the local hour is right on both sides of every transition, including the hour that
repeats when clocks go back.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHIPPED_ZONE = Path(__file__).with_name("zone.tzif")


@dataclass(frozen=True)
class BusinessHours:
    """Local hours [start_hour, end_hour) on `weekdays` (Monday is 0) in `zone`."""

    zone: datetime.tzinfo
    weekdays: frozenset[int]
    start_hour: int
    end_hour: int

    def contains(self, moment: datetime.datetime) -> bool:
        """True if the aware `moment` is inside business hours."""
        if moment.tzinfo is None:
            raise ValueError("business hours are decided for aware datetimes only")
        local = moment.astimezone(self.zone)
        return local.weekday() in self.weekdays and self.start_hour <= local.hour < self.end_hour

    def local(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.astimezone(self.zone)


def load_zone(key: str, shipped: Path = SHIPPED_ZONE) -> datetime.tzinfo:
    """The zone's rules from the shipped TZif file, or from the runtime's tz data if none was shipped."""
    if shipped.is_file():
        with shipped.open("rb") as compiled:
            return zoneinfo.ZoneInfo.from_file(compiled, key=key)
    return zoneinfo.ZoneInfo(key)


def parse_days(text: str) -> frozenset[int]:
    """`Mon,Tue,...` into weekday numbers; an unknown name is an error, not a silent gap."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in DAY_NAMES]
    if unknown:
        raise ValueError(f"unknown day name(s): {', '.join(unknown)}")
    return frozenset(DAY_NAMES.index(name) for name in names)
