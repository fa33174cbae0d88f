"""Helpers shared by the seeding providers: fingerprints, deterministic tokens, clear errors."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pulumi.runtime import rpc

# Names the idempotency tokens: uuid5(SEED_NAMESPACE, "<secret>|<reseed>") is the same on every run.
SEED_NAMESPACE = uuid.UUID("8b0d6c55-2f8e-4d6a-9a57-3c1f0e7a1d42")


class SeedError(RuntimeError):
    """A seeding step failed; the message says what happened and what to do next."""


def fingerprint(value: str) -> str:
    """SHA-256 of a secret value: what state keeps instead of the value."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def request_token(secret_id: str, reseed: str) -> str:
    """A ClientRequestToken that repeats exactly for the same secret and reseed trigger."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{secret_id}|{reseed}"))


def plain(value: Any) -> Any:
    """Unwrap a Pulumi secret marker if the engine sent one; the providers never log or return values."""
    return rpc.unwrap_rpc_secret(value)
