"""What `tools.restore` checks around a restore: the unseal key before, the cluster's state after.

Before: the cluster must be able to use the KMS key the snapshot was sealed with (DescribeKey in the key's
own region: enabled, and for a CloudHSM-backed key a connected key store; then an Encrypt/Decrypt round
trip with that key). After: a raft restore is applied asynchronously once the HTTP call has returned,
and a node that fails to apply it seals itself, so every node's seal status, health and the autopilot
state are polled until they settle; then the canary and the secret versions are compared with what the
snapshot should hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tools.vault_http import VaultHttp, VaultHttpError

POLL_S = 1.0
KMS_PROBE = b"candlefish-restore-preflight"


class PreflightFailed(RuntimeError):
    """The cluster cannot use the snapshot's unseal key: restoring would leave it sealed."""


@dataclass(frozen=True)
class Settled:
    """How the cluster looked once it settled (or the deadline passed)."""

    ok: bool
    detail: str
    seconds: float


def key_region(key_arn: str) -> str:
    """The region in a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."""
    parts = key_arn.split(":")
    if len(parts) < 6 or parts[2] != "kms" or not parts[3]:
        raise PreflightFailed(f"{key_arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    return parts[3]


def kms_preflight(key_arn: str, client_for_region: Callable[[str], Any]) -> list[str]:
    """Check the unseal key; returns what was confirmed, raises PreflightFailed naming what is wrong."""
    region = key_region(key_arn)
    kms = client_for_region(region)
    confirmed = []
    try:
        metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except Exception as error:
        raise PreflightFailed(
            f"DescribeKey on {key_arn} in {region} failed ({_code(error)}): the key is missing or this "
            "session may not use it; in another region, restore with that region's replica key"
        ) from None
    if metadata.get("KeyState") != "Enabled":
        raise PreflightFailed(
            f"the unseal key {key_arn} is {metadata.get('KeyState')}: enable it (or cancel its deletion) "
            "before restoring, or the restored cluster stays sealed (docs/runbooks/lost-unseal-key.md)"
        )
    confirmed.append(f"unseal key enabled in {region}")
    store_id = metadata.get("CustomKeyStoreId")
    if store_id:
        try:
            stores = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
        except Exception as error:
            raise PreflightFailed(f"DescribeCustomKeyStores {store_id} failed ({_code(error)})") from None
        state = stores[0].get("ConnectionState") if stores else "MISSING"
        if state != "CONNECTED":
            raise PreflightFailed(
                f"the unseal key lives in CloudHSM key store {store_id}, which is {state}: connect it "
                "(`aws kms connect-custom-key-store`) before restoring"
            )
        confirmed.append(f"key store {store_id} connected")
    try:
        ciphertext = kms.encrypt(KeyId=key_arn, Plaintext=KMS_PROBE)["CiphertextBlob"]
        if kms.decrypt(KeyId=key_arn, CiphertextBlob=ciphertext)["Plaintext"] != KMS_PROBE:
            raise PreflightFailed(f"Decrypt with {key_arn} returned something else than was encrypted")
    except PreflightFailed:
        raise
    except Exception as error:
        raise PreflightFailed(
            f"Encrypt/Decrypt with {key_arn} failed ({_code(error)}): the unseal key cannot decrypt here"
        ) from None
    confirmed.append("Encrypt/Decrypt round trip with the unseal key")
    return confirmed


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)


def node_state(node: VaultHttp) -> tuple[bool, str]:
    """Whether one node is unsealed and serving (active or standby), and a short description."""
    try:
        seal = node.get("sys/seal-status")
        health = node.health()
    except VaultHttpError as error:
        return False, str(error)
    if seal.body.get("sealed", True):
        return False, f"{node.addr} is sealed"
    if health.status not in (200, 429, 473):
        return False, f"{node.addr} health answers HTTP {health.status}"
    role = "standby" if health.body.get("standby") else "active"
    return True, f"{node.addr} unsealed ({role})"


def wait_until_settled(
    nodes: Sequence[VaultHttp],
    token_node: VaultHttp,
    *,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Settled:
    """Poll every node's seal status and health, and autopilot (with `token_node`'s token), until all
    are unsealed, one is active and autopilot reports the cluster healthy."""
    started = time.monotonic()
    detail = "not polled"
    while True:
        states = [node_state(node) for node in nodes]
        sealed = [text for ok, text in states if not ok]
        active = [text for ok, text in states if ok and "(active)" in text]
        if not sealed and active:
            pilot = _autopilot(token_node)
            if pilot is None or pilot.get("healthy"):
                tolerance = "" if pilot is None else f", failure tolerance {pilot.get('failure_tolerance')}"
                return Settled(True, f"{len(nodes)} node(s) unsealed, one active{tolerance}", _since(started))
            detail = "autopilot does not report the cluster healthy yet"
        else:
            detail = "; ".join(sealed) or "no node is active yet"
        if time.monotonic() - started >= timeout_s:
            return Settled(False, detail, _since(started))
        sleep(POLL_S)


def _autopilot(node: VaultHttp) -> dict[str, Any] | None:
    """The autopilot state, or None where the storage has none (a single dev node)."""
    try:
        answer = node.get("sys/storage/raft/autopilot/state")
    except VaultHttpError:
        return {"healthy": False}
    if answer.status in (400, 404, 405) and "raft" in answer.errors.lower():
        return None
    return answer.data if answer.ok else {"healthy": False}


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def kv_versions(node: VaultHttp, mount: str, prefix: str, *, limit: int = 100_000) -> dict[str, int]:
    """Every secret's current version under `mount/prefix` (KV v2), by path relative to the mount."""
    found: dict[str, int] = {}
    pending = [prefix.strip("/") + "/" if prefix.strip("/") else ""]
    while pending and len(found) < limit:
        folder = pending.pop()
        listing = node.list(f"{mount}/metadata/{folder}")
        if listing.status == 404:
            continue
        if not listing.ok:
            raise VaultHttpError(f"listing {mount}/metadata/{folder} failed: {listing.errors}")
        for name in listing.data.get("keys", []):
            if name.endswith("/"):
                pending.append(folder + name)
                continue
            metadata = node.get(f"{mount}/metadata/{folder}{name}")
            if metadata.ok:
                found[folder + name] = int(metadata.data.get("current_version", 0))
    return found


def compare_versions(expected: Mapping[str, int], restored: Mapping[str, int]) -> list[str]:
    """Differences between the versions the snapshot should hold and those the cluster now holds."""
    problems = [f"{path}: missing after the restore" for path in sorted(expected) if path not in restored]
    problems += [
        f"{path}: version {restored[path]}, expected {version}"
        for path, version in sorted(expected.items())
        if path in restored and restored[path] != version
    ]
    return problems
