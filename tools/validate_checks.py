"""The checks behind `tools.validate`, each a function returning one `Check`.

A check passes, fails (and names the first thing to do, linking the runbook), or could not run (`unknown`:
no permission, nothing to look at). None of them prints a secret value: the canaries are random nonces.
"""

from __future__ import annotations

import secrets
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tools import snapshots
from tools.vault_http import VaultHttp, VaultHttpError

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
CANARY_PATH = "canary/validate"
SNAPSHOT_MAX_AGE_S = 2 * 3600  # the guide promises hourly backups; two hours means one was missed
TLS_MIN_DAYS = 30
TOKEN_SCAN_LIMIT = 5000
RUNBOOKS = "docs/runbooks"


@dataclass(frozen=True)
class Check:
    """One finding: its status, what was seen, and (when it failed) the first thing to do."""

    name: str
    status: str
    detail: str
    first_step: str = ""


def _guard(name: str, step: str, action: Callable[[], Check]) -> Check:
    """Run a check; an unreachable Vault or an unexpected answer makes it `unknown`, not a crash."""
    try:
        return action()
    except VaultHttpError as error:
        return Check(name, UNKNOWN, str(error), step)
    except (KeyError, TypeError, ValueError) as error:
        return Check(name, UNKNOWN, f"unexpected answer ({type(error).__name__}: {error})", step)


def node_health(nodes: Sequence[VaultHttp]) -> list[Check]:
    """Every node initialised and unsealed; says which is active."""
    found = []
    for node in nodes:

        def one(node: VaultHttp = node) -> Check:
            body = node.health().body
            if not body.get("initialized"):
                return Check(
                    f"node {node.addr}", FAIL, "not initialised", f"see {RUNBOOKS}/node-replacement.md"
                )
            if body.get("sealed", True):
                return Check(
                    f"node {node.addr}",
                    FAIL,
                    "sealed",
                    f"check the unseal key is enabled and usable ({RUNBOOKS}/lost-unseal-key.md)",
                )
            role = "standby" if body.get("standby") else "active"
            return Check(f"node {node.addr}", PASS, f"unsealed, {role}, version {body.get('version')}")

        found.append(_guard(f"node {node.addr}", "is the node running and reachable?", one))
    return found


def leader(entry: VaultHttp) -> Check:
    def run() -> Check:
        body = entry.get("sys/leader").body
        address = body.get("leader_address")
        if body.get("ha_enabled") is False:
            return Check("leader", PASS, "single node without HA")
        if not address:
            return Check("leader", FAIL, "no active node", f"see {RUNBOOKS}/alarms.md#vault-sealed")
        return Check("leader", PASS, f"active node {address}")

    return _guard("leader", "is Vault reachable?", run)


def raft_peers(entry: VaultHttp, expected: int | None) -> Check:
    def run() -> Check:
        answer = entry.get("sys/storage/raft/configuration")
        if not answer.ok:
            return Check(
                "raft peers", UNKNOWN, answer.errors, "use a token that may read the raft configuration"
            )
        servers = answer.data["config"]["servers"]
        voters = [server for server in servers if server.get("voter")]
        detail = f"{len(voters)} voters of {len(servers)} peers"
        if expected is not None and len(voters) != expected:
            return Check(
                "raft peers",
                FAIL,
                f"{detail}, expected {expected} voters",
                f"replace the missing node ({RUNBOOKS}/node-replacement.md)",
            )
        return Check("raft peers", PASS, detail)

    return _guard("raft peers", "", run)


def autopilot(entry: VaultHttp, voters: int | None) -> Check:
    """Autopilot healthy and the failure tolerance a cluster of that size should have (2 for five)."""

    def run() -> Check:
        answer = entry.get("sys/storage/raft/autopilot/state")
        if not answer.ok:
            return Check("autopilot", UNKNOWN, answer.errors, "use a token that may read the autopilot state")
        state = answer.data
        tolerance = int(state.get("failure_tolerance", 0))
        size = voters if voters is not None else len(state.get("voters") or [])
        wanted = (size - 1) // 2
        detail = f"healthy={state.get('healthy')}, failure tolerance {tolerance} (wanted {wanted} for {size})"
        if not state.get("healthy") or tolerance < wanted:
            return Check(
                "autopilot",
                FAIL,
                detail,
                f"`python -m tools.validate --json` lists each node; see {RUNBOOKS}/node-replacement.md",
            )
        return Check("autopilot", PASS, detail)

    return _guard("autopilot", "", run)


