"""Put an initialised OpenBao cluster back to how `sys/init` left it, so a test module can share one cluster
between tests that each need a just-initialised Vault instead of starting a cluster per test (about 5 s of
start-up each on the CI machine).

`InitialState.capture(cluster)`, right after init, records what a just-initialised cluster holds: its audit
devices (none), secrets engines and auth methods (the built-in ones), ACL policies (`default`, `root`), the
token accessors (the root token's), identity entities (none), the text of each of those policies but
`root`, and the autopilot configuration.
`InitialState.restore(cluster)` removes whatever was made since, in this order:

- audit devices are disabled (a test's file device points into its own temporary directory);
- secrets engines and auth methods are disabled (which deletes their data and revokes their tokens and
  leases), ACL policies deleted, every other token revoked by accessor, identity entities deleted;
- the `default` policy and the autopilot configuration are written back.

Then it reads everything again and raises `OpenBaoError` naming what is still different, so a test never
starts on a cluster that a previous test left changed. What is not put back: autopilot's `min_quorum` (see
AUTOPILOT_SETTINGS), the Raft log's index and term, and Vault's internal records of the revoked tokens and
disabled mounts, which no API shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hvac
import hvac.exceptions as hx

from tests.support.openbao import OpenBaoCluster, OpenBaoError

AUTOPILOT = "sys/storage/raft/autopilot/configuration"
# Every autopilot setting but min_quorum: a fresh cluster has none (0), and the API takes 0 as "leave it", so
# once a bootstrap has set it (always to 3) it cannot be put back; a bootstrap writes 3 again either way.
AUTOPILOT_SETTINGS = (
    "cleanup_dead_servers",
    "last_contact_threshold",
    "dead_server_last_contact_threshold",
    "max_trailing_logs",
    "server_stabilization_time",
)


def _keys(vault: hvac.Client, path: str) -> frozenset[str]:
    """A LIST's keys, none when Vault answers 404 (an empty list)."""
    try:
        answer = vault.list(path)
    except hx.InvalidPath:
        return frozenset()
    return frozenset((answer or {}).get("data", {}).get("keys", []))


@dataclass(frozen=True)
class InitialState:
    """What a cluster held right after `sys/init` (see the module docstring)."""

    audit_devices: frozenset[str]
    secrets_engines: frozenset[str]
    auth_methods: frozenset[str]
    policies: frozenset[str]
    accessors: frozenset[str]
    entities: frozenset[str]
    policy_texts: tuple[tuple[str, str], ...]
    autopilot: tuple[tuple[str, Any], ...]

    @classmethod
    def capture(cls, cluster: OpenBaoCluster) -> InitialState:
        vault = cluster.client(cluster.leader())
        try:
            return cls.read(vault)
        finally:
            vault.adapter.close()

    @classmethod
    def read(cls, vault: hvac.Client) -> InitialState:
        autopilot = vault.read(AUTOPILOT)["data"]
        policies = frozenset(vault.sys.list_acl_policies()["data"]["keys"])
        return cls(
            audit_devices=frozenset(vault.sys.list_enabled_audit_devices()["data"]),
            secrets_engines=frozenset(vault.sys.list_mounted_secrets_engines()["data"]),
            auth_methods=frozenset(vault.sys.list_auth_methods()["data"]),
            policies=policies,
            accessors=_keys(vault, "auth/token/accessors"),
            entities=_keys(vault, "identity/entity/id"),
            policy_texts=tuple(
                (name, vault.sys.read_acl_policy(name)["data"]["policy"])
                for name in sorted(policies - {"root"})
            ),
            autopilot=tuple((name, autopilot[name]) for name in AUTOPILOT_SETTINGS),
        )

    def restore(self, cluster: OpenBaoCluster) -> None:
        """Remove what was made since `capture`, then check nothing is left (OpenBaoError otherwise)."""
        vault = cluster.client(cluster.leader())
        try:
            self._remove_additions(vault)
            for name, text in self.policy_texts:
                vault.sys.create_or_update_acl_policy(name=name, policy=text)
            vault.write(AUTOPILOT, **dict(self.autopilot))
            now = InitialState.read(vault)
        finally:
            vault.adapter.close()
        if now != self:
            differences = {
                name: (getattr(now, name), getattr(self, name))
                for name in self.__dataclass_fields__
                if getattr(now, name) != getattr(self, name)
            }
            raise OpenBaoError(
                f"the shared cluster is not back to its initial state (now, initial): {differences}"
            )

    def _remove_additions(self, vault: hvac.Client) -> None:
        now = InitialState.read(vault)
        for path in sorted(now.audit_devices - self.audit_devices):
            vault.sys.disable_audit_device(path.rstrip("/"))
        for path in sorted(now.secrets_engines - self.secrets_engines):
            vault.sys.disable_secrets_engine(path.rstrip("/"))
        for path in sorted(now.auth_methods - self.auth_methods):
            vault.sys.disable_auth_method(path.rstrip("/"))
        for name in sorted(now.policies - self.policies):
            vault.sys.delete_acl_policy(name)
        for accessor in sorted(_keys(vault, "auth/token/accessors") - self.accessors):
            vault.auth.token.revoke_accessor(accessor)
        for entity in sorted(now.entities - self.entities):
            vault.delete(f"identity/entity/id/{entity}")
