"""Reading resource properties as the policy SDK hands them over.

`args.props` are camelCase inputs wrapped in the SDK's unknown-checking proxies: mappings and sequences
(not dicts and lists) whose items raise `UnknownValueError` when read while unknown at preview. The engine
turns that into an advisory "can't run policy during preview" note, so rules simply read what they need
and let it propagate; only helpers that look for *optional* evidence (ids to match, text to scan) skip
unknown items with `known_items` / `known_get`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> Sequence[Any]:
    """`value` if it is a list (not a string), else an empty one."""
    return value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects in a list of objects (blocks such as `ingress`, `blockDeviceMappings`)."""
    return [item for item in sequence(value) if isinstance(item, Mapping)]


def strings(value: Any) -> list[str]:
    """A string or a list of strings, as a list (IAM `Action`, `Resource`, principals)."""
    if isinstance(value, str):
        return [value]
    return [item for item in sequence(value) if isinstance(item, str)]


def is_true(value: Any) -> bool:
    """True for `True` and for the string "true" (launch templates take booleans as strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    """True only for an explicit false (`False` or "false"), not for an unset value."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def as_number(value: Any) -> float | None:
    """A number given as a number or a numeric string (config from JSON arrives as floats)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


COMPUTED = "(computed)"  # what `value_or_computed` returns for a value unknown at preview


def value_or_computed(container: Mapping[str, Any], key: str) -> Any:
    """`container[key]`; COMPUTED if it is unknown at preview, i.e. set from another resource's output.

    For a rule that only needs to know a reference is *set* (a KMS key id from the stack's own key), that
    is an answer, where reading the value would make the whole rule "can't run during preview".
    """
    try:
        return container.get(key)
    except UnknownValueError:
        return COMPUTED


def has_key(container: Mapping[str, Any], key: str) -> bool:
    """`key in container`, without reading the value (which may be unknown at preview)."""
    return any(existing == key for existing in container)


def known_get(container: Mapping[str, Any], key: str) -> Any:
    """`container[key]`, or None when it is missing or unknown at preview."""
    try:
        return container.get(key)
    except UnknownValueError:
        return None


def known_items(container: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The known (key, value) pairs of an object; unknown values are skipped."""
    for key in container:
        try:
            value = container[key]
        except UnknownValueError:
            continue
        yield key, value


def known_elements(values: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """The known (index, value) pairs of a list; unknown values are skipped."""
    for index in range(len(values)):
        try:
            value = values[index]
        except UnknownValueError:
            continue
        yield index, value


def tags_of(props: Mapping[str, Any]) -> dict[str, str]:
    """A resource's tags: the usual `tags` map, or an Auto Scaling group's list of {key, value}."""
    tags = props.get("tags")
    if isinstance(tags, Mapping):
        return {str(key): str(value) for key, value in known_items(tags) if value is not None}
    found: dict[str, str] = {}
    for item in mappings(tags):
        key, value = known_get(item, "key"), known_get(item, "value")
        if isinstance(key, str) and value is not None:
            found[key] = str(value)
    return found


def parse_document(value: Any) -> Mapping[str, Any] | None:
    """An IAM / resource policy document given as JSON text or as an object; None if it is neither."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document (a single statement object counts as one)."""
    if document is None:
        return []
    body = document.get("Statement")
    return [body] if isinstance(body, Mapping) else mappings(body)


def principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of every principal of a statement; `"Principal": "*"` is ("*", "*")."""
    principal = statement.get("Principal")
    if principal == "*":
        return [("*", "*")]
    return [(str(kind), value) for kind, values in mapping(principal).items() for value in strings(values)]


BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
GZIP_MAGIC = b"\x1f\x8b"
MAX_DECODED = 1 << 20  # user data is at most 16 KiB encoded; refuse anything that inflates past 1 MiB


def decode_text(text: str) -> str:
    """Base64 (optionally gzipped) text decoded, as user data usually is; else the text itself."""
    compact = "".join(text.split())
    if len(compact) < 16 or len(compact) % 4 or not BASE64.fullmatch(compact):
        return text
    try:
        raw = base64.b64decode(compact, validate=True)
        if raw.startswith(GZIP_MAGIC):
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as packed:
                raw = packed.read(MAX_DECODED)
        return raw.decode("utf-8")
    except (binascii.Error, OSError, EOFError, UnicodeDecodeError):
        return text


def is_allow(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Effect", "Allow")) == "Allow"
