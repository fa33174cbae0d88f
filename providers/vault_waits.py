"""Bounded waits for a Vault cluster coming up: answering, unsealed, led, every raft peer joined and a voter.

Each wait polls until its condition holds or its time runs out, then raises a `BootstrapError` that says
what was last seen and what to check. Time limits and the poll interval are inputs (`Waits`), so tests
run them in fractions of a second. Polls use the client given; errors while polling (connection refused,
503, timeouts) count as "not yet", and the last one is quoted when time runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from providers import common
from providers.common import BootstrapError

READY_TIMEOUT_S = 600.0
UNSEAL_TIMEOUT_S = 600.0
LEADER_TIMEOUT_S = 300.0
PEERS_TIMEOUT_S = 600.0
POLL_INTERVAL_S = 5.0
# sys/health answers 200 in every state we wait through, so a 5xx means "no node behind the LB yet".
HEALTH_QUERY = {"uninitcode": "200", "sealedcode": "200", "standbyok": "true", "perfstandbyok": "true"}

T = TypeVar("T")


@dataclass(frozen=True)
class Waits:
    """How long each wait may take, and how often it polls (seconds)."""

    ready_s: float = READY_TIMEOUT_S
    unseal_s: float = UNSEAL_TIMEOUT_S
    leader_s: float = LEADER_TIMEOUT_S
    peers_s: float = PEERS_TIMEOUT_S
    poll_s: float = POLL_INTERVAL_S

    @classmethod
    def from_props(cls, given: Mapping[str, Any] | None) -> Waits:
        known = {field.name for field in fields(cls)}
        return cls(**{name: float(value) for name, value in (given or {}).items() if name in known})


def spell(seconds: float) -> str:
    """A duration for humans: "10 min", "90 s", "0.3 s"."""
    if seconds >= 120:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s" if seconds < 10 else f"{round(seconds)} s"


def poll(probe: Callable[[], tuple[bool, T]], timeout_s: float, interval_s: float) -> tuple[bool, T]:
    """Call `probe` until it reports done or `timeout_s` passes; returns (done, last observation)."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, seen = probe()
        remaining = deadline - time.monotonic()
        if done or remaining <= 0:
            return done, seen
        time.sleep(min(interval_s, remaining))


def _describe(error: Exception) -> str:
    """What went wrong with a poll, briefly: the kind of failure, not the whole urllib3 story."""
    import requests  # noqa: PLC0415

    if common.timed_out(error):
        return "no answer before the request timed out"
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS failed: the certificate is not signed by the cluster CA"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "connection failed (refused, reset or no route)"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}{': ' + text[:160] if text else ''}"


def _health(client: Any) -> dict[str, Any]:
    answer = client.adapter.get("/v1/sys/health", params=HEALTH_QUERY, raise_exception=False)
    if not isinstance(answer, dict) or "initialized" not in answer:
        status = getattr(answer, "status_code", "?")
        raise ConnectionError(f"sys/health answered {status} without a health document")
    return answer


def wait_until_answering(client: Any, address: str, waits: Waits) -> dict[str, Any]:
    """The health document once some node answers (initialised or not, sealed or not)."""

    def probe() -> tuple[bool, Any]:
        try:
            return True, _health(client)
        except Exception as error:
            return False, _describe(error)

    done, seen = poll(probe, waits.ready_s, waits.poll_s)
    if not done:
        raise BootstrapError(
            f"Vault at {address} did not answer within {spell(waits.ready_s)} (last: {seen}); check that the "
            "nodes are running (Auto Scaling group, `systemctl status vault` via Session Manager), the load "
            "balancer's target health, and that the security groups allow 8200 from the load balancer and "
            "from where `pulumi up` runs; then re-run `pulumi up`"
        )
    return dict(seen)


def wait_until_unsealed(client: Any, address: str, waits: Waits) -> dict[str, Any]:
    """Auto-unseal finishes on its own after init and after every restart; wait for it, boundedly."""

    def probe() -> tuple[bool, Any]:
        try:
            health = _health(client)
        except Exception as error:
            return False, _describe(error)
        return bool(health.get("initialized")) and not health.get("sealed"), health

    done, seen = poll(probe, waits.unseal_s, waits.poll_s)
    if not done:
        state = "sealed" if isinstance(seen, dict) else f"unreachable ({seen})"
        raise BootstrapError(
            f"Vault at {address} is still {state} after {spell(waits.unseal_s)}: auto-unseal has not "
            "completed. Check the nodes' logs (`journalctl -u vault`) for awskms errors: the node role needs "
            "kms:Encrypt/Decrypt/DescribeKey on the unseal key and the nodes need a route to KMS (VPC "
            "endpoint); then re-run `pulumi up` (init is not repeated)"
        )
    return dict(seen)


