"""The whole text of config problems whose wording is the instruction, and the defaults of settings a stack
may leave unset. tests/test_config.py checks that each mistake names its key with words of its problem;
here the exact line a person reads is pinned: what is wrong, then in brackets what is allowed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_config import NS, parse, problems


def exact(name: str, stack: str, overrides: dict[str, Any], *lines: str) -> Any:
    return pytest.param(stack, overrides, [f"{NS}:{line}" for line in lines], id=name)


EXACT = [
    exact(
        "recovery share readers while break-glass is off",
        "production",
        {"breakGlass": {"enabled": False}},
        "vaultRecoverySharesReaders: names readers while break-glass access is off: they read the shares "
        "through their break-glass roles (breakGlass.enabled true (with the readers listed there), or no "
        "readers)",
    ),
    exact(
        "recovery share reader not a break-glass person",
        "production",
        {"vaultRecoverySharesReaders": ["elena", "nobody"]},
        "vaultRecoverySharesReaders[1]: 'nobody' is not a person listed in breakGlass (one of elena, marcus, "
        "priya, tomas)",
    ),
    exact(
        "dev mode in production",
        "production",
        {"enableDevMode": True},
        "enableDevMode: dev mode keeps everything in memory, unsealed (false in production)",
    ),
    exact(
        "cross-region unseal accepted where it does not apply",
        "dev",
        {"drAcceptNoCrossRegionUnseal": True},
        "drAcceptNoCrossRegionUnseal: only applies to an HSM-backed stack with drRegion set (leave it unset)",
    ),
    exact(
        "business days not a list",
        "production",
        {"businessDays": "Mon"},
        "businessDays: must be a list of strings (day names Mon to Sun)",
    ),
    exact(
        "off-hours exempt policies not a list",
        "production",
        {"offHoursExemptPolicies": "rotation"},
        "offHoursExemptPolicies: must be a list of strings (Vault policy names of automation that reads at "
        "any hour, e.g. rotation)",
    ),
    exact(
        "private subnets not a list",
        "production",
        {"privateSubnetCidrs": "10.0.0.0/24"},
        "privateSubnetCidrs: must be a list of strings (one CIDR block per availability zone)",
        "privateSubnetCidrs: has 0 block(s) for 3 zone(s) (one block per availability zone)",
    ),
    exact(
        "one private subnet for three zones",
        "production",
        {"privateSubnetCidrs": ["10.0.0.0/24"]},
        "privateSubnetCidrs: has 1 block(s) for 3 zone(s) (one block per availability zone)",
    ),
    exact(
        # A refused key list is not reported a second time as "neither readers nor keys".
        "pgp keys not a list, no readers",
        "production",
        {"vaultRecoverySharesReaders": None, "vaultRecoveryPgpKeys": "example-not-a-key"},
        "vaultRecoveryPgpKeys: must be a list of strings (base64 OpenPGP public keys)",
    ),
    exact("no catalog", "production", {"catalog": None}, "catalog: is required but not set (an object)"),
]


@pytest.mark.parametrize(("stack", "overrides", "expected"), EXACT)
def test_a_problem_reads_exactly_as_the_instruction_it_is(stack, overrides, expected):
    assert problems(stack, **overrides) == expected


# --- what a stack gets for a setting it leaves unset -----------------------------------------------------


def test_lambda_code_signing_unset_is_enforced_in_production_and_off_elsewhere():
    assert parse("production", {"lambdaCodeSigning": None}).code_signing == "enforce"
    assert parse("dev", {"lambdaCodeSigning": None}).code_signing == "off"


def test_redis_auth_rotation_unset_is_monthly_in_production_and_quarterly_elsewhere():
    assert parse("production", {"redisAuthRotationDays": None}).database.redis.auth_rotation_days == 30
    assert parse("dev", {"redisAuthRotationDays": None}).database.redis.auth_rotation_days == 90


def test_an_application_is_kept_with_its_role_and_paths():
    config = parse(
        "dev", {"vaultApplications": {"billing": {"role": "billing-service", "paths": ["billing/db"]}}}
    )
    [application] = config.access.applications
    assert (application.name, application.role, application.paths) == (
        "billing",
        "billing-service",
        ("billing/db",),
    )


def test_deployer_principals_are_kept_as_listed():
    listed = ["ci-deploy", "arn:aws:iam::123456789012:role/ops-*"]
    assert parse("production", {"deployerPrincipals": listed}).access.deployer_principals == tuple(listed)
