"""Pytest fixtures for real OpenBao servers (registered in tests/conftest.py `pytest_plugins`).

- `openbao_dev`: one `bao server -dev` for the session (in memory, KV v2 at `secret/`, root token).
- `openbao_client`: an hvac client with the dev server's root token (a fresh client per test).
- `openbao_cluster`: one initialised 3-node Raft cluster for the session (static seal, TLS, 3 voters).
- `real_vault`: the dev server behind a fresh fault proxy, with a unique path prefix (`RealVault`).
- `openbao_cluster_factory`: `factory(size=3, initialize=True, **init)` builds fresh clusters, each
  destroyed when the test ends; pass `initialize=False` for one that a test initialises itself.
- `openbao_shared_node`: one initialised 1-node cluster per test module; each test calls `.fresh()`, which
  puts it back to how `sys/init` left it (tests/support/openbao_reset.py) and checks that it is.

Tests sharing a session server isolate themselves by path: `unique_path` gives a name no other test uses.
Start-up times are printed in the terminal summary. Tests using any of these fixtures get the `openbao`
marker automatically (`pytest -m openbao` selects them).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import pytest

from tests.support.openbao import OpenBaoCluster, OpenBaoDevServer
from tests.support.openbao_reset import InitialState
from tests.support.real_vault import RealVault
from tests.support.syslog_sink import SyslogSink, syslog_sink
from tests.support.vault_proxy import FaultProxy

STARTUP_TIMES: dict[str, list[float]] = {}


def _record(what: str, seconds: float) -> None:
    STARTUP_TIMES.setdefault(what, []).append(seconds)


@pytest.fixture(scope="session")
def openbao_dev() -> Iterator[OpenBaoDevServer]:
    server = OpenBaoDevServer().start()
    _record("openbao dev server", server.started_in_s)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openbao_client(openbao_dev: OpenBaoDevServer) -> Iterator[hvac.Client]:
    client = openbao_dev.client()
    try:
        yield client
    finally:
        client.adapter.close()


@pytest.fixture
def real_vault(openbao_dev: OpenBaoDevServer, unique_path: str) -> Iterator[RealVault]:
    proxy = FaultProxy(openbao_dev.addr).start()
    try:
        yield RealVault(openbao_dev, proxy, unique_path)
    finally:
        proxy.stop()


@contextlib.contextmanager
def _initialised(size: int, what: str, ready: str) -> Iterator[OpenBaoCluster]:
    """A started and initialised cluster, its start-up times in the summary, destroyed afterwards."""
    cluster = OpenBaoCluster(size)
    try:
        cluster.start_initialized()
        _record(f"{what} (processes up)", cluster.started_in_s)
        _record(f"{what} ({ready})", cluster.initialized_in_s)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def openbao_cluster() -> Iterator[OpenBaoCluster]:
    with _initialised(3, "openbao 3-node cluster", "init to 3 healthy voters") as cluster:
        yield cluster


@pytest.fixture
def openbao_cluster_factory() -> Iterator[Callable[..., OpenBaoCluster]]:
    clusters: list[OpenBaoCluster] = []

    def build(size: int = 3, *, initialize: bool = True, **init: Any) -> OpenBaoCluster:
        cluster = OpenBaoCluster(size)
        clusters.append(cluster)
        cluster.start()
        _record(f"openbao {size}-node cluster, fresh (processes up)", cluster.started_in_s)
        if initialize:
            cluster.initialize(**init)
            _record(f"openbao {size}-node cluster, fresh (init to voters)", cluster.initialized_in_s)
        return cluster

    yield build
    for cluster in clusters:
        cluster.destroy()


class SharedNode:
    """An initialised 1-node cluster shared by a module's tests, and what it held right after init."""

    def __init__(self, cluster: OpenBaoCluster) -> None:
        self.cluster = cluster
        self.initial = InitialState.capture(cluster)

    def fresh(self) -> OpenBaoCluster:
        """The cluster as just initialised: whatever an earlier test made is removed (OpenBaoError if not)."""
        self.initial.restore(self.cluster)
        return self.cluster


@pytest.fixture(scope="module")
def openbao_shared_node() -> Iterator[SharedNode]:
    with _initialised(1, "openbao 1-node cluster, shared by a module", "init to voters") as cluster:
        yield SharedNode(cluster)


@pytest.fixture(scope="session")
def openbao_syslog_session() -> Iterator[SyslogSink]:
    """A socket at /dev/log for the syslog audit device (see tests/support/syslog_sink.py)."""
    with syslog_sink() as sink:
        yield sink


@pytest.fixture
def openbao_syslog(openbao_syslog_session: SyslogSink) -> SyslogSink:
    """The session's syslog sink, bound again if another test session took /dev/log away meanwhile."""
    return openbao_syslog_session.ensure()


@pytest.fixture
def unique_path() -> str:
    """A path segment no other test uses, for tests sharing a session server."""
    return f"t-{uuid.uuid4().hex[:12]}"


REAL_SERVER_FIXTURES = frozenset(
    {
        "openbao_dev",
        "openbao_client",
        "openbao_cluster",
        "openbao_cluster_factory",
        "openbao_shared_node",
        "real_vault",
    }
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a real OpenBao server carries the `openbao` marker, whether or not its module
    says so (before `-m` selects), and only those: a module's unit tests are not counted as real-server."""
    for item in items:
        if REAL_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.openbao)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, hand the start-up times to the controller, which prints the summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["openbao_startup_times"] = STARTUP_TIMES


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker finished; add its start-up times to the summary."""
    for what, times in getattr(node, "workeroutput", {}).get("openbao_startup_times", {}).items():
        STARTUP_TIMES.setdefault(what, []).extend(times)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STARTUP_TIMES:
        return
    terminalreporter.section("real-server start-up times")
    for what, times in STARTUP_TIMES.items():
        spread = f" (n={len(times)}, min {min(times):.2f}s, max {max(times):.2f}s)" if len(times) > 1 else ""
        terminalreporter.write_line(f"{what}: {sum(times) / len(times):.2f}s{spread}")