def audit_devices(entry: VaultHttp) -> Check:
    def run() -> Check:
        answer = entry.get("sys/audit")
        if not answer.ok:
            return Check("audit devices", UNKNOWN, answer.errors, "use a token with sudo on sys/audit")
        devices = sorted(name.rstrip("/") for name in (answer.data or answer.body) if name.endswith("/"))
        if not devices:
            return Check(
                "audit devices",
                FAIL,
                "none enabled: requests go unrecorded",
                f"re-run `pulumi up` (the bootstrap enables them); see {RUNBOOKS}/alarms.md#audit-log-gap",
            )
        return Check("audit devices", PASS, ", ".join(devices))

    return _guard("audit devices", "", run)


def vault_canary(entry: VaultHttp, mount: str = "secret") -> Check:
    """Write a random nonce and read it back through the same address."""

    def run() -> Check:
        nonce = secrets.token_hex(8)
        written = entry.post(f"{mount}/data/{CANARY_PATH}", {"data": {"nonce": nonce}})
        if not written.ok:
            return Check("vault canary", FAIL, f"write refused: {written.errors}", "check the token's policy")
        read = entry.get(f"{mount}/data/{CANARY_PATH}")
        got = read.data.get("data", {}).get("nonce") if read.ok else None
        if got != nonce:
            return Check(
                "vault canary", FAIL, "read back a different value", "check raft health and the leader"
            )
        return Check("vault canary", PASS, f"written and read back (version {written.data.get('version')})")

    return _guard("vault canary", "", run)


# Answers that mean this caller may not run the check, not that Secrets Manager is broken.
SM_NOT_ALLOWED = ("AccessDeniedException", "KMSAccessDeniedException", "UnrecognizedClientException")
# Answers that mean the stack's canary (or its key) is missing or unusable.
SM_BROKEN = ("ResourceNotFoundException", "KMSDisabledException", "KMSNotFoundException",
             "KMSInvalidStateException", "DecryptionFailure", "EncryptionFailure")  # fmt: skip
SM_CANARY = "secrets manager canary"
HTTP_FORBIDDEN = 403


def canary_marker() -> str:
    """A fresh, obviously non-secret value for the canary (never a credential, safe to see in a console)."""
    return f"validate-canary-not-a-secret-{secrets.token_hex(8)}"


def _aws_code(error: Exception) -> str:
    return str((getattr(error, "response", None) or {}).get("Error", {}).get("Code", type(error).__name__))


