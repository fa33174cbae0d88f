"""Typed reads of raw Pulumi config values that collect problems instead of stopping at the first.

Pulumi hands a program its config as strings: scalars as their text, lists and objects as JSON. A
`ConfigReader` turns those into Python values, records a `Problem` for anything malformed, and
remembers which keys were read so that the rest can be reported as unknown (usually typos).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# Keys this project once read under another name: the old name is reported with the new one.
RENAMED_KEYS: Mapping[str, str] = {"initialSecrets": "catalog"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the stack config: which key, what is wrong, and what is allowed."""

    key: str
    message: str
    allowed: str = ""

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" + (f" ({self.allowed})" if self.allowed else "")


class ConfigError(Exception):
    """Every problem found in a stack's config, reported together."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"the stack config has {len(self.problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class SecretRef:
    """A secure config value, named but never held: components turn it into a secret Output when used.

    `present` is False for a value the stack expects but nobody has set yet.
    """

    key: str
    present: bool = True


_MISSING: Any = object()


@dataclass
class ConfigReader:
    """Reads the keys of one config namespace, collecting problems as it goes."""

    namespace: str
    raw: Mapping[str, Any]
    secret_keys: frozenset[str] = frozenset()
    problems: list[Problem] = field(default_factory=list)
    read_keys: set[str] = field(default_factory=set)

    def full(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def problem(self, key: str, message: str, allowed: str = "", *, in_namespace: bool = True) -> None:
        """Record a problem with `key` (a key of this namespace unless `in_namespace` is False)."""
        self.problems.append(Problem(self.full(key) if in_namespace else key, message, allowed))

    def _take(self, key: str) -> Any:
        self.read_keys.add(key)
        return self.raw.get(key, _MISSING)

    def _decode(self, key: str, value: Any) -> Any:
        """JSON-decode strings holding lists or objects, as the Pulumi CLI passes them."""
        if isinstance(value, str) and value[:1] in "[{":
            try:
                return json.loads(value)
            except json.JSONDecodeError as err:
                self.problem(key, f"is not valid JSON ({err.msg})")
                return _MISSING
        return value

    def string(
        self, key: str, default: str | None = None, *, pattern: str | None = None, allowed: str = ""
    ) -> str | None:
        value = self._take(key)
        if value is _MISSING:
            if default is None:
                self.problem(key, "is required but not set", allowed)
            return default
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {type(value).__name__}", allowed)
            return default
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problem(key, f"{value!r} is not valid", allowed)
            return default
        return value

    def optional_string(self, key: str, *, pattern: str | None = None, allowed: str = "") -> str | None:
        """A string that may be absent; empty (the project default) counts as absent."""
        if self.raw.get(key, "") == "":
            self.read_keys.add(key)
            return None
        return self.string(key, pattern=pattern, allowed=allowed)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.string(key, default)
        allowed = "one of " + ", ".join(options)
        if value is not None and value not in options:
            self.problem(key, f"{value!r} is not a known value", allowed)
            return default
        return value

    def integer(self, key: str, default: int | None = None, *, low: int, high: int) -> int | None:
        value = self._take(key)
        allowed = f"an integer from {low} to {high}"
        if value is _MISSING:
            if default is None:
                self.problem(key, "is required but not set", allowed)
            return default
        number = _as_int(value)
        if number is None:
            self.problem(key, f"{value!r} is not an integer", allowed)
            return default
        if not low <= number <= high:
            self.problem(key, f"{number} is out of range", allowed)
            return default
        return number

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        value = self._take(key)
        if value is _MISSING:
            if default is None:
                self.problem(key, "is required but not set", "true or false")
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        self.problem(key, f"{value!r} is not a boolean", "true or false")
        return default

    def string_list(self, key: str, default: list[str] | None = None, *, allowed: str = "") -> list[str]:
        value = self._take(key)
        if value is _MISSING:
            if default is None:
                self.problem(key, "is required but not set", allowed or "a list of strings")
            return list(default or [])
        value = self._decode(key, value)
        if value is _MISSING:
            return list(default or [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(key, "must be a list of strings", allowed)
            return list(default or [])
        return value

    def mapping(self, key: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
        value = self._take(key)
        if value is _MISSING:
            if default is None:
                self.problem(key, "is required but not set", "an object")
            return dict(default or {})
        value = self._decode(key, value)
        if value is _MISSING:
            return dict(default or {})
        if not isinstance(value, dict):
            self.problem(key, "must be an object", "a map of names to values")
            return dict(default or {})
        return value

    def secret(self, key: str) -> SecretRef | None:
        """A secure value: present only if set, and only accepted if set with `--secret`."""
        self.read_keys.add(key)
        if key not in self.raw:
            return None
        if key not in self.secret_keys:
            self.problem(
                key,
                "is stored in plaintext in the stack file",
                f"set it with `pulumi config set --secret {key} ...`",
            )
            return None
        return SecretRef(key)

    def report_unknown(self) -> None:
        """Every key in the namespace that nothing read, with a suggestion when one is close."""
        for key in sorted(set(self.raw) - self.read_keys):
            guess = difflib.get_close_matches(key, sorted(self.read_keys), n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else "remove it or check the README's key list"
            if key in RENAMED_KEYS:
                hint = f"renamed: set it as {RENAMED_KEYS[key]!r}"
            self.problem(key, "is not a setting of this project", hint)


def log_retention(
    reader: ConfigReader, key: str, default: int, production_minimum: int | None, production: bool
) -> int:
    """Days to keep a CloudWatch log group: one of CloudWatch's periods, and long enough for production."""
    retention = reader.integer(key, default, low=1, high=3653)
    if retention is None:
        return default
    if retention not in LOG_RETENTION_DAYS:
        reader.problem(
            key,
            f"{retention} is not a CloudWatch retention period",
            "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )
    if production and production_minimum is not None and retention < production_minimum:
        reader.problem(key, f"{retention} days is too short for production", f"{production_minimum} or more")
    return retention


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None
