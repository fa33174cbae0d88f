"""Metric filter patterns and Logs Insights queries, run against sample audit and rotation lines.

Each metric filter is run over every sample line: the ones listed must match, every other one (the near
misses are chosen to look alike) must not. Each saved query is validated and run over the sample events.
"""

import json
import re

import pytest

from components.monitoring import audit_filters
from components.monitoring.audit_filters import (
    BREAK_GLASS_USE,
    FAILED_AUTHENTICATIONS,
    PERMISSION_DENIED,
    ROOT_TOKEN_USE,
    ROTATION_FAILURES,
    metric_filters,
    secret_read_filter,
    watcher_subscription_pattern,
)
from lambdas.audit_watcher import handler as watcher
from tests.support.audit_samples import AUDIT, ROTATION, audit_entry, line
from tests.support.filter_patterns import matches as pattern_matches
from tests.support.filter_patterns import parse
from tests.support.insights import InsightsError, check, event_fields

SECRET_READS = {
    "app reads a catalog secret",
    "break-glass token reads a secret",
    "auditor with a look-alike policy",
    "rotation reads a secret at night",
}
EXPECTED = {
    FAILED_AUTHENTICATIONS.key: {
        "userpass login with a wrong password",
        "approle login with a bad secret id",
    },
    PERMISSION_DENIED.key: {
        "app is denied a catalog secret",
        "admin denied updating the user named login",
        "token lookup with a revoked token",
    },
    BREAK_GLASS_USE.key: {"break-glass token reads a secret"},
    ROOT_TOKEN_USE.key: {"root token lists mounts"},
    "reads-secret-data-candlefish": SECRET_READS,
}
AUDIT_FILTERS = [spec for spec in metric_filters(["secret/data/candlefish/"]) if spec.source == "audit"]


def matching(pattern, samples):
    return {name for name, message in samples.items() if pattern_matches(pattern, message)}


AUDIT_LINES = {name: line(entry) for name, entry in AUDIT.items()}


@pytest.mark.parametrize("spec", AUDIT_FILTERS, ids=[spec.key for spec in AUDIT_FILTERS])
def test_each_audit_filter_matches_its_samples_and_no_near_miss(spec):
    assert matching(spec.pattern, AUDIT_LINES) == EXPECTED[spec.key]


def test_every_audit_filter_has_expectations():
    assert {spec.key for spec in AUDIT_FILTERS} == set(EXPECTED)


def test_rotation_failures_match_only_the_structured_event():
    assert matching(ROTATION_FAILURES.pattern, ROTATION) == {"rotation failed"}
    # Audit lines never match the rotation pattern, nor rotation lines the audit ones.
    assert matching(ROTATION_FAILURES.pattern, AUDIT_LINES) == set()
    for spec in AUDIT_FILTERS:
        assert matching(spec.pattern, ROTATION) == set()


def test_a_root_token_without_token_policies_is_still_caught():
    entry = audit_entry(display_name="root", policies=["root"], path="sys/audit", mount_type="system")
    del entry["auth"]["token_policies"]
    assert pattern_matches(ROOT_TOKEN_USE.pattern, line(entry))


def test_failed_logins_on_nested_paths_and_successful_ones_are_told_apart():
    def login(path, error=None):
        entry = audit_entry(operation="update", path=path, error=error, mount_type="ldap")
        return pattern_matches(FAILED_AUTHENTICATIONS.pattern, line(entry))

    assert login("auth/ldap/login/bob", error="invalid credentials")
    assert not login("auth/ldap/login/bob")
    assert not login("sys/auth/ldap/login", error="invalid credentials")


def test_each_prefix_gets_its_own_metric_and_pattern():
    payments = secret_read_filter("secret/data/payments/")
    assert payments.metric == "SecretReads/secret/data/payments"
    assert payments.key == "reads-secret-data-payments"
    assert matching(payments.pattern, AUDIT_LINES) == {"app reads another team's secret"}


def test_the_watcher_subscription_selects_reads_under_any_prefix():
    pattern = watcher_subscription_pattern(["secret/data/candlefish/", "secret/data/payments/"])
    assert matching(pattern, AUDIT_LINES) == SECRET_READS | {"app reads another team's secret"}
    single = watcher_subscription_pattern(["secret/data/candlefish/"])
    assert matching(single, AUDIT_LINES) == SECRET_READS


def test_patterns_stay_within_cloudwatch_limits():
    ten = [f"secret/data/team{index}/" for index in range(10)]
    for pattern in [spec.pattern for spec in metric_filters(ten)] + [watcher_subscription_pattern(ten)]:
        assert len(pattern) <= 1024
        parse(pattern)  # raises on a broken quota (wildcards, regexes)


# --- Logs Insights queries ---------------------------------------------------------------------------


def audit_events():
    return [event_fields(line(entry), entry["time"]) for entry in AUDIT.values()]


def rotation_events():
    return [event_fields(message) for message in ROTATION.values()]


