"""Backup and maintenance windows: formats, lengths, and overlap on the day and week circles."""

import pytest

from components.lib.timewindows import DAY, WindowError, overlap, parse_daily, parse_weekly


def test_a_daily_window_may_run_past_midnight():
    window = parse_daily("23:45-00:15")
    assert (window.start, window.length) == (23 * 60 + 45, 30)
    assert window.spans(DAY) == [(1425, 1440), (0, 15)]


def test_a_weekly_window_may_run_past_sunday_and_days_are_case_insensitive():
    window = parse_weekly("Sun:23:30-mon:00:30")
    assert (window.start, window.length) == (6 * DAY + 23 * 60 + 30, 60)


@pytest.mark.parametrize("text", ["3:00-3:30", "03:00-24:00", "03:00", "03:60-04:00"])
def test_malformed_daily_windows_are_refused(text):
    with pytest.raises(WindowError, match="not a daily window"):
        parse_daily(text)


@pytest.mark.parametrize("text", ["sunday:04:00-sunday:05:00", "sun:04:00-05:00", "xyz:04:00-sun:05:00"])
def test_malformed_weekly_windows_are_refused(text):
    with pytest.raises(WindowError, match="not a weekly window"):
        parse_weekly(text)


@pytest.mark.parametrize(
    ("backup", "maintenance", "expected"),
    [
        ("03:00-03:30", "sun:04:00-sun:05:00", False),
        ("03:30-04:00", "sun:04:00-sun:05:00", False),  # touching ends do not overlap
        ("04:30-05:00", "sun:04:00-sun:05:00", True),  # the backup runs every day, Sunday too
        ("03:45-04:15", "wed:04:00-wed:05:00", True),
        ("23:45-00:15", "mon:00:00-mon:01:00", True),  # across midnight into Monday
        ("23:45-00:15", "sun:23:50-mon:00:10", True),  # both across the end of the week
        ("12:00-12:30", "sat:13:00-sun:11:00", False),
        ("12:00-12:30", "sat:13:00-sun:12:10", True),
    ],
)
def test_a_daily_backup_overlaps_a_weekly_maintenance_window_on_any_day(backup, maintenance, expected):
    assert overlap(parse_daily(backup), parse_weekly(maintenance)) is expected
    assert overlap(parse_weekly(maintenance), parse_daily(backup)) is expected
