"""Secret references: `vault://<path>[#field][?version=N]` and `aws-sm://<name-or-arn>[#field][?stage=|version=]`.

Anything that does not start with one of the two schemes is a plain value and is used as it is. A string
that starts with a scheme but is malformed is an error naming the reference (references are addresses,
never values, so they may appear in messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

from candlefish_secrets.errors import InvalidReference

VAULT_SCHEME = "vault://"
AWS_SM_SCHEME = "aws-sm://"
SCHEMES = (VAULT_SCHEME, AWS_SM_SCHEME)

# KV v2 path segments as Vault accepts them for this platform: no empty segments, no `.` or `..`.
_VAULT_SEGMENT = re.compile(r"[A-Za-z0-9_.@+=-]+")
# Secrets Manager: names are 1-512 of [A-Za-z0-9/_+=.@-]; an ARN adds its own prefix.
_SM_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_SM_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}")
_STAGE = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{32,64}")
_FIELD = re.compile(r"[^#?]{1,256}")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed reference. `text` is the reference exactly as written (also the cache key)."""

    scheme: Literal["vault", "aws-sm"]
    path: str
    field: str | None = None
    version: int | None = None  # vault: a KV v2 version number
    stage: str | None = None  # aws-sm: a staging label such as AWSPREVIOUS
    version_id: str | None = None  # aws-sm: a version id
    text: str = ""

    @property
    def pinned(self) -> bool:
        """True when the reference names one version (it can never change, so it is never re-checked)."""
        return self.version is not None or self.version_id is not None


def is_reference(text: str) -> bool:
    """True when `text` starts with `vault://` or `aws-sm://` (and so must parse)."""
    return text.startswith(SCHEMES)


def parse(text: str) -> Reference | None:
    """The reference `text` names, or None for a plain value; a malformed reference is InvalidReference."""
    if text.startswith(VAULT_SCHEME):
        return _parse_vault(text)
    if text.startswith(AWS_SM_SCHEME):
        return _parse_aws_sm(text)
    return None


def require(text: str) -> Reference:
    """Like `parse`, but a plain value is an error too (for commands that take only references)."""
    reference = parse(text)
    if reference is None:
        raise InvalidReference(
            f"{_shown(text)} is not a reference: expected vault://<path>[#field][?version=N] or "
            "aws-sm://<name-or-arn>[#field][?stage=LABEL|version=ID]"
        )
    return reference


def _shown(text: str) -> str:
    # A plain value might be a secret itself: name only its first characters.
    return repr(text) if is_reference(text) else f"a plain value ({len(text)} characters)"


def _split(text: str, scheme: str) -> tuple[str, str | None, dict[str, str]]:
    body = text[len(scheme) :]
    query: dict[str, str] = {}
    trailing_field: str | None = None
    if "?" in body:
        body, _, raw_query = body.partition("?")
        if "#" in raw_query:  # URL order (`?version=2#field`) is accepted too
            raw_query, _, trailing_field = raw_query.partition("#")
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise InvalidReference(f"{text!r}: query {raw_query!r} is not key=value pairs") from None
        for key, value in pairs:
            if key in query:
                raise InvalidReference(f"{text!r}: query parameter {key!r} is given twice")
            query[key] = value
    field: str | None = None
    if "#" in body:
        body, _, field = body.partition("#")
    if trailing_field is not None:
        if field is not None:
            raise InvalidReference(f"{text!r}: give one #field, not two")
        field = trailing_field
    if field is not None and not _FIELD.fullmatch(field):
        raise InvalidReference(f"{text!r}: the #field is empty or too long")
    return body, field, query


def _unknown_query(text: str, query: dict[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise InvalidReference(
            f"{text!r}: unknown query parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )


def _parse_vault(text: str) -> Reference:
    path, field, query = _split(text, VAULT_SCHEME)
    _unknown_query(text, query, {"version"})
    segments = path.strip("/").split("/")
    if not path.strip("/") or any(
        not _VAULT_SEGMENT.fullmatch(segment) or segment in {".", ".."} for segment in segments
    ):
        raise InvalidReference(
            f"{text!r}: {path!r} is not a KV path (segments of letters, digits and _.@+=- joined by '/', "
            "e.g. vault://candlefish/mongodb/connection)"
        )
    version: int | None = None
    if "version" in query:
        raw = query["version"]
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidReference(f"{text!r}: version {raw!r} is not a positive whole number")
        version = int(raw)
    return Reference("vault", "/".join(segments), field=field, version=version, text=text)


def _parse_aws_sm(text: str) -> Reference:
    name, field, query = _split(text, AWS_SM_SCHEME)
    _unknown_query(text, query, {"stage", "version"})
    if not (_SM_ARN.fullmatch(name) or _SM_NAME.fullmatch(name)):
        raise InvalidReference(
            f"{text!r}: {name!r} is not a Secrets Manager name or ARN (1-512 of letters, digits and /_+=.@-)"
        )
    if "stage" in query and "version" in query:
        raise InvalidReference(f"{text!r}: give either ?stage= or ?version=, not both")
    stage = query.get("stage")
    if stage is not None and not _STAGE.fullmatch(stage):
        raise InvalidReference(
            f"{text!r}: stage {stage!r} is not a staging label (e.g. AWSCURRENT, AWSPREVIOUS)"
        )
    version_id = query.get("version")
    if version_id is not None and not _VERSION_ID.fullmatch(version_id):
        raise InvalidReference(f"{text!r}: version {version_id!r} is not a Secrets Manager version id")
    return Reference("aws-sm", name, field=field, stage=stage, version_id=version_id, text=text)
