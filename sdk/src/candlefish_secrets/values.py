"""Turning what a backend returned into the immutable text and document the cache hands out.

The catalog stores a secret in Vault as `{"value": "<the secret>"}` and in Secrets Manager as the bare
string, so a reference without `#field` reads as that string from either store. Other KV data without a
field reads as its JSON text. `get_json` is always the JSON parse of what `get` returns, frozen: mappings
become read-only `MappingProxyType`s and lists become tuples, so a caller cannot change the cached copy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from candlefish_secrets.errors import NotJson, SecretNotFound

CATALOG_VALUE_KEY = "value"
MASK = "***"


def freeze(document: Any) -> Any:
    """A deep, read-only copy of a JSON document."""
    if isinstance(document, dict):
        return MappingProxyType({str(key): freeze(value) for key, value in document.items()})
    if isinstance(document, list | tuple):
        return tuple(freeze(value) for value in document)
    return document


def as_text(value: Any) -> str:
    """A field's value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(_thaw(value), sort_keys=True, separators=(",", ":"))


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    return value


def pick_field(data: Mapping[str, Any], field: str | None, where: str) -> str:
    """The text a reference names within KV data: the field, the catalog's `value`, or all of it as JSON."""
    if field is not None:
        if field not in data:
            raise SecretNotFound(
                f"{where} has no field {field!r} (fields: {', '.join(sorted(data)) or 'none'})"
            )
        return as_text(data[field])
    if set(data) == {CATALOG_VALUE_KEY} and isinstance(data[CATALOG_VALUE_KEY], str):
        return str(data[CATALOG_VALUE_KEY])
    return as_text(data)


def pick_from_string(secret_string: str, field: str | None, where: str) -> str:
    """The text a reference names within a Secrets Manager string: all of it, or one field of its JSON."""
    if field is None:
        return secret_string
    document = parse_json(secret_string, where)
    if not isinstance(document, Mapping):
        raise SecretNotFound(f"{where}: the secret is not a JSON object, so it has no field {field!r}")
    return pick_field(document, field, where)


def parse_json(text: str, where: str) -> Any:
    """`text` parsed as JSON and frozen; the error names the reference, never the text."""
    try:
        return freeze(json.loads(text))
    except ValueError:
        raise NotJson(f"{where}: the value is not a JSON document") from None
