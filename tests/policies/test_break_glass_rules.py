"""The break-glass rules' other conditions: each case passes one resource and reports one that breaks one
condition with that condition's own message (the first case of each rule is in test_rule_cases.py)."""

import pytest

from tests.policies.cases_break_glass import MORE_CASES


@pytest.mark.parametrize("case", MORE_CASES, ids=lambda case: f"{case.rule}: {case.expect}")
def test_the_passing_resource_passes(case):
    assert case.run("good") == []


@pytest.mark.parametrize("case", MORE_CASES, ids=lambda case: f"{case.rule}: {case.expect}")
def test_the_violating_resource_is_reported(case):
    messages = case.run("bad")
    assert any(case.expect in message for message in messages), messages
