"""The bootstrap-resume secret: the root token while a first bootstrap runs, when the shares are write-only.

With write-only recovery shares the deployer may not read the break-glass secret, so a bootstrap that
fails after init cannot take the root token back from it. It keeps a copy here instead, in a secret only
the deployers may read (components/vault/recovery_shares.py), for exactly as long as the token lives:

1. `preflight` before init (before the break-glass secret's own check): the secret exists, is not
   scheduled for deletion, and the deployer can write it (a document without a token becomes current);
2. `save` right after the shares are stored: the root token. A failure here does not stop the run, which
   still holds the token; it only matters if a later step fails, and the run's error then says so;
3. `load` on a later run without state: the token, if a failed run left one;
4. `clear` once the root token is revoked: a document without it becomes current and the version that held
   it loses its label (an unlabelled version is deprecated; the token in it is revoked anyway).

Values are never logged or returned outside this process; errors name the secret, never its content.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from providers.break_glass import READ_WRITE_ACCESS, explain
from providers.common import BootstrapError, aws_error_code

FORMAT = "candlefish-vault-bootstrap-resume/1"
WHAT = "the bootstrap-resume secret"


def _document(vault_address: str, status: str, root_token: str | None = None) -> str:
    body: dict[str, Any] = {
        "format": FORMAT,
        "status": status,
        "vault_address": vault_address,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if root_token is not None:
        body["root_token"] = root_token
    return json.dumps(body)


def _put(sm: Any, secret_id: str, value: str) -> str:
    written = sm.put_secret_value(
        SecretId=secret_id, SecretString=value, ClientRequestToken=str(uuid.uuid4())
    )
    return str(written["VersionId"])


def preflight(sm: Any, secret_id: str, vault_address: str) -> None:
    """Prove the secret exists and takes a value before Vault is initialised."""
    doing = "write (checking it before initialising Vault)"
    try:
        if sm.describe_secret(SecretId=secret_id).get("DeletedDate"):
            raise BootstrapError(
                f"{WHAT} {secret_id} is scheduled for deletion ({doing}); restore it with `aws "
                f"secretsmanager restore-secret --secret-id {secret_id}` and re-run `pulumi up`"
            )
        _put(sm, secret_id, _document(vault_address, "initialising"))
    except BootstrapError:
        raise
    except Exception as error:
        raise explain(error, secret_id, doing, what=WHAT, needs=READ_WRITE_ACCESS) from None


def save(sm: Any, secret_id: str, vault_address: str, root_token: str) -> str:
    """Keep the root token; returns "" when kept, else why not (the caller goes on without it)."""
    try:
        _put(sm, secret_id, _document(vault_address, "bootstrapping", root_token))
    except Exception as error:
        return str(explain(error, secret_id, "keep the root token in", what=WHAT, needs=READ_WRITE_ACCESS))
    return ""


def load(sm: Any, secret_id: str) -> str | None:
    """The root token an unfinished bootstrap left, or None."""
    try:
        current = sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    except Exception as error:
        if aws_error_code(error) == "ResourceNotFoundException":
            return None
        raise explain(error, secret_id, "read", what=WHAT, needs=READ_WRITE_ACCESS) from None
    try:
        document = json.loads(current.get("SecretString") or "")
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    token = document.get("root_token")
    return str(token) if token else None


def clear(sm: Any, secret_id: str, vault_address: str) -> None:
    """After the root token is revoked: nothing current holds it, and its version loses AWSPREVIOUS.
    Best effort: the token is already revoked, so a failure here leaves only a dead token behind."""
    with contextlib.suppress(Exception):
        before = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        held = [version for version, stages in before.items() if "AWSCURRENT" in stages]
        _put(sm, secret_id, _document(vault_address, "root token revoked"))
        for version in held:
            sm.update_secret_version_stage(
                SecretId=secret_id, VersionStage="AWSPREVIOUS", RemoveFromVersionId=version
            )
