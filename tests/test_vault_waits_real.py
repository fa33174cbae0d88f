"""The bootstrap's waits against a real 3-node OpenBao cluster straight after `sys/init`, when the other
nodes have joined Raft but are not yet voters (autopilot promotes them after its stabilization time)."""

from __future__ import annotations

import pytest

from providers import vault_waits
from providers.common import BootstrapError
from tests.support.openbao import OpenBaoCluster, wait_until

pytestmark = pytest.mark.openbao


def voters(cluster: OpenBaoCluster) -> int:
    return sum(1 for server in cluster.raft_servers() if server["voter"])


@pytest.fixture
def just_initialised(openbao_cluster_factory):
    # OpenBao's own autopilot defaults (10 s stabilization), and no waiting after sys/init.
    cluster = openbao_cluster_factory(3, initialize=False)
    cluster.initialize(stabilization=None, wait=False)
    return cluster


def test_peers_wait_returns_only_when_every_node_is_a_voter(just_initialised: OpenBaoCluster):
    cluster = just_initialised
    leader = cluster.leader()
    client = cluster.client(leader)
    vault_waits.wait_for_leader(client, leader.addr, vault_waits.Waits(leader_s=30, poll_s=0.2))
    vault_waits.wait_for_peers(client, leader.addr, 3, vault_waits.Waits(peers_s=90, poll_s=0.2))
    assert voters(cluster) == 3
    state = client.read("sys/storage/raft/autopilot/state")["data"]
    assert state["failure_tolerance"] >= 1, state


def test_joined_non_voters_are_not_ready_and_the_error_names_them(just_initialised: OpenBaoCluster):
    cluster = just_initialised
    leader = cluster.leader()
    client = cluster.client(leader)
    wait_until(lambda: len(cluster.raft_servers()) == 3, timeout=30, what="3 raft peers joined")
    # Joined, healthy, but autopilot has not promoted them yet (10 s stabilization): not ready.
    with pytest.raises(
        BootstrapError, match=r"only 1 of 3 nodes are raft voters after 1 s \(non-voters: node-"
    ) as raised:
        vault_waits.wait_for_peers(client, leader.addr, 3, vault_waits.Waits(peers_s=1, poll_s=0.2))
    assert "re-run `pulumi up`" in str(raised.value)
