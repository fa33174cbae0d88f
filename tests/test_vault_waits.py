"""How the bootstrap's waits spell a duration in their messages (the waits themselves run against real
OpenBao in tests/test_vault_waits_real.py and tests/test_vault_bootstrap.py)."""

import pytest

from providers.vault_waits import spell


@pytest.mark.parametrize(
    ("seconds", "spelled"),
    [
        (0.3, "0.3 s"),  # a test's short wait, as configured
        (9.5, "9.5 s"),
        (10.4, "10 s"),  # from 10 s whole seconds: a poll loop's elapsed time is never exact
        (90, "90 s"),
        (119.6, "120 s"),
        (120, "2 min"),  # from two minutes, in minutes
        (600, "10 min"),
    ],
)
def test_a_duration_is_spelled_for_people(seconds, spelled):
    assert spell(seconds) == spelled
