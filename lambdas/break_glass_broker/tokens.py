"""The broker's Vault calls: mint a break-glass token from its token role, response-wrapped, and revoke
tokens by accessor. Nothing else: the broker's Vault policy allows only these paths.

The token role (written by the Vault bootstrap) makes the token an orphan, not renewable, with an explicit
max TTL equal to the configured limit, so it outlives the broker's own short login token and cannot outlive
its window. The broker only ever sees the wrapping token; the break-glass token itself is unwrapped once, by
the requester, and its accessor (not a secret: it cannot be used to authenticate) is what gets recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from lambdas.rotation.vault import VaultClient, VaultError

NOT_FOUND_MARKERS = ("invalid accessor", "not found", "bad token")
# The bootstrap's file audit device (providers/vault_config.py), whose HMAC key the audit log's values use.
AUDIT_DEVICE = "file"


@dataclass(frozen=True)
class Wrapped:
    """A minted token as the broker hands it on: the single-use wrapping token and the minted token's
    accessor. `repr` never shows the wrapping token."""

    wrapping_token: str
    accessor: str
    wrap_ttl_s: int
    # The accessor as the file audit device writes it (HMAC-SHA256): what the audit log can be searched for.
    accessor_hmac: str = ""

    def __repr__(self) -> str:
        return f"Wrapped(accessor={self.accessor!r}, wrap_ttl_s={self.wrap_ttl_s})"


class TokenSource(Protocol):
    """What the broker needs from Vault (`Tokens` here; tests may inject faults)."""

    def mint(
        self, token_role: str, ttl_s: int, wrap_ttl_s: int, meta: dict[str, str], display: str
    ) -> Wrapped: ...

    def revoke(self, accessor: str) -> bool: ...


class TokenError(RuntimeError):
    """Vault refused or could not be reached; the message names the step, never a token."""


class Tokens:
    """Vault operations, each under a fresh broker login that is revoked afterwards."""

    def __init__(self, login: Callable[[], VaultClient]) -> None:
        self._login = login

    @contextmanager
    def session(self) -> Iterator[VaultClient]:
        try:
            client = self._login()
        except VaultError as error:
            raise TokenError(f"the broker could not log in to Vault: {error}") from None
        try:
            yield client
        finally:
            with contextlib.suppress(VaultError):  # the login token is short-lived anyway
                client.call("POST", "auth/token/revoke-self")

    def mint(
        self, token_role: str, ttl_s: int, wrap_ttl_s: int, meta: dict[str, str], display: str
    ) -> Wrapped:
        body = {"ttl": f"{ttl_s}s", "display_name": display, "meta": meta, "renewable": False}
        with self.session() as vault:
            try:
                answer = vault.call(
                    "POST",
                    f"auth/token/create/{token_role}",
                    body,
                    headers={"X-Vault-Wrap-TTL": f"{wrap_ttl_s}s"},
                )
            except VaultError as error:
                raise TokenError(f"Vault refused to mint from token role {token_role}: {error}") from None
            wrap = answer.get("wrap_info") or {}
            if not wrap.get("token") or not wrap.get("wrapped_accessor"):
                raise TokenError(
                    f"Vault answered auth/token/create/{token_role} without a wrapped token; the broker "
                    "never hands out an unwrapped one"
                )
            accessor = str(wrap["wrapped_accessor"])
            return Wrapped(
                str(wrap["token"]), accessor, int(wrap.get("ttl") or wrap_ttl_s), _audit_hash(vault, accessor)
            )

    def revoke(self, accessor: str) -> bool:
        """Revoke a token (and everything issued under it) by accessor. Revoking one that is already gone
        is not an error (OpenBao answers 204; an older Vault may answer 400 "invalid accessor": False)."""
        with self.session() as vault:
            try:
                vault.call("POST", "auth/token/revoke-accessor", {"accessor": accessor})
            except VaultError as error:
                if error.status in {400, 403, 404} and _gone(str(error)):
                    return False
                raise TokenError(
                    f"Vault did not revoke the token with accessor {accessor}: {error}"
                ) from None
        return True

    def lookup(self, accessor: str) -> dict[str, Any] | None:
        """The token's remaining TTL and policies, or None when Vault no longer knows it."""
        with self.session() as vault:
            try:
                answer = vault.call("POST", "auth/token/lookup-accessor", {"accessor": accessor})
            except VaultError as error:
                if error.status in {400, 403, 404} and _gone(str(error)):
                    return None
                raise TokenError(f"Vault did not look up accessor {accessor}: {error}") from None
        data = answer.get("data") or {}
        return {"ttl": int(data.get("ttl") or 0), "policies": list(data.get("policies") or [])}


def _audit_hash(vault: VaultClient, accessor: str) -> str:
    """The accessor's HMAC in the file audit device (empty if that cannot be had: it only helps search)."""
    try:
        answer = vault.call("POST", f"sys/audit-hash/{AUDIT_DEVICE}", {"input": accessor})
    except VaultError:
        return ""
    return str((answer.get("data") or answer).get("hash") or "")


def _gone(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in NOT_FOUND_MARKERS)
