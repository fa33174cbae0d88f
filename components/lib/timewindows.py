"""AWS maintenance and backup windows: parsing, length and overlap, without Pulumi.

RDS takes a daily backup window `hh24:mi-hh24:mi` and a weekly maintenance window
`ddd:hh24:mi-ddd:hh24:mi`, both in UTC; either may run past midnight (or past Sunday), each must last at
least 30 minutes, and AWS rejects a backup window that overlaps the maintenance window on any day.
Windows are measured in minutes on a circle: a day of 1440 minutes, a week of 10080.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAY = 24 * 60
WEEK = 7 * DAY
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
DAILY_PATTERN = rf"{_TIME}-{_TIME}"
WEEKLY_PATTERN = rf"([A-Za-z]{{3}}):{_TIME}-([A-Za-z]{{3}}):{_TIME}"


class WindowError(ValueError):
    """A window that is malformed; the message says what the format is."""


@dataclass(frozen=True)
class Window:
    """`start` minutes into the period and `length` minutes long, on a circle of `period` minutes."""

    start: int
    length: int
    period: int

    def spans(self, period: int) -> list[tuple[int, int]]:
        """The half-open [start, end) spans this window covers on a circle of `period` minutes.

        A daily window repeats seven times on a week; a span running past the end of the circle is split.
        """
        spans = []
        for offset in range(0, period, self.period):
            first = (offset + self.start) % period
            end = first + self.length
            spans += [(first, min(end, period))] + ([(0, end - period)] if end > period else [])
        return spans


def parse_daily(text: str) -> Window:
    """`hh24:mi-hh24:mi` (UTC) as a daily window."""
    match = re.fullmatch(DAILY_PATTERN, text)
    if match is None:
        raise WindowError(f"{text!r} is not a daily window")
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    return Window(start, (end - start) % DAY, DAY)


def parse_weekly(text: str) -> Window:
    """`ddd:hh24:mi-ddd:hh24:mi` (UTC, days mon..sun in any case) as a weekly window."""
    match = re.fullmatch(WEEKLY_PATTERN, text)
    if match is None or match[1].lower() not in DAYS or match[4].lower() not in DAYS:
        raise WindowError(f"{text!r} is not a weekly window")
    start = DAYS.index(match[1].lower()) * DAY + int(match[2]) * 60 + int(match[3])
    end = DAYS.index(match[4].lower()) * DAY + int(match[5]) * 60 + int(match[6])
    return Window(start, (end - start) % WEEK, WEEK)


def overlap(first: Window, second: Window) -> bool:
    """True if the two windows share any minute (a daily window counts on every day of the week).

    A window of no minutes shares none."""
    if first.length == 0 or second.length == 0:
        return False
    period = max(first.period, second.period)
    return any(
        a_start < b_end and b_start < a_end
        for a_start, a_end in first.spans(period)
        for b_start, b_end in second.spans(period)
    )
