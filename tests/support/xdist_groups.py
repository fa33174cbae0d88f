"""How `make test` splits the suite over pytest-xdist workers (`-n 2 --dist loadfile`; registered in
tests/conftest.py `pytest_plugins`).

- Each test file goes to one worker, so a module's fixtures (a snapshot, a recording, a shared cluster) are
  made once; session fixtures (the OpenBao dev server and 3-node cluster, PostgreSQL, moto) start once on
  each worker that needs them.
- The files whose tests need the /dev/log syslog sink (the `openbao_syslog` fixtures: the bootstrap's
  syslog audit device writes there) are one
  group, DEV_LOG_FILES, run by one worker: /dev/log is one path per machine, and two workers' sinks would
  take it from each other. A test using those fixtures in a file not listed there stops the run at
  collection, naming the file.
- On a worker the files are queued longest first, roughly: the DEV_LOG_FILES group (about a third of the
  suite's time), then files with `slow` tests, then the rest in collection order, so no long file is left
  for the end while the other worker idles. Without xdist, pytest's usual order is kept.

pytest-xdist 3.8's own `--dist loadgroup` cannot be used: it renames each test's node id to carry its group,
which pytest 9 no longer lets a plugin do, so its groups are silently ignored.
"""

from __future__ import annotations

from typing import Any

import pytest

DEV_LOG_GROUP = "dev-log"
DEV_LOG_FIXTURES = frozenset({"openbao_syslog", "openbao_syslog_session"})
DEV_LOG_FILES = frozenset(
    {
        "tests/test_provider_faults.py",
        "tests/test_syslog_sink.py",
        "tests/test_vault_bootstrap.py",
        "tests/test_vault_bootstrap_faults_real.py",
        "tests/test_vault_bootstrap_real.py",
        "tests/test_vault_bootstrap_write_only_real.py",
    }
)


def group_of(nodeid: str) -> str:
    """The unit one worker runs: the test's file, or DEV_LOG_GROUP for the files that need /dev/log."""
    path = nodeid.split("::", 1)[0]
    return DEV_LOG_GROUP if path in DEV_LOG_FILES else path


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    strays = sorted(
        {
            item.nodeid.split("::", 1)[0]
            for item in items
            if DEV_LOG_FIXTURES & set(getattr(item, "fixturenames", ()))
            and group_of(item.nodeid) != DEV_LOG_GROUP
        }
    )
    if strays:
        raise pytest.UsageError(
            f"{', '.join(strays)} use the /dev/log syslog sink: add them to DEV_LOG_FILES in "
            "tests/support/xdist_groups.py so that one pytest-xdist worker runs every such test"
        )
    if not hasattr(config, "workerinput"):  # not an xdist worker: keep the usual order
        return
    slow = {group_of(item.nodeid) for item in items if item.get_closest_marker("slow")}

    def rank(group: str) -> int:
        return 0 if group == DEV_LOG_GROUP else 1 if group in slow else 2

    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (rank(group_of(item.nodeid)), order[id(item)]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist loadfile`: one work unit per file, the DEV_LOG_FILES together, in the workers' order."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class FileGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False  # keep the order the workers chose (see the module docstring)
    return FileGroups(config, log)
