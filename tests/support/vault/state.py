"""Everything the Vault test server knows, behind one re-entrant lock.

``VaultState`` holds the seal/HA status, the mount tables, policies, tokens and the Raft picture.
The parts Vault keeps in its storage backend (mounts and their data, auth methods, audit devices, policies,
tokens, autopilot configuration) are what a snapshot captures.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.support.vault.auth_approle import AppRoleBackend
from tests.support.vault.auth_aws import AwsAuthBackend, IamEntity, IamIdentity, parse_iam_arn
from tests.support.vault.backend import Backend, MountEntry, UnimplementedBackend
from tests.support.vault.core import Clock, JSONDict, new_uuid
from tests.support.vault.kv import KVBackend
from tests.support.vault.policy import DEFAULT_POLICY, Policy, parse_policy
from tests.support.vault.raft import RaftState
from tests.support.vault.tokens import TokenBackend, TokenEntry, TokenStore

SNAPSHOT_FORMAT = "candlefish-vault-test-server-snapshot"

SECRET_ENGINES: dict[str, type[Backend]] = {"kv": KVBackend}
AUTH_METHODS: dict[str, type[Backend]] = {
    "token": TokenBackend,
    "approle": AppRoleBackend,
    "aws": AwsAuthBackend,
}
#: Builtin types Vault accepts that this server lists but does not implement (requests answer 404).
UNIMPLEMENTED_SECRET_ENGINES = frozenset(
    {"aws", "transit", "pki", "ssh", "totp", "rabbitmq", "consul", "nomad", "ldap", "azure", "gcp", "kmip"}
)
UNIMPLEMENTED_AUTH_METHODS = frozenset(
    {"userpass", "ldap", "github", "jwt", "oidc", "kubernetes", "cert", "okta", "radius", "azure", "gcp"}
)


@dataclass
class SealConfig:
    """How the barrier is sealed: Shamir unseal keys, or an auto-unseal seal with recovery keys."""

    seal_type: str  # "shamir" or an auto-unseal type such as "awskms"
    shares: int = 0
    threshold: int = 0
    keys: list[bytes] = field(default_factory=list)  # Shamir unseal keys or recovery keys

    @property
    def auto_unseal(self) -> bool:
        return self.seal_type != "shamir"


class VaultState:
    """The whole server state. Hold ``lock`` while reading or changing anything."""

    def __init__(
        self,
        *,
        clock: Clock,
        seal_type: str,
        node_id: str,
        cluster_address: str,
        kv_mount: str | None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.seal = SealConfig(seal_type=seal_type)
        self.initialized = False
        self.sealed = True
        self.unseal_progress: list[bytes] = []
        self.unseal_nonce = ""
        self.auto_unseal_polls_needed = 0
        self.auto_unseal_polls_seen = 0
        self.cluster_name = "vault-cluster-" + secrets.token_hex(4)
        self.cluster_id = new_uuid()
        self.root_token: str | None = None
        # HA / replication
        self.standby = False
        self.performance_standby = False
        self.dr_secondary = False
        self.active_time = clock.now()
        self.api_address = ""
        self.leader_api_address = ""
        # storage
        self.mounts: dict[str, MountEntry] = {}
        self.auth_mounts: dict[str, MountEntry] = {}
        self.backends: dict[str, Backend] = {}  # keyed by the full routing prefix: "secret/", "auth/approle/"
        self.audit_devices: dict[str, JSONDict] = {}
        self.policies: dict[str, Policy] = {}
        self.tokens = TokenStore(self)
        self.raft = RaftState(node_id=node_id, address=cluster_address)
        # test-only knobs (not part of Vault's storage)
        self.iam_identities: dict[str, IamIdentity] = {}
        # Vault resolves bound IAM ARNs with iam:GetRole/GetUser; False models a node role without them.
        self.iam_lookups_allowed = True
        # Vault 1.21+ also matches each element of a list parameter against allowed/denied values; 1.20 and
        # earlier (what this server reports) match the list as a whole.
        self.per_element_list_matching = False
        self._kv_mount = kv_mount
        self._reset_storage()

    # --- storage layout ----------------------------------------------------------------------------------

    def _reset_storage(self) -> None:
        self.mounts = {}
        self.auth_mounts = {}
        self.backends = {}
        self.audit_devices = {}
        self.policies = {"default": parse_policy("default", DEFAULT_POLICY)}
        self.tokens = TokenStore(self)
        for path, mount_type, description in (
            ("cubbyhole/", "cubbyhole", "per-token private secret storage"),
            ("identity/", "identity", "identity store"),
            ("sys/", "system", "system endpoints used for control, policy and debugging"),
        ):
            self.mounts[path] = self._new_mount(path, mount_type, description, local=path == "cubbyhole/")
        if self._kv_mount:
            self.enable_mount(
                f"{self._kv_mount.strip('/')}/", "kv", "key/value secret storage", options={"version": "2"}
            )
        self.enable_auth("token/", "token", "token based credentials")

    @staticmethod
    def _new_mount(path: str, mount_type: str, description: str, **kwargs: Any) -> MountEntry:
        return MountEntry(
            path=path,
            type=mount_type,
            description=description,
            accessor=f"{'auth_' if kwargs.pop('auth', False) else ''}{mount_type}_{secrets.token_hex(4)}",
            uuid=new_uuid(),
            **kwargs,
        )

    def enable_mount(
        self,
        path: str,
        mount_type: str,
        description: str = "",
        *,
        options: JSONDict | None = None,
        config: JSONDict | None = None,
        local: bool = False,
        seal_wrap: bool = False,
    ) -> MountEntry:
        if mount_type in {"kv-v2", "kv-v1"}:
            options = {**(options or {}), "version": "2" if mount_type == "kv-v2" else "1"}
            mount_type = "kv"
        if mount_type == "kv":
            options = {"version": str((options or {}).get("version", "1"))}
        entry = self._new_mount(
            path,
            mount_type,
            description,
            options=options,
            config=dict(config or {}),
            local=local,
            seal_wrap=seal_wrap,
        )
        self.mounts[path] = entry
        self.backends[path] = self._make_backend(entry, auth=False)
        return entry

    def enable_auth(self, path: str, method_type: str, description: str = "", **kwargs: Any) -> MountEntry:
        entry = self._new_mount(path, method_type, description, auth=True, **kwargs)
        self.auth_mounts[path] = entry
        self.backends["auth/" + path] = self._make_backend(entry, auth=True)
        return entry

    def _make_backend(self, entry: MountEntry, *, auth: bool) -> Backend:
        table = AUTH_METHODS if auth else SECRET_ENGINES
        return table.get(entry.type, UnimplementedBackend)(self, entry)

    def backend_for(self, path: str) -> tuple[str, Backend] | None:
        """The longest mount prefix that routes ``path`` and its backend."""
        best: tuple[str, Backend] | None = None
        for prefix, backend in self.backends.items():
            if (path + "/").startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, backend)
        return best

    # --- policies ----------------------------------------------------------------------------------------

    def policies_for(self, token: TokenEntry) -> list[Policy]:
        return [self.policies[name] for name in token.policies if name in self.policies]

    # --- AWS identities (test knob) ----------------------------------------------------------------------

    def register_iam_identity(
        self,
        access_key_id: str,
        arn: str,
        *,
        user_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> IamIdentity:
        """Tell the server what STS would answer for ``access_key_id`` (see auth_aws)."""
        identity = IamIdentity(
            access_key_id=access_key_id,
            arn=arn,
            user_id=user_id or self.unique_id_for_arn(arn),
            secret_access_key=secret_access_key,
        )
        with self.lock:
            self.iam_identities[access_key_id] = identity
        return identity

    def unique_id_for_arn(self, arn: str) -> str:
        """A stable fake IAM unique id (AIDA.../AROA...) for the principal behind ``arn``."""
        for identity in self.iam_identities.values():
            if identity.arn == arn:
                return identity.user_id.split(":")[0]
        try:
            canonical = parse_iam_arn(arn).canonical_arn()
        except ValueError:
            canonical = arn
        prefix = "AIDA" if ":user/" in canonical else "AROA"
        return prefix + hashlib.sha256(canonical.encode()).hexdigest()[:17].upper()

    def full_arn_for(self, entity: IamEntity) -> str:
        """The principal's full ARN (with path), as Vault looks it up with iam:GetRole/GetUser."""
        canonical = entity.canonical_arn()
        for identity in self.iam_identities.values():
            try:
                registered = parse_iam_arn(identity.arn)
            except ValueError:
                continue
            if registered.canonical_arn() == canonical and registered.entity_type != "assumed-role":
                return identity.arn
        kind = "role" if entity.entity_type == "assumed-role" else entity.entity_type
        path = f"{entity.path}/" if entity.path else ""
        return f"arn:{entity.partition}:iam::{entity.account}:{kind}/{path}{entity.friendly_name}"

    # --- snapshots ---------------------------------------------------------------------------------------

    def export_storage(self) -> JSONDict:
        return {
            "mounts": [
                {"entry": m.to_json(), "data": self.backends[p].export() if p in self.backends else {}}
                for p, m in self.mounts.items()
            ],
            "auth_mounts": [
                {"entry": m.to_json(), "data": self.backends["auth/" + p].export()}
                for p, m in self.auth_mounts.items()
            ],
            "audit_devices": self.audit_devices,
            "policies": {name: policy.text for name, policy in self.policies.items()},
            "tokens": self.tokens.export(),
            "autopilot": self.raft.autopilot_config(),
        }

    def snapshot(self) -> bytes:
        document = {
            "format": SNAPSHOT_FORMAT,
            "version": 1,
            "cluster_id": self.cluster_id,
            "seal_fingerprint": self.seal_fingerprint(),
            "created": self.clock.now(),
            "storage": self.export_storage(),
        }
        return gzip.compress(json.dumps(document, sort_keys=True).encode("utf-8"), mtime=0)

    def seal_fingerprint(self) -> str:
        material = b"".join(self.seal.keys) if not self.seal.auto_unseal else self.cluster_id.encode()
        return base64.b64encode(hashlib.sha256(self.seal.seal_type.encode() + material).digest()).decode()
