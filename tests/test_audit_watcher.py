"""The audit watcher: business hours across DST transitions, subscription payloads, and the whole function."""

import base64
import datetime
import gzip
import json
import zoneinfo

import boto3
import pytest

from components.config.monitoring import zone_file
from lambdas.audit_watcher import handler
from lambdas.audit_watcher.business_hours import BusinessHours, load_zone, parse_days
from lambdas.audit_watcher.events import AuditEvent, audit_events, decode_subscription, secret_read
from tests.support.audit_samples import AUDIT, audit_entry, line

UTC = datetime.UTC
WEEKDAYS = frozenset(range(5))
PREFIXES = ("secret/data/candlefish/",)


def shipped(zone: str):
    """The compiled zone file the function is shipped with (components/config_monitoring.zone_file)."""
    found = zone_file(zone)
    assert found is not None, f"this machine's tz database lacks {zone}"
    return found


def hours(zone: str, start: int = 8, end: int = 18) -> BusinessHours:
    return BusinessHours(load_zone(zone, shipped(zone)), WEEKDAYS, start, end)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


# (zone, UTC instant, in business hours?, why). 2026: Europe/London moves to BST on 29 March and back on
# 25 October; America/New_York moves to EDT on 8 March and back on 1 November.
DST_CASES = [
    ("Europe/London", "2026-03-27 07:30", False, "Friday before spring forward: 07:30 GMT"),
    ("Europe/London", "2026-03-30 07:30", True, "Monday after spring forward: 08:30 BST"),
    ("Europe/London", "2026-03-30 16:59", True, "17:59 BST, the last in-hours minute"),
    ("Europe/London", "2026-03-30 17:00", False, "18:00 BST, end hour is exclusive"),
    ("Europe/London", "2026-03-29 00:59", False, "Sunday 00:59 GMT, a minute before the jump"),
    ("Europe/London", "2026-10-23 07:30", True, "Friday before fall back: 08:30 BST"),
    ("Europe/London", "2026-10-26 07:30", False, "Monday after fall back: 07:30 GMT"),
    ("Europe/London", "2026-10-26 08:00", True, "08:00 GMT"),
    ("America/New_York", "2026-03-06 12:30", False, "Friday before spring forward: 07:30 EST"),
    ("America/New_York", "2026-03-09 12:30", True, "Monday after spring forward: 08:30 EDT"),
    ("America/New_York", "2026-03-09 22:30", False, "18:30 EDT"),
    ("America/New_York", "2026-10-30 21:59", True, "Friday 17:59 EDT"),
    ("America/New_York", "2026-11-02 12:30", False, "Monday after fall back: 07:30 EST"),
    ("America/New_York", "2026-11-02 13:00", True, "08:00 EST"),
    ("America/New_York", "2026-11-01 05:30", False, "01:30 EDT, the first of the repeated hour (Sunday)"),
    ("America/New_York", "2026-11-01 06:30", False, "01:30 EST, the second of the repeated hour"),
    ("America/New_York", "2026-03-10 03:30", False, "Monday 23:30 EDT although Tuesday in UTC"),
]


@pytest.mark.parametrize(("zone", "instant", "inside", "why"), DST_CASES, ids=[c[3] for c in DST_CASES])
def test_business_hours_follow_the_zone_across_dst(zone, instant, inside, why):
    assert hours(zone).contains(at(instant)) is inside, why


def test_the_repeated_hour_is_told_apart_by_offset():
    new_york = hours("America/New_York")
    first, second = new_york.local(at("2026-11-01 05:30")), new_york.local(at("2026-11-01 06:30"))
    assert (first.hour, second.hour) == (1, 1)
    assert (first.utcoffset(), second.utcoffset()) == (
        datetime.timedelta(hours=-4),
        datetime.timedelta(hours=-5),
    )


def test_shipped_zone_file_and_runtime_zone_agree():
    packaged = load_zone("Europe/London", shipped("Europe/London"))
    runtime = load_zone("Europe/London", shipped("Europe/London").with_name("missing.tzif"))
    assert isinstance(runtime, zoneinfo.ZoneInfo)
    for instant in ("2026-03-29 00:59", "2026-03-29 01:00", "2026-10-25 00:59", "2026-10-25 01:00"):
        assert at(instant).astimezone(packaged).utcoffset() == at(instant).astimezone(runtime).utcoffset()


def test_naive_moments_are_refused():
    with pytest.raises(ValueError, match="aware"):
        hours("UTC").contains(datetime.datetime(2026, 3, 30, 9))


def test_days_parse_and_unknown_names_fail():
    assert parse_days("Mon, Tue,Sun") == frozenset({0, 1, 6})
    with pytest.raises(ValueError, match="Tues"):
        parse_days("Mon,Tues")


