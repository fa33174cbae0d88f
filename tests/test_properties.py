"""Property-based tests (hypothesis) for the pure logic: CIDR containment and overlap, maintenance and backup
windows, and config parsing. Each property is checked against an independent model (integer address
ranges, sets of minutes, the AWS limit as stated), not against the code's own helpers."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from components.config.reader import ConfigError
from components.lib import netmath, timewindows
from tests.test_config import NS, parse

DAY, WEEK = 24 * 60, 7 * 24 * 60
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FAST = settings(max_examples=60, deadline=None)


# --- CIDR blocks ---------------------------------------------------------------------------------------


@st.composite
def networks(draw: Any, low: int = 0, high: int = 32) -> ipaddress.IPv4Network:
    prefix = draw(st.integers(low, high))
    address = draw(st.integers(0, 2**32 - 1))
    return ipaddress.IPv4Network((address >> (32 - prefix) << (32 - prefix), prefix))


def span(network: ipaddress.IPv4Network) -> range:
    first = int(network.network_address)
    return range(first, first + network.num_addresses)


@FAST
@given(networks())
def test_a_network_address_round_trips_through_parse_cidr(network):
    assert netmath.parse_cidr(str(network)) == network


@FAST
@given(networks(low=1, high=31), st.integers(1, 2**31))
def test_a_block_with_host_bits_is_refused_naming_its_network(network, offset):
    address = ipaddress.IPv4Address(int(network.network_address) + offset % network.num_addresses)
    assume(address != network.network_address)
    with pytest.raises(netmath.CidrError, match=f"host bits set; the network address is {network}"):
        netmath.parse_cidr(f"{address}/{network.prefixlen}")


@FAST
@given(networks())
def test_aws_takes_vpc_and_subnet_blocks_from_16_to_28(network):
    if 16 <= network.prefixlen <= 28:
        assert netmath.parse_block(str(network)) == network
        assert netmath.usable_hosts(network) == 2 ** (32 - network.prefixlen) - 5  # AWS keeps 5 per subnet
    else:
        with pytest.raises(netmath.CidrError, match="AWS allows /16 to /28"):
            netmath.parse_block(str(network))


@FAST
@given(st.lists(networks(low=8, high=28), min_size=2, max_size=5))
def test_overlaps_names_exactly_the_pairs_sharing_an_address(blocks):
    labelled = [(f"b{index}", block) for index, block in enumerate(blocks)]
    expected = [
        (first, second)
        for index, (first, a) in enumerate(labelled)
        for second, b in labelled[index + 1 :]
        if span(a).start < span(b).stop and span(b).start < span(a).stop
    ]
    assert [(o.first, o.second) for o in netmath.overlaps(labelled)] == expected


@FAST
@given(networks(low=16, high=24), st.lists(networks(low=8, high=28), min_size=1, max_size=5))
def test_outside_names_every_block_not_wholly_inside_the_vpc(vpc, blocks):
    labelled = [(f"b{index}", block) for index, block in enumerate(blocks)]
    inside = {
        label
        for label, block in labelled
        if span(vpc).start <= span(block).start < span(block).stop <= span(vpc).stop
    }
    assert netmath.outside(vpc, labelled) == [label for label, _ in labelled if label not in inside]


def test_a_subnet_that_contains_the_vpc_is_outside_it():
    # It overlaps the VPC, but AWS refuses a subnet that is not within the VPC's block.
    vpc = ipaddress.IPv4Network("10.0.0.0/20")
    assert netmath.outside(vpc, [("larger", ipaddress.IPv4Network("10.0.0.0/16"))]) == ["larger"]
    assert netmath.outside(vpc, [("equal", vpc), ("half", ipaddress.IPv4Network("10.0.8.0/21"))]) == []


# --- maintenance and backup windows --------------------------------------------------------------------


def clock(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def daily_text(start: int, end: int) -> str:
    return f"{clock(start)}-{clock(end)}"


def weekly_text(start: int, end: int) -> str:
    return f"{DAYS[start // DAY]}:{clock(start)}-{DAYS[end // DAY]}:{clock(end)}"


def minutes(start: int, length: int, period: int) -> set[int]:
    """The minutes of the week a window covers; a daily window repeats on all seven days."""
    return {(day + start + offset) % WEEK for day in range(0, WEEK, period) for offset in range(length)}


@FAST
@given(st.integers(0, DAY - 1), st.integers(0, DAY - 1))
def test_a_daily_window_starts_where_it_says_and_may_run_past_midnight(start, end):
    window = timewindows.parse_daily(daily_text(start, end))
    assert (window.start, window.length, window.period) == (start, (end - start) % DAY, DAY)


@FAST
@given(st.integers(0, WEEK - 1), st.integers(0, WEEK - 1), st.booleans())
def test_a_weekly_window_runs_from_its_day_and_time_across_the_week(start, end, upper):
    text = weekly_text(start, end)
    window = timewindows.parse_weekly(text.upper() if upper else text)
    assert (window.start, window.length, window.period) == (start, (end - start) % WEEK, WEEK)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, DAY - 1),
    st.integers(0, 180),
    st.integers(0, WEEK - 1),
    st.integers(0, 600),
)
def test_backup_and_maintenance_windows_overlap_exactly_when_they_share_a_minute(
    backup_start, backup_length, maintenance_start, maintenance_length
):
    backup = timewindows.Window(backup_start, backup_length, DAY)
    maintenance = timewindows.Window(maintenance_start, maintenance_length, WEEK)
    shared = minutes(backup_start, backup_length, DAY) & minutes(maintenance_start, maintenance_length, WEEK)
    assert timewindows.overlap(backup, maintenance) is bool(shared)
    assert timewindows.overlap(maintenance, backup) is bool(shared)


@FAST
@given(st.text(max_size=20))
def test_anything_but_the_two_formats_is_refused(text):
    assume(not (len(text) == 11 and text[2] == ":" and text[5] == "-"))
    with pytest.raises(timewindows.WindowError, match="is not a daily window"):
        timewindows.parse_daily(text)


@pytest.mark.parametrize("text", ["24:00-01:00", "03:60-04:00", "3:00-04:00", "03:00-04:00 "])
def test_times_outside_the_clock_are_refused(text):
    with pytest.raises(timewindows.WindowError):
        timewindows.parse_daily(text)


@pytest.mark.parametrize("text", ["sunday:04:00-sunday:05:00", "xyz:04:00-mon:05:00", "mon:04:00-mon:24:00"])
def test_unknown_days_and_times_are_refused_weekly(text):
    with pytest.raises(timewindows.WindowError, match="is not a weekly window"):
        timewindows.parse_weekly(text)


# --- config parsing ------------------------------------------------------------------------------------

TAG_KEY = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-=.,_:@",
    min_size=1,
    max_size=128,
).filter(lambda key: not key.lower().startswith("aws:") and key not in {".", ".."})
REQUIRED = {
    "Environment": "production",
    "Project": "Candlefish-AI",
    "Component": "Secrets",
    "DeployedBy": "CI",
}


def outcome(overrides: dict[str, Any]) -> tuple[Any, list[str]]:
    try:
        return parse("production", overrides), []
    except ConfigError as error:
        return None, [str(problem) for problem in error.problems]


@settings(max_examples=12, deadline=None)
@given(st.dictionaries(TAG_KEY, st.text(max_size=256), max_size=4))
def test_valid_extra_tags_are_accepted_and_kept_as_given(extra):
    assume(not set(extra) & {*REQUIRED, "DeployedAt"})
    config, found = outcome({"tags": {**REQUIRED, **extra}})
    assert found == []
    assert dict(config.tags) == {**REQUIRED, **extra}


@settings(max_examples=10, deadline=None)
@given(TAG_KEY, st.text(min_size=257, max_size=400))
def test_a_tag_value_over_256_characters_is_named_by_its_key(key, value):
    assume(key not in {*REQUIRED, "DeployedAt"})
    _, found = outcome({"tags": {**REQUIRED, key: value}})
    assert found == [f"{NS}:tags.{key}: is longer than 256 characters (text up to 256 characters)"]


INTEGER_LIMITS = [
    # key, lowest and highest value AWS or the guide allows in production
    ("kmsDeletionWindowDays", 30, 30),
    ("dbBackupRetentionDays", 30, 35),
    ("redisNodes", 2, 6),
    ("businessHoursEnd", 9, 24),  # the production stack starts business hours at 8
]


@pytest.mark.parametrize(("key", "low", "high"), INTEGER_LIMITS)
@settings(max_examples=12, deadline=None)
@given(value=st.integers(-50, 100))
def test_an_integer_setting_is_accepted_inside_its_limits_and_named_outside(key, low, high, value):
    _, found = outcome({key: value})
    if low <= value <= high:
        assert found == [], found
    else:
        assert found and all(problem.startswith(f"{NS}:{key}") for problem in found), found


@settings(max_examples=15, deadline=None)
@given(st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_anything_but_an_odd_raft_size_from_3_to_7_is_named(value):
    config, found = outcome({"vaultClusterSize": value})
    if value in (3, 5, 7) and not isinstance(value, bool):
        assert found == [] and config.vault.cluster_size == value
    else:
        assert found and all(problem.startswith(f"{NS}:vaultClusterSize: ") for problem in found), found
