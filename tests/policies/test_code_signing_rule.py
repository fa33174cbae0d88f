"""The code-signing rule: its other conditions (first case in test_rule_cases.py) and where it applies."""

import pytest

from tests.policies.cases_code_signing import MORE_CASES, RULE, config, function
from tests.policies.support import DEV, PRODUCTION, check_stack


@pytest.mark.parametrize("case", MORE_CASES, ids=lambda case: f"{case.rule}: {case.expect}")
def test_the_passing_stack_passes(case):
    assert case.run("good") == []


@pytest.mark.parametrize("case", MORE_CASES, ids=lambda case: f"{case.rule}: {case.expect}")
def test_the_violating_stack_is_reported_with_its_own_message(case):
    messages = case.run("bad")
    assert len(messages) == 1, messages
    assert case.expect in messages[0], messages


def test_each_violation_names_the_function():
    (message,) = check_stack(RULE, [config(action="Warn"), function()])
    assert message.startswith("rotation-function: function rotation-function (aws:lambda/function:Function)")


def test_outside_production_unsigned_functions_pass():
    unsigned = function(linked=False, codeSigningConfigArn=None)
    unsigned.props["tags"] = DEV
    assert check_stack(RULE, [unsigned]) == []
    unsigned.props["tags"] = PRODUCTION
    assert check_stack(RULE, [unsigned]) != []