def subscription_event(messages, *, log_group="/candlefish/production/vault/audit", kind="DATA_MESSAGE"):
    """What CloudWatch Logs hands a subscribed function: base64 of gzip of the JSON document."""
    document = {
        "messageType": kind,
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "i-0a1b2c3d4e5f60718",
        "subscriptionFilters": ["candlefish-production-audit-watcher"],
        "logEvents": [
            {"id": f"3795{index:052d}", "timestamp": 1774879509000 + index, "message": message}
            for index, message in enumerate(messages)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
    return {"awslogs": {"data": data}}


def test_subscription_payload_is_decoded():
    event = subscription_event([line(AUDIT["app reads a catalog secret"]), "not json"])
    document = decode_subscription(event)
    assert document["logGroup"] == "/candlefish/production/vault/audit"
    events = list(audit_events(document))
    assert [e.message for e in events][1] == "not json"
    assert events[0].timestamp_ms == 1774879509000


def test_control_messages_carry_no_events():
    document = decode_subscription(
        subscription_event(["CWL CONTROL MESSAGE: Checking health"], kind="CONTROL_MESSAGE")
    )
    assert list(audit_events(document)) == []


SECRET_READS = {
    "app reads a catalog secret",
    "break-glass token reads a secret",
    "auditor with a look-alike policy",
    "rotation reads a secret at night",
}


@pytest.mark.parametrize("name", sorted(AUDIT))
def test_only_successful_reads_under_a_prefix_are_secret_reads(name):
    found = secret_read(AuditEvent(0, line(AUDIT[name])), PREFIXES)
    assert (found is not None) is (name in SECRET_READS)


def test_a_secret_read_carries_who_and_when_from_the_entry():
    read = secret_read(AuditEvent(0, line(AUDIT["break-glass token reads a secret"])), PREFIXES)
    assert read is not None
    assert read.path == "secret/data/candlefish/mongodb/connection"
    assert read.display_name == "userpass-oncall-alice"
    assert read.policies == ("default", "break-glass")
    assert read.moment == datetime.datetime(2026, 3, 29, 3, 12, 44, tzinfo=UTC)


def test_entries_without_a_usable_time_fall_back_to_the_event_timestamp():
    entry = audit_entry(time="yesterday")
    read = secret_read(AuditEvent(1774879509000, line(entry)), PREFIXES)
    assert read is not None
    assert read.moment == datetime.datetime.fromtimestamp(1774879509, tz=UTC)


@pytest.fixture
def watcher_env(monkeypatch):
    monkeypatch.setenv("BUSINESS_TIMEZONE", "America/New_York")
    monkeypatch.setenv("BUSINESS_DAYS", "Mon,Tue,Wed,Thu,Fri")
    monkeypatch.setenv("BUSINESS_START_HOUR", "8")
    monkeypatch.setenv("BUSINESS_END_HOUR", "18")
    monkeypatch.setenv("READ_PREFIXES", "secret/data/candlefish/")
    monkeypatch.setenv("EXEMPT_POLICIES", "rotation")
    monkeypatch.setenv("METRIC_NAMESPACE", "Candlefish/VaultAudit/test")
    handler.settings.cache_clear()
    yield
    handler.settings.cache_clear()


def read_at(time: str):
    read = secret_read(AuditEvent(0, line(audit_entry(time=time))), PREFIXES)
    assert read is not None
    return read


def test_metric_data_counts_reads_per_minute():
    times = ("2026-03-29T03:12:44Z", "2026-03-29T03:12:59Z", "2026-03-29T03:14:01Z")
    data = handler.metric_data([read_at(time) for time in times])
    assert [(d["Timestamp"].minute, d["Value"]) for d in data] == [(12, 2.0), (14, 1.0)]
    assert {d["MetricName"] for d in data} == {"OffHoursSecretReads"}


@pytest.mark.slow
def test_the_function_publishes_out_of_hours_reads_and_logs_each(aws, watcher_env, capsys):
    messages = [line(entry) for entry in AUDIT.values()]
    result = handler.lambda_handler(subscription_event(messages), None)
    # Secret reads: the app at 10:05 EDT Monday (in hours), break-glass on Saturday night, the look-alike
    # auditor (in hours), rotation at 22:00 (out of hours but exempt). Only break-glass counts.
    assert result == {"events": len(messages), "secretReads": 4, "offHours": 1}
    lines = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    reported = [entry for entry in lines if entry["event"] == "off_hours_secret_read"]
    assert len(reported) == 1
    assert reported[0]["path"] == "secret/data/candlefish/mongodb/connection"
    assert reported[0]["local_time"].startswith("2026-03-28T23:12:44")
    assert reported[0]["weekday"] == "Sat"
    assert lines[-1]["event"] == "audit_batch"

    cloudwatch = boto3.client("cloudwatch")
    stats = cloudwatch.get_metric_statistics(
        Namespace="Candlefish/VaultAudit/test",
        MetricName="OffHoursSecretReads",
        StartTime=datetime.datetime(2026, 3, 29, 3, 0, tzinfo=UTC),
        EndTime=datetime.datetime(2026, 3, 29, 4, 0, tzinfo=UTC),
        Period=3600,
        Statistics=["Sum"],
    )
    assert [point["Sum"] for point in stats["Datapoints"]] == [1.0]


@pytest.mark.slow
def test_in_hours_batches_publish_nothing(aws, watcher_env):
    result = handler.lambda_handler(subscription_event([line(AUDIT["app reads a catalog secret"])]), None)
    assert result["offHours"] == 0
    assert boto3.client("cloudwatch").list_metrics(Namespace="Candlefish/VaultAudit/test")["Metrics"] == []