def secrets_manager_canary(client: Any, secret_id: str | None) -> Check:
    """Write a fresh marker to the stack's canary secret (output canarySecretArn) and read AWSCURRENT back.

    A refusal of this caller (its role is neither a deployer nor a validator principal, or lacks the
    secrets key) means the check could not run; a missing canary or key, or a different value read back,
    fails. Neither the marker nor anything read back is ever shown.
    """
    if not secret_id:
        return Check(
            SM_CANARY,
            UNKNOWN,
            "no canary secret: the stack has no canarySecretArn output",
            "run `pulumi up` (it creates the canary and exports canarySecretArn), or pass --sm-canary <arn>",
        )
    marker = canary_marker()
    try:
        written = client.put_secret_value(SecretId=secret_id, SecretString=marker)
        read = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    except Exception as error:  # every AWS answer becomes a finding, none a crash
        code = _aws_code(error)
        status = (getattr(error, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in SM_NOT_ALLOWED or status == HTTP_FORBIDDEN:
            return Check(
                SM_CANARY,
                UNKNOWN,
                f"{code}: this caller may not use the canary",
                "run validate as a deployer role, or add the role to validatorPrincipals (with kms:Decrypt "
                "and kms:GenerateDataKey on the secrets key) and `pulumi up`",
            )
        if code in SM_BROKEN:
            return Check(
                SM_CANARY,
                FAIL,
                code,
                "check that the canary secret and the secrets key exist and are enabled "
                "(`pulumi refresh`, then `pulumi up` re-creates what is missing)",
            )
        return Check(SM_CANARY, UNKNOWN, code, "check the region and the network path to Secrets Manager")
    if read.get("SecretString") != marker:
        return Check(
            SM_CANARY,
            FAIL,
            f"read back a different value than version {written.get('VersionId', '?')} written",
            "run validate again; if it repeats, look in CloudTrail for another PutSecretValue on the canary",
        )
    return Check(SM_CANARY, PASS, f"written and read back (version {written.get('VersionId', '?')})")


def tls_expiry(
    addr: str, ca_cert: str | None, now: datetime | None = None, min_days: int = TLS_MIN_DAYS
) -> Check:
    """Days until the certificate Vault presents expires."""
    parts = urlsplit(addr)
    if parts.scheme != "https":
        return Check("tls certificate", UNKNOWN, f"{addr} is not https", "validate the TLS address")
    context = ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
    try:
        with (
            socket.create_connection((parts.hostname or "", parts.port or 443), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
        ):
            certificate = tls.getpeercert() or {}
    except (OSError, ssl.SSLError) as error:
        return Check(
            "tls certificate", FAIL, f"TLS handshake failed: {error}", "check the CA and server name"
        )
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(certificate["notAfter"])), UTC)
    days = (expires - (now or datetime.now(UTC))).days
    detail = f"expires {expires:%Y-%m-%d} ({days} days)"
    if days < min_days:
        return Check(
            "tls certificate", FAIL, detail, "rotate the certificate (README: TLS and certificate rotation)"
        )
    return Check("tls certificate", PASS, detail)


def snapshot_age(s3: Any, bucket: str | None, prefix: str, now: datetime | None = None) -> Check:
    if not bucket:
        return Check("newest snapshot", UNKNOWN, "no snapshot bucket given", "pass --snapshot-bucket")
    try:
        found = snapshots.list_snapshots(s3, bucket, prefix, with_metadata=False)
    except Exception as error:
        code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code", type(error).__name__)
        return Check(
            "newest snapshot", UNKNOWN, f"cannot list s3://{bucket}/{prefix}: {code}", "check S3 access"
        )
    if not found:
        return Check(
            "newest snapshot", FAIL, "no snapshot at all", f"see {RUNBOOKS}/alarms.md#snapshot-stale"
        )
    newest = snapshots.describe(s3, found[0])
    age = newest.age_seconds(now)
    detail = f"{newest.key}, {age / 60:.0f} min old"
    if age > SNAPSHOT_MAX_AGE_S:
        return Check("newest snapshot", FAIL, detail, f"see {RUNBOOKS}/alarms.md#snapshot-stale")
    if not newest.sha256:
        return Check(
            "newest snapshot", FAIL, f"{detail}, no sha256 recorded", "update the snapshot job (pulumi up)"
        )
    return Check("newest snapshot", PASS, detail)


def privileged_tokens(entry: VaultHttp, limit: int = TOKEN_SCAN_LIMIT) -> Check:
    """No live root token and no break-glass token: after the bootstrap, neither path should be in use."""

    def run() -> Check:
        listing = entry.list("auth/token/accessors")
        if not listing.ok:
            return Check(
                "root and break-glass unused",
                UNKNOWN,
                listing.errors,
                "use a token with sudo on auth/token/accessors",
            )
        own = entry.get("auth/token/lookup-self").data.get("accessor")
        accessors = [accessor for accessor in listing.data.get("keys", []) if accessor != own]
        in_use: list[str] = []
        for accessor in accessors[:limit]:
            looked = entry.post("auth/token/lookup-accessor", {"accessor": accessor})
            policies = set(looked.data.get("policies") or []) if looked.ok else set()
            if "root" in policies or "break-glass" in policies:
                kind = "root" if "root" in policies else "break-glass"
                in_use.append(f"{kind} token {accessor[:8]}... ({looked.data.get('display_name')})")
        if in_use:
            return Check(
                "root and break-glass unused",
                FAIL,
                "; ".join(in_use),
                f"confirm who holds it, then revoke it ({RUNBOOKS}/alarms.md#root-token-used)",
            )
        scanned = min(len(accessors), limit)
        status = PASS if len(accessors) <= limit else UNKNOWN
        return Check("root and break-glass unused", status, f"{scanned} of {len(accessors)} tokens looked up")

    return _guard("root and break-glass unused", "", run)
