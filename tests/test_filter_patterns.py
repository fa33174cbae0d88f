"""The filter pattern evaluator (tests/support/filter_patterns.py) against AWS's documented examples.

The events and patterns are those of the CloudWatch Logs User Guide's "Using filter patterns to match
terms in JSON log events"; each documented outcome is asserted, so the evaluator the metric filter tests
rely on agrees with the documentation on every construct the project's patterns use.
"""

import json

import pytest

from tests.support.filter_patterns import PatternError, matches, parse

# The guide's first example event (with the `ThisFlag` boolean of its earlier edition).
EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "cluster.name": "c",
    }
)
# The guide's compound-expression example object.
USERS = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)
NUMBERS = json.dumps({"bandwidth": 80, "latency": 20, "refreshRate": 60, "responseTime": 5, "errorCode": 400})

DOCUMENTED = [
    (EVENT, '{ $.eventType = "UpdateTrail" }', True),
    (EVENT, "{ $.sourceIPAddress != 123.123.* }", True),
    (EVENT, "{ $.sourceIPAddress != 111.111.* }", False),
    (EVENT, '{ $.arrayKey[0] = "value" }', True),
    (EVENT, '{ $.arrayKey[1] = "value" }', False),
    (EVENT, "{ $.objectList[1].id = 2 }", True),
    (EVENT, "{ $.objectList[1].number = 2 }", False),
    (EVENT, '{ $.ThisFlag[0] = "value" }', False),
    (EVENT, "{ $.eventType = %Trail% }", True),
    (EVENT, "{ $.arrayKey[*] = %val.{2}% }", True),
    (EVENT, r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", True),
    (EVENT, "{ $.['cluster.name'] = \"c\" }", True),
    (EVENT, "{ $.SomeObject IS NULL }", True),
    (EVENT, "{ $.eventType IS NULL }", False),
    (EVENT, "{ $.SomeOtherObject NOT EXISTS }", True),
    (EVENT, "{ $.eventType NOT EXISTS }", False),
    (EVENT, "{ $.ThisFlag IS TRUE }", True),
    (EVENT, "{ $.ThisFlag IS FALSE }", False),
    (EVENT, '{ $.eventType = "Update*" }', True),
    (EVENT, '{ $.eventType = "*Trail" }', True),
    (EVENT, '{ $.eventType = "Update" }', False),
    (USERS, '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    (
        USERS,
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && '
        '$.actions[2] = "nonmatch" }',
        True,
    ),
    (
        USERS,
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && '
        '$.actions[2] = "nonmatch" }',
        False,
    ),
    (USERS, '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
    (USERS, "{ $.coordinates[1][0] = 4 }", True),
    (NUMBERS, "{ $.bandwidth > 75 }", True),
    (NUMBERS, "{ $.latency < 50 }", True),
    (NUMBERS, "{ $.refreshRate >= 60 }", True),
    (NUMBERS, "{ $.responseTime <= 5 }", True),
    (NUMBERS, "{ $.errorCode = 400 }", True),
    (NUMBERS, "{ $.errorCode != 500 }", True),
    (NUMBERS, "{ $.errorCode != 400 }", False),
    (NUMBERS, "{ $.bandwidth > 1e+3 }", False),
]


@pytest.mark.parametrize(("event", "pattern", "expected"), DOCUMENTED, ids=[c[1] for c in DOCUMENTED])
def test_documented_examples_match_as_documented(event, pattern, expected):
    assert matches(pattern, event) is expected


def test_a_selector_at_an_object_or_array_never_matches():
    assert not matches('{ $.user = "*" }', USERS)
    assert not matches('{ $.actions != "GET" }', USERS)


def test_comparisons_on_a_missing_field_are_false_whatever_the_operator():
    assert not matches('{ $.missing = "*" }', EVENT)
    assert not matches('{ $.missing != "x" }', EVENT)
    assert not matches("{ $.missing > 1 }", EVENT)


def test_a_message_that_is_not_json_never_matches():
    assert not matches('{ $.eventType = "UpdateTrail" }', 'eventType = "UpdateTrail"')


def test_wildcards_match_across_newlines_and_quoted_strings_may_hold_spaces():
    event = json.dumps({"error": "1 error occurred:\n\t* permission denied\n\n"})
    assert matches('{ $.error = "*permission denied*" }', event)
    assert not matches('{ $.error = "permission denied" }', event)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (
            '{ $.users[*].id = 2 || $.actions[*] = "GET" || $.coordinates[*][0] = 4 '
            "|| $.objectList[*].id = 1 }",
            "wildcard selectors",
        ),
        ("{ $.coordinates[*][*] = 4 }", "more than one wildcard"),
        ("{ $.a = %x% || $.b = %y% || $.c = %z% }", "regular expressions"),
        ("{ $.a = %(ab)+% }", "does not support"),
        ("{ $.a = %a!% }", "does not support"),
        ('{ $.a = "x" ', "expected }"),
        ('$.a = "x"', "expected {"),
        ('{ $.a "x" }', "expected op"),
        ('{ $.a > "x" }', "compares numbers only"),
        ("{ $.a IS MAYBE }", "IS takes TRUE, FALSE or NULL"),
        ('{ a = "x" }', "expected selector"),
        ('{ $.a = "x" } extra', "after the closing"),
    ],
)
def test_invalid_patterns_and_broken_quotas_are_errors(pattern, problem):
    with pytest.raises(PatternError, match=problem):
        parse(pattern)
