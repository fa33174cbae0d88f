"""New secret values for rotation, shaped like the ones pulumi-random makes at first deploy."""

from __future__ import annotations

import base64
import re
import secrets
import string

# Formats a catalog entry can ask for (tag `ValueFormat`): "chars-<n>" or "base64-<bytes>".
_FORMAT = re.compile(r"(chars|base64)-(\d{1,4})")
ALPHABET = string.ascii_letters + string.digits + "-_"
MIN_CHARS = 32


class FormatError(ValueError):
    """A value format the rotation function does not know."""


def new_value(value_format: str) -> str:
    """A fresh random value: `chars-64` is 64 URL-safe characters, `base64-32` 32 random bytes in base64."""
    match = _FORMAT.fullmatch(value_format)
    if match is None:
        raise FormatError(f"unknown value format {value_format!r} (expected chars-<n> or base64-<bytes>)")
    kind, size = match.group(1), int(match.group(2))
    if kind == "base64":
        if size < 16:
            raise FormatError(f"{value_format!r}: fewer than 16 random bytes is too weak")
        return base64.b64encode(secrets.token_bytes(size)).decode()
    if size < MIN_CHARS:
        raise FormatError(f"{value_format!r}: fewer than {MIN_CHARS} characters is too weak")
    return "".join(secrets.choice(ALPHABET) for _ in range(size))
