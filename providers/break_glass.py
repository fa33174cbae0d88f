"""The break-glass secret: where Vault's recovery shares and initial root token go, and nowhere else.

The secret itself (KMS key, resource policy, 30-day recovery window) is created by the component; this
module only writes and reads its value, with the deployer's credentials. Three steps around `sys/init`:

1. `preflight` before init: the secret exists, is not scheduled for deletion, and the deployer can write
   it (PutSecretValue and kms:GenerateDataKey are exercised by writing an *init pending* marker version
   under a private staging label, which leaves `AWSCURRENT` where it was).
2. `store` immediately after init: the shares and root token become the new `AWSCURRENT` (any earlier
   material stays readable as `AWSPREVIOUS`), retried, and verified: read back and compared by
   fingerprint, or, when the shares are write-only (the deployer may not read them), by the version
   being current; then the pending label is removed.
3. `load` on a later run that has no state: the stored material, if any, so a bootstrap that failed
   after the store can resume with the stored root token (write-only shares resume from the
   bootstrap-resume secret instead, providers/bootstrap_resume.py); and `init_pending` to tell that case
   apart from one where the store itself never succeeded.

Values are never logged or returned outside this process; errors name the secret, never its content.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from providers.common import (
    AWS_UNREACHABLE,
    BootstrapError,
    aws_client,
    aws_error_code,
    fingerprint,
    scheduled_for_deletion,
)

FORMAT = "candlefish-vault-break-glass/1"
PENDING_STAGE = "CANDLEFISH_INIT_PENDING"
# Beyond botocore's own retries: the store is the one write that must not be given up on lightly.
STORE_ATTEMPTS = 4
STORE_BACKOFF_S = 2.0


@dataclass(frozen=True)
class Material:
    """What `sys/init` returned that must survive: never put in Pulumi state, outputs or logs."""

    vault_address: str
    recovery_shares: list[str]
    recovery_threshold: int
    pgp_encrypted: bool
    root_token: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "vault_address": self.vault_address,
                "initialized_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "recovery_shares": self.recovery_shares,
                "recovery_threshold": self.recovery_threshold,
                "recovery_shares_pgp_encrypted": self.pgp_encrypted,
                "root_token": self.root_token,
                "note": (
                    "Vault recovery shares (auto-unseal) and the initial root token. The bootstrap revokes "
                    "the root token once it has issued its provisioner token; use the shares with "
                    "`vault operator generate-root` for a new one."
                ),
            }
        )

    def __repr__(self) -> str:  # never let a traceback or debugger print the values
        return f"Material(vault_address={self.vault_address!r}, shares={len(self.recovery_shares)}, ...)"


def client(region: str) -> Any:
    return aws_client("secretsmanager", region)


# What the deployer needs on a secret it reads and writes, and on write-only shares.
READ_WRITE_ACCESS = (
    "secretsmanager:PutSecretValue, GetSecretValue, DescribeSecret and UpdateSecretVersionStage on it, "
    "kms:GenerateDataKey and kms:Decrypt on its key"
)
WRITE_ONLY_ACCESS = (
    "secretsmanager:PutSecretValue, DescribeSecret and UpdateSecretVersionStage on it and "
    "kms:GenerateDataKey on its key (the shares are write-only: never GetSecretValue or kms:Decrypt)"
)


def explain(
    error: Exception,
    secret_id: str,
    doing: str,
    *,
    what: str = "the break-glass secret",
    needs: str = READ_WRITE_ACCESS,
) -> BootstrapError:
    """A Secrets Manager failure as an instruction (never quoting the value)."""
    code = aws_error_code(error)
    if code == "ResourceNotFoundException":
        return BootstrapError(
            f"{what} {secret_id} does not exist ({doing}); it is created by the "
            "VaultBootstrap component: run `pulumi up` again so it exists before Vault is initialised"
        )
    if scheduled_for_deletion(error):
        return _scheduled_for_deletion(secret_id, doing, what)
    if code in {"AccessDeniedException", "AccessDenied"}:
        return BootstrapError(
            f"not allowed to {doing} {what} {secret_id}: the deployer role needs {needs}, and must match "
            "the secret's resource policy"
        )
    if code in {"ThrottlingException", "TooManyRequestsException"}:
        return BootstrapError(f"Secrets Manager kept throttling while trying to {doing} {secret_id}")
    name = type(error).__name__
    if name in AWS_UNREACHABLE:
        return BootstrapError(f"could not reach Secrets Manager to {doing} {secret_id} ({name})")
    return BootstrapError(f"could not {doing} {what} {secret_id}: {code or name}")


def _scheduled_for_deletion(
    secret_id: str, doing: str, what: str = "the break-glass secret"
) -> BootstrapError:
    return BootstrapError(
        f"{what} {secret_id} is scheduled for deletion ({doing}); restore it with "
        f"`aws secretsmanager restore-secret --secret-id {secret_id}` and re-run `pulumi up`"
    )


def preflight(sm: Any, secret_id: str, vault_address: str, *, write_only: bool = False) -> str:
    """Prove the secret can take the material before Vault is initialised; returns the marker version."""
    try:
        described = sm.describe_secret(SecretId=secret_id)
        if described.get("DeletedDate"):
            raise _scheduled_for_deletion(secret_id, "checking it before initialising Vault")
        marker = json.dumps(
            {
                "format": FORMAT,
                "status": "initialising",
                "vault_address": vault_address,
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        written = sm.put_secret_value(
            SecretId=secret_id,
            SecretString=marker,
            ClientRequestToken=str(uuid.uuid4()),
            VersionStages=[PENDING_STAGE],
        )
    except BootstrapError:
        raise
    except Exception as error:
        raise explain(
            error,
            secret_id,
            "write (checking it before initialising Vault)",
            needs=WRITE_ONLY_ACCESS if write_only else READ_WRITE_ACCESS,
        ) from None
    return str(written["VersionId"])


def store(
    sm: Any, secret_id: str, material: Material, marker_version: str, *, write_only: bool = False
) -> str:
    """Make the material the secret's current value, verified; returns its version id.

    One ClientRequestToken for every attempt, so a retry after a lost answer is the same version; a retry
    first looks whether that version landed, since repeating its put makes Secrets Manager decrypt it to
    compare, which a write-only deployer may not. `write_only`: verify by the version being current
    instead of reading the value back.
    """
    value = material.to_json()
    token = str(uuid.uuid4())
    last: Exception | None = None
    for attempt in range(STORE_ATTEMPTS):
        if attempt:
            time.sleep(STORE_BACKOFF_S * attempt)
        try:
            if attempt and is_current(sm, secret_id, token):
                version = token
            else:
                written = sm.put_secret_value(
                    SecretId=secret_id, SecretString=value, ClientRequestToken=token
                )
                version = str(written["VersionId"])
            if write_only:
                if not is_current(sm, secret_id, version):
                    raise BootstrapError(
                        f"the break-glass secret {secret_id} does not show the stored version"
                    )
            else:
                back = sm.get_secret_value(SecretId=secret_id, VersionId=version)
                if fingerprint(back.get("SecretString", "")) != fingerprint(value):
                    raise BootstrapError(f"the break-glass secret {secret_id} did not read back as written")
        except Exception as error:
            last = error
            continue
        _clear_pending(sm, secret_id, marker_version)
        return version
    assert last is not None
    if isinstance(last, BootstrapError):
        raise last
    raise explain(
        last,
        secret_id,
        "store the recovery shares in",
        needs=WRITE_ONLY_ACCESS if write_only else READ_WRITE_ACCESS,
    ) from None


def is_current(sm: Any, secret_id: str, version: str) -> bool:
    """Whether `version` of the secret exists and carries AWSCURRENT (DescribeSecret: no value is read)."""
    stages = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
    return "AWSCURRENT" in stages.get(version, [])


def _clear_pending(sm: Any, secret_id: str, marker_version: str) -> None:
    # Only a marker: if clearing it fails, the next run's "no token" message is merely more cautious.
    with contextlib.suppress(Exception):
        stages = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        if PENDING_STAGE in stages.get(marker_version, []):
            sm.update_secret_version_stage(
                SecretId=secret_id, VersionStage=PENDING_STAGE, RemoveFromVersionId=marker_version
            )


def clear_after_failed_init(sm: Any, secret_id: str, marker_version: str) -> None:
    """Init was refused or never reached Vault: the marker must not suggest that shares were lost."""
    _clear_pending(sm, secret_id, marker_version)


def load(sm: Any, secret_id: str) -> dict[str, Any] | None:
    """The stored material (as written by `store`), or None when the current value is not one."""
    try:
        current = sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    except Exception as error:
        if aws_error_code(error) == "ResourceNotFoundException":
            return None
        raise explain(error, secret_id, "read") from None
    try:
        document = json.loads(current.get("SecretString") or "")
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT or "root_token" not in document:
        return None
    return document


def init_pending(sm: Any, secret_id: str) -> bool:
    """True when an earlier run marked an init it never finished storing (the marker keeps its private
    label until the store succeeds, or until Vault refuses the init)."""
    try:
        described = sm.describe_secret(SecretId=secret_id)
    except Exception as error:
        raise explain(error, secret_id, "describe") from None
    stages = described.get("VersionIdsToStages") or {}
    return any(PENDING_STAGE in labels for labels in stages.values())
