"""Request/response plumbing shared by every part of the Vault test server.

Error bodies follow Vault's HTTP layer: ``{"errors": [...]}`` with ``Content-Type: application/json``.
Backend errors that Vault returns as ``logical.ErrorResponse`` come back as the bare message; plain Go errors
returned from a backend are wrapped by Vault's request handler in a ``go-multierror`` and therefore read
``"1 error occurred:\\n\\t* <message>\\n\\n"`` (see ``multierror``).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSONDict = dict[str, Any]

#: The Vault version the server reports; error formats follow the 1.17 line (tokens.mdx "Error Responses").
VAULT_VERSION = "1.17.6"
#: Vault's default ``max_lease_ttl`` / ``default_lease_ttl`` (768h), used when a mount or role sets none.
DEFAULT_LEASE_TTL = 768 * 3600

PERMISSION_DENIED = "permission denied"


def multierror(*messages: str) -> str:
    """Format messages the way hashicorp/go-multierror's default formatter does."""
    if len(messages) == 1:
        return f"1 error occurred:\n\t* {messages[0]}\n\n"
    points = "".join(f"\n\t* {m}" for m in messages)
    return f"{len(messages)} errors occurred:{points}\n\n"


#: Body of a 403 for a token whose policies do not grant the operation (Vault wraps it in a multierror).
POLICY_DENIED = multierror(PERMISSION_DENIED)
#: Body of a 403 for a revoked, expired or unknown token
#: (Vault 1.17+, docs/concepts/tokens "Error Responses").
INVALID_TOKEN = multierror(PERMISSION_DENIED, "invalid token")
UNSUPPORTED_PATH = multierror("unsupported path")
UNSUPPORTED_OPERATION = multierror("unsupported operation")


class VaultHTTPError(Exception):
    """Raised by handlers; turned into ``{"errors": [...]}`` (or ``body`` when given) with ``status``."""

    def __init__(self, status: int, *errors: str, body: JSONDict | None = None) -> None:
        super().__init__(f"{status}: {'; '.join(errors)}")
        self.status = status
        self.errors = list(errors)
        self.body = body


def bad_request(message: str) -> VaultHTTPError:
    """A ``logical.ErrorResponse`` + ``ErrInvalidRequest``: 400 with the bare message."""
    return VaultHTTPError(400, message)


def internal_error(message: str) -> VaultHTTPError:
    """A plain error returned by a backend: 500 with the message wrapped in a multierror."""
    return VaultHTTPError(500, multierror(message))


def not_found() -> VaultHTTPError:
    """A read of something that does not exist: 404 with an empty ``errors`` list."""
    return VaultHTTPError(404)


@dataclass
class Request:
    """One API request, already decoded. ``path`` is the part after ``/v1/``."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: JSONDict
    raw_body: bytes
    headers: Mapping[str, str]
    token: str | None
    operation: str = ""

    def param(self, name: str, default: Any = None) -> Any:
        """A request field: the JSON body first, then the query string (Vault merges both for GETs)."""
        if name in self.body:
            return self.body[name]
        values = self.query.get(name)
        if values:
            return values[0]
        return default

    def has(self, name: str) -> bool:
        return name in self.body or name in self.query


@dataclass
class Response:
    status: int
    body: JSONDict | bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def envelope(
    data: Any = None,
    *,
    auth: JSONDict | None = None,
    lease_id: str = "",
    lease_duration: int = 0,
    renewable: bool = False,
    warnings: list[str] | None = None,
    mount_type: str = "",
) -> JSONDict:
    """Vault's standard logical response body."""
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": lease_id,
        "renewable": renewable,
        "lease_duration": lease_duration,
        "data": data,
        "wrap_info": None,
        "warnings": warnings or None,
        "auth": auth,
        "mount_type": mount_type,
    }


def ok(data: Any = None, **kwargs: Any) -> Response:
    return Response(200, envelope(data, **kwargs))


def no_content() -> Response:
    return Response(204)


def raw_json(status: int, body: JSONDict) -> Response:
    """A non-logical JSON body, as Vault's special handlers (sys/health, sys/init ...) write it."""
    return Response(status, body)


# --- values ---------------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, field_name: str = "ttl") -> int:
    """Parse Vault's duration inputs (int seconds, "90", "1h30m", "768h") to whole seconds."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise bad_request(f"error converting input {value!r} for field {field_name!r}")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise bad_request(
            f"error converting input {text} for field {field_name!r}: time: invalid duration {text!r}"
        )
    return int(total)


def format_go_duration(seconds: int) -> str:
    """Format seconds like Go's ``time.Duration.String()`` (``86400`` -> ``"24h0m0s"``)."""
    if seconds == 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def string_list(value: Any) -> list[str]:
    """Vault's ``TypeCommaStringSlice``: a JSON list or a comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return [str(value)]


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"1", "t", "true", "yes", "y"}:
        return True
    if text in {"0", "f", "false", "no", "n", ""}:
        return False
    raise bad_request(f"cannot parse {value!r} as bool")


def as_int(value: Any, field_name: str, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"error converting input {value!r} for field {field_name!r}") from None


def rfc3339(ts: float | None) -> str:
    """Vault's timestamp format (RFC 3339, UTC, sub-second precision); empty for "not set"."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- time -----------------------------------------------------------------------------------------------


class Clock:
    """The server's notion of "now": starts at the real time and moves only when a test advances it.

    Token TTLs, lease expiry, KV ``delete_version_after`` and secret-id TTLs all read this clock, so a test
    can expire a token with ``server.clock.advance(3601)`` instead of sleeping.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, timestamp: float) -> None:
        with self._lock:
            self._now = timestamp


TimeSource = Callable[[], float]
