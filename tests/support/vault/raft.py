"""Integrated storage (Raft): the peer set, autopilot configuration and autopilot's health view.

Shapes follow api-docs/system/storage/raft and raftautopilot, and vault/logical_system_raft.go (the
``config`` wrapper, Go duration strings in the autopilot configuration, the ``min_quorum`` validation).
Peers are simulated: tests add, remove and mark them unhealthy through ``VaultTestServer`` methods, and say
how many peers the cluster should have, which autopilot's ``healthy`` reflects.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.vault.core import JSONDict, bad_request, format_go_duration, parse_duration, rfc3339

AUTOPILOT_DEFAULTS: JSONDict = {
    "cleanup_dead_servers": False,
    "last_contact_threshold": 10,
    "dead_server_last_contact_threshold": 24 * 3600,
    "max_trailing_logs": 1000,
    "min_quorum": 0,
    "server_stabilization_time": 10,
}


@dataclass
class RaftPeer:
    node_id: str
    address: str
    voter: bool = True
    healthy: bool = True
    last_contact_seconds: float = 0.0
    joined_at: float = 0.0


class RaftState:
    def __init__(self, *, node_id: str, address: str) -> None:
        self.local_node_id = node_id
        self.leader_id = node_id
        self.peers: list[RaftPeer] = [RaftPeer(node_id=node_id, address=address)]
        self.expected_peers: int | None = None
        self.index = 1
        self._autopilot: JSONDict = dict(AUTOPILOT_DEFAULTS)

    # --- peers -------------------------------------------------------------------------------------------

    def find(self, node_id: str) -> RaftPeer | None:
        return next((peer for peer in self.peers if peer.node_id == node_id), None)

    def add_peer(self, node_id: str, address: str, *, voter: bool, healthy: bool, now: float) -> RaftPeer:
        if self.find(node_id) is not None:
            raise ValueError(f"raft peer {node_id!r} already exists")
        peer = RaftPeer(node_id=node_id, address=address, voter=voter, healthy=healthy, joined_at=now)
        self.peers.append(peer)
        self.index += 1
        return peer

    def remove_peer(self, node_id: str) -> bool:
        peer = self.find(node_id)
        if peer is None:
            return False
        self.peers.remove(peer)
        self.index += 1
        if self.leader_id == node_id:
            self.leader_id = self.peers[0].node_id if self.peers else ""
        return True

    def configuration(self) -> JSONDict:
        return {
            "config": {
                "index": self.index,
                "servers": [
                    {
                        "address": peer.address,
                        "leader": peer.node_id == self.leader_id,
                        "node_id": peer.node_id,
                        "protocol_version": "3",
                        "voter": peer.voter,
                    }
                    for peer in self.peers
                ],
            }
        }

    def autopilot_state(self, now: float) -> JSONDict:
        threshold = self._autopilot["last_contact_threshold"]
        servers: JSONDict = {}
        healthy_voters = 0
        voters = [peer.node_id for peer in self.peers if peer.voter]
        for peer in self.peers:
            healthy = peer.healthy and peer.last_contact_seconds <= threshold
            if healthy and peer.voter:
                healthy_voters += 1
            status = "leader" if peer.node_id == self.leader_id else ("voter" if peer.voter else "non-voter")
            servers[peer.node_id] = {
                "id": peer.node_id,
                "name": peer.node_id,
                "address": peer.address,
                "node_status": "alive" if peer.healthy else "failed",
                "last_contact": format_go_duration(int(peer.last_contact_seconds)),
                "last_term": 3,
                "last_index": self.index,
                "healthy": healthy,
                "stable_since": rfc3339(peer.joined_at or now),
                "status": status,
                "node_type": "voter" if peer.voter else "non-voter",
                "version": "",
                "meta": None,
            }
        quorum = len(voters) // 2 + 1
        failure_tolerance = max(0, healthy_voters - quorum)
        enough_peers = self.expected_peers is None or len(self.peers) >= self.expected_peers
        all_healthy = all(server["healthy"] for server in servers.values())
        non_voters = [peer.node_id for peer in self.peers if not peer.voter]
        return {
            "healthy": all_healthy and enough_peers,
            "failure_tolerance": failure_tolerance,
            "optimistic_failure_tolerance": failure_tolerance,
            "leader": self.leader_id,
            "voters": voters,
            "non_voters": non_voters or None,
            "servers": servers,
        }

    # --- autopilot configuration -------------------------------------------------------------------------

    def autopilot_config(self) -> JSONDict:
        return dict(self._autopilot)

    def set_autopilot_config(self, config: JSONDict) -> None:
        self._autopilot = {**AUTOPILOT_DEFAULTS, **config}

    def describe_autopilot_config(self) -> JSONDict:
        config = self._autopilot
        return {
            "cleanup_dead_servers": config["cleanup_dead_servers"],
            "last_contact_threshold": format_go_duration(config["last_contact_threshold"]),
            "dead_server_last_contact_threshold": format_go_duration(
                config["dead_server_last_contact_threshold"]
            ),
            "max_trailing_logs": config["max_trailing_logs"],
            "min_quorum": config["min_quorum"],
            "server_stabilization_time": format_go_duration(config["server_stabilization_time"]),
            "disable_upgrade_migration": False,
        }

    def update_autopilot_config(self, fields: JSONDict) -> None:
        """Apply a POST to ``sys/storage/raft/autopilot/configuration`` with Vault's validation."""
        if "disable_upgrade_migration" in fields:
            raise bad_request("disable_upgrade_migration is only available in Vault Enterprise")
        config = dict(self._autopilot)
        for name in (
            "last_contact_threshold",
            "dead_server_last_contact_threshold",
            "server_stabilization_time",
        ):
            if name in fields:
                config[name] = parse_duration(fields[name], name)
        for name in ("max_trailing_logs", "min_quorum"):
            if name in fields:
                try:
                    config[name] = int(fields[name])
                except (TypeError, ValueError):
                    raise bad_request(f"error converting input {fields[name]!r} for field {name!r}") from None
        if "cleanup_dead_servers" in fields:
            value = fields["cleanup_dead_servers"]
            config["cleanup_dead_servers"] = (
                value if isinstance(value, bool) else str(value).lower() == "true"
            )
        if config["cleanup_dead_servers"] and config["min_quorum"] < 3:
            raise bad_request(
                "min_quorum must be set when cleanup_dead_servers is set and it should at least be 3; "
                f"cleanup_dead_servers: {'true' if config['cleanup_dead_servers'] else 'false'}, "
                f"min_quorum: 0x{config['min_quorum']:x}"
            )
        if config["cleanup_dead_servers"] and config["dead_server_last_contact_threshold"] < 60:
            raise bad_request(
                "dead_server_last_contact_threshold should not be set to less than 1m; received: "
                f"{config['dead_server_last_contact_threshold']}"
            )
        self._autopilot = config