def watcher_events(capsys):
    """The watcher's own log lines, as its handler prints them."""
    watcher.log(
        "off_hours_secret_read",
        path="secret/data/candlefish/mongodb/connection",
        display_name="userpass-oncall-alice",
        accessor="hmac-sha256:0f",
        remote_address="10.0.1.37",
        policies=["default", "break-glass"],
        time="2026-03-29T03:12:44+00:00",
        local_time="2026-03-28T23:12:44-04:00",
        weekday="Sat",
    )
    watcher.log(
        "audit_batch", log_group="/candlefish/production/vault/audit", events=3, secret_reads=1, off_hours=1
    )
    return [event_fields(text) for text in capsys.readouterr().out.splitlines()]


def test_secret_access_patterns_count_reads_by_path_and_identity():
    rows = check(audit_filters.SECRET_ACCESS_PATTERNS.query, audit_events())
    counted = {(row["request.path"], row["auth.display_name"]): row["reads"] for row in rows}
    assert counted == {
        ("secret/data/candlefish/jwt/secret", "approle-candlefish-app"): 1,
        ("secret/data/payments/stripe", "approle-candlefish-app"): 1,
        ("secret/data/candlefish/mongodb/connection", "userpass-oncall-alice"): 1,
        ("secret/data/candlefish/jwt/secret", "userpass-auditor"): 1,
        ("secret/data/candlefish/jwt/secret", "aws-candlefish-production-secret-rotation"): 1,
    }


def test_secret_reads_by_hour_bins_on_the_timestamp():
    rows = check(audit_filters.SECRET_READS_BY_HOUR.query, audit_events())
    assert sum(row["reads"] for row in rows) == 5
    assert {row["bin(1h)"] for row in rows} >= {"2026-03-29T03", "2026-03-30T14"}


def test_unauthorised_access_lists_failed_logins_and_denials():
    rows = check(audit_filters.UNAUTHORISED_ACCESS.query, audit_events())
    assert {row["request.path"] for row in rows} == {
        "auth/userpass/login/alice",
        "auth/approle/login",
        "secret/data/candlefish/encryption/key",
        "auth/userpass/users/login",
        "auth/token/lookup-self",
    }


def test_break_glass_activations_find_only_break_glass_tokens():
    rows = check(audit_filters.BREAK_GLASS_ACTIVATIONS.query, audit_events())
    assert [(row["auth.display_name"], row["request.path"]) for row in rows] == [
        ("userpass-oncall-alice", "secret/data/candlefish/mongodb/connection")
    ]


def test_break_glass_activations_name_the_request_and_accessor_of_a_brokered_token():
    request_id = "0123456789abcdef0123456789abcdef"
    brokered = audit_entry(
        display_name=f"token-break-glass-{request_id}",
        policies=["break-glass"],
        path="sys/mounts",
        mount_type="system",
        mount_point="sys/",
    )
    rows = check(
        audit_filters.BREAK_GLASS_ACTIVATIONS.query, [event_fields(line(brokered), brokered["time"])]
    )
    assert [(row["break_glass_request"], row["auth.accessor"]) for row in rows] == [
        (request_id, brokered["auth"]["accessor"])
    ]


def test_rotation_failures_show_secret_step_and_error():
    rows = check(audit_filters.ROTATION_FAILURE_LOG.query, rotation_events())
    assert [(row["secret"], row["step"], row["error"]) for row in rows] == [
        ("jwt-secret", "setSecret", "RotationError")
    ]


def test_off_hours_reads_come_from_the_watchers_log(capsys):
    rows = check(audit_filters.OFF_HOURS_READS.query, watcher_events(capsys))
    assert [(row["display_name"], row["weekday"]) for row in rows] == [("userpass-oncall-alice", "Sat")]


def test_every_saved_query_is_checked_against_its_source():
    sources = {query.source for query in audit_filters.QUERIES}
    assert sources == {"audit", "rotation", "watcher"}
    assert len({query.key for query in audit_filters.QUERIES}) == len(audit_filters.QUERIES)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("fields request.path | display request.path", "'display' is not a supported command"),
        ("fields request.paht", "nothing provides: request.paht"),
        ("stats count(*) as n by request.path | sort reads desc", "nothing provides: reads"),
        ("filter request.path like /unclosed", "unterminated /"),
        ("filter request.path like /a(b/", "bad regular expression"),
        ("stats median(request.path)", "not a supported stats function"),
        ("fields request.path | limit 0", "not a count from 1 to 10000"),
        ("parse @message /no groups/", "names no (?<field>...) group"),
        ("filter type = ", "expected"),
        ("fields request.path || limit 5", "empty command"),
        ("stats count(*) by bin(60)", "needs a unit"),
    ],
)
def test_the_query_checker_rejects_what_logs_insights_would(query, problem):
    with pytest.raises(InsightsError, match=re.escape(problem)):
        check(query, audit_events())


def test_parse_defines_fields_later_commands_may_read():
    rows = check(
        'parse @message /"display_name":"(?<who>[^"]+)"/ | filter who = "root" | fields who',
        audit_events(),
    )
    assert [row["who"] for row in rows] == ["root"]
    assert json.loads(rows[0]["@message"])["request"]["path"] == "sys/mounts"
