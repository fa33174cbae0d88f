"""`vaultRecoverySharesReaders`, and production's rule that the recovery shares are protected either way.

Each bad case breaks one rule and must produce that rule's problem alone (as in tests/test_config.py).
"""

from __future__ import annotations

import pytest

from tests.test_config import NS, parse, problems

PGP_KEYS = [f"ZXhhbXBsZS1ub3QtYS1rZXkt{index}A==" for index in range(5)]  # base64, obviously fake

BAD = [
    (
        "production with neither readers nor pgp keys",
        {"vaultRecoverySharesReaders": None},
        "vaultRecoverySharesReaders",
        "neither vaultRecoverySharesReaders nor vaultRecoveryPgpKeys is set",
    ),
    (
        "reader not a break-glass person",
        {"vaultRecoverySharesReaders": ["elena", "nobody"]},
        "vaultRecoverySharesReaders[1]",
        "'nobody' is not a person listed in breakGlass",
    ),
    (
        "reader listed twice",
        {"vaultRecoverySharesReaders": ["elena", "tomas", "elena"]},
        "vaultRecoverySharesReaders",
        "lists 'elena' 2 times",
    ),
    (
        "readers while break-glass is off",
        {"breakGlass": {"enabled": False}},
        "vaultRecoverySharesReaders",
        "names readers while break-glass access is off",
    ),
    (
        "reader's role covered by a deployer pattern",
        {"deployerPrincipals": ["candlefish-production-bg-e*"]},
        "vaultRecoverySharesReaders[0]",
        "matches deployerPrincipals ['candlefish-production-bg-e*']",
    ),
    (
        "reader's role covered by a deployer ARN pattern",
        {"deployerPrincipals": ["arn:aws:iam::123456789012:role/*-bg-tomas"]},
        "vaultRecoverySharesReaders[1]",
        "'tomas''s break-glass role candlefish-production-bg-tomas matches deployerPrincipals",
    ),
    (
        "readers not a list",
        {"vaultRecoverySharesReaders": "elena"},
        "vaultRecoverySharesReaders",
        "must be a list of strings",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "key", "words"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_a_bad_setting_is_named_alone_with_what_is_allowed(overrides, key, words):
    found = problems(**overrides)
    matching = [p for p in found if p.startswith(f"{NS}:{key}: ") and words in p]
    assert matching == found, f"want only {key} mentioning {words!r}, got:\n" + "\n".join(found)
    assert all(p.endswith(")") for p in matching), matching


def test_the_production_problem_names_both_ways_out():
    (problem,) = problems(vaultRecoverySharesReaders=None)
    assert "vaultRecoverySharesReaders: people in breakGlass whose MFA roles alone may read" in problem
    assert "vaultRecoveryPgpKeys: five operators' OpenPGP public keys" in problem


def test_the_shipped_production_stack_makes_the_shares_write_only_for_two_security_people():
    access = parse("production").access
    assert access.recovery_share_readers == ("elena", "tomas")
    assert access.recovery_pgp_keys == ()  # never placeholder keys


def test_production_with_pgp_keys_instead_of_readers_is_accepted():
    config = parse("production", {"vaultRecoverySharesReaders": None, "vaultRecoveryPgpKeys": PGP_KEYS})
    assert config.access.recovery_pgp_keys == tuple(PGP_KEYS)
    assert config.access.recovery_share_readers == ()


def test_outside_production_readable_shares_are_accepted():
    assert parse("dev").access.recovery_share_readers == ()
