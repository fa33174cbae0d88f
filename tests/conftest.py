"""Shared fixtures: recordings of the whole program under the mocks, one per stack, made once per session."""

import os
from collections.abc import Mapping

import pytest

from tests.support.mocks import Recording, run_program

pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.openbao_fixtures",
    "tests.support.postgres_fixtures",
    "tests.support.break_glass",
    "tests.support.xdist_groups",
]


@pytest.fixture(scope="session")
def production() -> Recording:
    """The production stack as committed, recorded under the mocks."""
    return run_program("production")


@pytest.fixture(scope="session")
def dev() -> Recording:
    """The dev stack as committed, recorded under the mocks."""
    return run_program("dev")


# Opt-in tests against a real Vault or a real AWS account (`-m integration`). Without what they need they are
# skipped, and pytest's summary (`-ra`) lists each one as skipped with the reason: never counted as a pass.
INTEGRATION_NEEDS = {
    "vault": (("VAULT_ADDR", "VAULT_TOKEN"), "set VAULT_ADDR and VAULT_TOKEN to run it against a real Vault"),
    "aws": (
        (
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ),
        "provide AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) to run it against a real AWS account",
    ),
}


def integration_skip_reason(target: str, environ: Mapping[str, str]) -> str | None:
    """Why an integration test against `target` ("vault" or "aws") cannot run here, or None if it can."""
    names, how = INTEGRATION_NEEDS[target]
    if target == "vault":
        present = all(environ.get(name) for name in names)
    else:  # any one source of credentials; never a local endpoint such as the moto server's
        present = any(environ.get(name) for name in names) and not environ.get("AWS_ENDPOINT_URL")
    return None if present else f"integration ({target}): {how}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("integration")
        if marker is None:
            continue
        target = str(marker.kwargs.get("target", ""))
        if target not in INTEGRATION_NEEDS:
            raise pytest.UsageError(
                f"{item.nodeid}: mark integration tests with target='vault' or target='aws'"
            )
        reason = integration_skip_reason(target, os.environ)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
