"""Every rule of the pack, called directly with a resource (or stack) that passes and one that violates it."""

import pytest

from policies.rules import ALL_POLICIES
from tests.policies import (
    cases_break_glass,
    cases_code_signing,
    cases_encryption,
    cases_exposure,
    cases_hardening,
    cases_identity,
    cases_secrets_tags,
    cases_vault,
)

CASES = [
    *cases_encryption.CASES,
    *cases_exposure.CASES,
    *cases_hardening.CASES,
    *cases_identity.CASES,
    *cases_vault.CASES,
    *cases_secrets_tags.CASES,
    *cases_break_glass.CASES,
    *cases_code_signing.CASES,
]
# Further cases of rules that already have one above, each breaking another single condition.
MORE_CASES = [*cases_exposure.MORE_CASES, *cases_hardening.MORE_CASES, *cases_identity.MORE_CASES]


@pytest.mark.parametrize("case", CASES + MORE_CASES, ids=lambda case: case.rule)
def test_the_passing_resource_passes(case):
    assert case.run("good") == []


@pytest.mark.parametrize("case", CASES + MORE_CASES, ids=lambda case: case.rule)
def test_the_violating_resource_is_reported(case):
    messages = case.run("bad")
    assert any(case.expect in message for message in messages), messages


def test_every_rule_has_both_cases():
    assert sorted(case.rule for case in CASES) == sorted(policy.name for policy in ALL_POLICIES)