def wait_for_leader(client: Any, address: str, waits: Waits) -> str:
    """The active node's address once raft has elected a leader."""

    def probe() -> tuple[bool, str]:
        try:
            leader = client.sys.read_leader_status()
        except Exception as error:
            return False, _describe(error)
        found = str(leader.get("leader_address") or "")
        return bool(found), found or "no leader yet"

    done, seen = poll(probe, waits.leader_s, waits.poll_s)
    if not done:
        raise BootstrapError(
            f"Vault at {address} has no elected leader after {spell(waits.leader_s)} ({seen}); raft needs a "
            "quorum of voters that reach each other on 8201: check the nodes' security group and "
            "`vault operator raft list-peers` on a node; then re-run `pulumi up`"
        )
    return seen


def wait_for_peers(client: Any, address: str, expected: int, waits: Waits) -> None:
    """Every node has joined raft, is a voter, and autopilot calls the cluster healthy.

    A node joins as a non-voter and autopilot promotes it only after `server_stabilization_time`; until
    then the cluster has no failure tolerance, so "joined and healthy" is not yet ready."""

    def probe() -> tuple[bool, Any]:
        try:
            configuration = client.read("sys/storage/raft/configuration")["data"]["config"]
            servers = list(configuration.get("servers") or [])
            state = client.read("sys/storage/raft/autopilot/state")["data"]
        except Exception as error:
            return False, _describe(error)
        unhealthy = sorted(
            name for name, server in (state.get("servers") or {}).items() if not server.get("healthy")
        )
        non_voters = sorted(str(server.get("node_id")) for server in servers if not server.get("voter"))
        voters = len(servers) - len(non_voters)
        # What autopilot itself reports: a cluster of `expected` voters survives losing a minority.
        tolerance = int(state.get("failure_tolerance") or 0)
        healthy = bool(state.get("healthy"))
        seen = {
            "joined": len(servers),
            "voters": voters,
            "tolerance": tolerance,
            "non_voters": non_voters,
            "healthy": healthy,
            "unhealthy": unhealthy,
        }
        ready = voters >= expected and tolerance >= (expected - 1) // 2
        return len(servers) >= expected and ready and healthy, seen

    done, seen = poll(probe, waits.peers_s, waits.poll_s)
    if done:
        return
    if not isinstance(seen, dict):
        raise BootstrapError(
            f"could not read the raft configuration of Vault at {address} for {spell(waits.peers_s)} "
            f"(last: {seen}); re-run `pulumi up` once the cluster answers"
        )
    if seen["joined"] < expected:
        raise BootstrapError(
            f"half-joined cluster: {seen['joined']} of {expected} raft peers after {spell(waits.peers_s)}; "
            "check the nodes' retry_join (auto_join tag and region in vault.hcl), the security group "
            "rule for 8201 between nodes, and instance health in the Auto Scaling group; then re-run "
            "`pulumi up` (init is not repeated)"
        )
    if seen["voters"] >= expected and not seen["healthy"]:
        raise BootstrapError(
            f"all {seen['joined']} raft peers joined but autopilot does not call the cluster healthy after "
            f"{spell(waits.peers_s)} (unhealthy: {', '.join(seen['unhealthy']) or 'none reported'}); check "
            "those nodes' logs and their reachability on 8201, then re-run `pulumi up`"
        )
    raise BootstrapError(
        f"only {seen['voters']} of {expected} nodes are raft voters after {spell(waits.peers_s)} "
        f"(non-voters: {', '.join(seen['non_voters']) or 'none reported'}; autopilot's failure "
        f"tolerance {seen['tolerance']}), so the cluster cannot yet lose a node; autopilot promotes a "
        "joined node once it has been healthy for server_stabilization_time: check those nodes' logs and "
        "`vault operator raft autopilot state`, then re-run `pulumi up` (init is not repeated)"
    )
