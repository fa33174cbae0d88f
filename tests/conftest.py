"""Shared fixtures: recordings of the whole program under the mocks, one per stack, made once per session."""

import pytest

from tests.support.mocks import Recording, run_program

pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.vault_fixtures",
    "tests.support.openbao_fixtures",
    "tests.support.postgres_fixtures",
    "tests.support.break_glass",
]


@pytest.fixture(scope="session")
def production() -> Recording:
    """The production stack as committed, recorded under the mocks."""
    return run_program("production")


@pytest.fixture(scope="session")
def dev() -> Recording:
    """The dev stack as committed, recorded under the mocks."""
    return run_program("dev")
