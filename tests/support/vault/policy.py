"""ACL policies: a small tolerant parser for Vault policy HCL (or JSON) and Vault's path-matching rules.

Matching follows docs/concepts/policies "Priority matching": when several policy paths match a request path,
the highest-priority one wins (exact paths first); capabilities of the *same* pattern in different policies
are unioned, and ``deny`` on the winning pattern denies everything.  ``*`` is a suffix glob, ``+`` matches
exactly one path segment.

Parameter constraints (docs/concepts/policies "Parameter constraints"; vault/acl.go ``AllowOperation``):
``required_parameters``, ``allowed_parameters`` and ``denied_parameters`` of the winning pattern are checked
against the request's top-level fields on read, create, update and patch. Values match exactly or with a
leading and/or trailing ``*`` (strutil ``GlobbedStringsMatch``); anything that is not a string (a list, a
map, a boolean) only matches an equal value. A list value is matched as a whole, as Vault 1.20 and earlier
do; ``per_element`` models Vault 1.21+, which also checks each element of a list or comma-separated string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

CAPABILITIES = frozenset({"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe"})
ALL_CAPABILITIES = frozenset(CAPABILITIES - {"deny"})

#: Vault's built-in ``default`` policy (the parts that concern endpoints this server implements).
DEFAULT_POLICY = """
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
"""


class PolicyParseError(ValueError):
    pass


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<heredoc><<-?(?P<tag>[A-Za-z_]+)\n.*?\n\s*(?P=tag))
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_\-.]*)
  | (?P<punct>[{}\[\]=,:])
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise PolicyParseError(f"At {line}: illegal char {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind == "tag":
            kind = "heredoc"
        line = text.count("\n", 0, pos) + 1
        if kind not in {"ws", "comment"}:
            value = match.group(kind) if kind != "heredoc" else match.group("heredoc")
            tokens.append((kind, value, line))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise PolicyParseError("unexpected end of policy")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        _, got, line = self.take()
        if got != value:
            raise PolicyParseError(f"At {line}: expected {value!r}, got {got!r}")

    def value(self) -> object:
        kind, text, line = self.take()
        if kind == "string":
            return json.loads(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "ident":
            return {"true": True, "false": False}.get(text, text)
        if kind == "heredoc":
            return text.split("\n", 1)[1].rsplit("\n", 1)[0]
        if text == "[":
            items: list[object] = []
            while True:
                token = self.peek()
                if token is not None and token[1] == "]":
                    self.take()
                    return items
                items.append(self.value())
                token = self.peek()
                if token is not None and token[1] == ",":
                    self.take()
        if text == "{":
            return self.body(closing="}")
        raise PolicyParseError(f"At {line}: unexpected token {text!r}")

    def body(self, closing: str | None) -> dict[str, object]:
        """``key = value`` pairs and ``label "name" { ... }`` blocks until ``closing`` (or the end)."""
        result: dict[str, object] = {}
        while True:
            token = self.peek()
            if token is None:
                if closing is not None:
                    raise PolicyParseError("unexpected end of policy: missing '}'")
                return result
            if token[1] == closing:
                self.take()
                return result
            if token[1] == ",":
                self.take()
                continue
            kind, key, line = self.take()
            if kind == "string":
                key = json.loads(key)
            elif kind != "ident":
                raise PolicyParseError(f"At {line}: expected a key, got {key!r}")
            nxt = self.peek()
            if nxt is not None and nxt[1] in {"=", ":"}:
                self.take()
                result[key] = self.value()
            elif nxt is not None and nxt[0] == "string":
                label = json.loads(self.take()[1])
                self.expect("{")
                block = self.body(closing="}")
                section = result.setdefault(key, {})
                if not isinstance(section, dict):
                    raise PolicyParseError(f"At {line}: {key!r} is both a value and a block")
                section[label] = block
            elif nxt is not None and nxt[1] == "{":
                self.take()
                result[key] = self.body(closing="}")
            else:
                raise PolicyParseError(f"At {line}: expected '=' or a block after {key!r}")


ParameterValues = dict[str, list[object]]


@dataclass(frozen=True)
class PathRule:
    pattern: str
    capabilities: frozenset[str]
    allowed_parameters: ParameterValues | None = None
    denied_parameters: ParameterValues | None = None
    required_parameters: tuple[str, ...] = ()


@dataclass
class Policy:
    name: str
    text: str
    rules: list[PathRule] = field(default_factory=list)


LEGACY_POLICY_VALUES = {
    "deny": ["deny"],
    "read": ["read", "list"],
    "write": ["create", "read", "update", "delete", "list"],
    "sudo": ["create", "read", "update", "delete", "list", "sudo"],
}


def _parameter_values(pattern: str, block: dict[str, object], key: str) -> ParameterValues | None:
    """``allowed_parameters``/``denied_parameters``: parameter name (lowercased, as Vault stores it) to a
    list of values."""
    raw = block.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise PolicyParseError(f"path {pattern!r}: {key} must be a map of parameter to values")
    values: ParameterValues = {}
    for name, listed in raw.items():
        if not isinstance(listed, list):
            raise PolicyParseError(f"path {pattern!r}: {key}.{name} must be a list")
        values[str(name).lower()] = list(listed)
    return values


def _rule(pattern: str, block: object) -> PathRule:
    if not isinstance(block, dict):
        raise PolicyParseError(f"path {pattern!r}: expected a block")
    raw_caps = block.get("capabilities", [])
    policy_value = block.get("policy")  # pre-0.9 syntax: policy = "read"
    if not raw_caps and isinstance(policy_value, str):
        raw_caps = LEGACY_POLICY_VALUES.get(policy_value, [])
    if not isinstance(raw_caps, list):
        raise PolicyParseError(f"path {pattern!r}: capabilities must be a list")
    caps = {str(cap).lower() for cap in raw_caps}
    unknown = sorted(caps - CAPABILITIES)
    if unknown:
        raise PolicyParseError(f"path {pattern!r}: invalid capability {unknown[0]!r}")
    required = block.get("required_parameters", [])
    if not isinstance(required, list):
        raise PolicyParseError(f"path {pattern!r}: required_parameters must be a list")
    return PathRule(
        pattern=pattern.lstrip("/"),
        capabilities=frozenset(caps),
        allowed_parameters=_parameter_values(pattern, block, "allowed_parameters"),
        denied_parameters=_parameter_values(pattern, block, "denied_parameters"),
        required_parameters=tuple(str(name) for name in required),
    )


def parse_policy(name: str, text: str) -> Policy:
    """Parse HCL or JSON policy text; raises ``PolicyParseError`` with a Vault-like message."""
    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            document = json.loads(stripped)
            if not isinstance(document, dict):
                raise PolicyParseError("policy JSON must be an object")
        else:
            document = _Parser(text).body(closing=None)
    except json.JSONDecodeError as exc:
        raise PolicyParseError(str(exc)) from None
    paths = document.get("path", {})
    if isinstance(paths, list):  # JSON form [{"secret/*": {...}}]
        merged: dict[str, object] = {}
        for item in paths:
            if isinstance(item, dict):
                merged.update(item)
        paths = merged
    if not isinstance(paths, dict):
        raise PolicyParseError("'path' must be a block")
    rules = [_rule(str(pattern), block) for pattern, block in paths.items()]
    return Policy(name=name, text=text, rules=rules)


def _compile(pattern: str) -> re.Pattern[str]:
    glob = pattern.endswith("*")
    body = pattern[:-1] if glob else pattern
    parts = [("[^/]+" if segment == "+" else re.escape(segment)) for segment in body.split("/")]
    return re.compile("/".join(parts) + (".*" if glob else ""), re.DOTALL)


def _priority(pattern: str) -> tuple[float, bool, int, int, str]:
    """Sort key: larger is higher priority (docs/concepts/policies, rules 1-5)."""
    positions = [i for i in (pattern.find("+"), pattern.find("*")) if i >= 0]
    first_wildcard = float(min(positions)) if positions else float("inf")
    plus_segments = pattern.split("/").count("+")
    return (first_wildcard, not pattern.endswith("*"), -plus_segments, len(pattern), pattern)


@dataclass
class Permissions:
    """What the policies of one token grant on one pattern, merged as vault/acl.go ``NewACL`` does."""

    capabilities: set[str]
    allowed: ParameterValues | None = None
    denied: ParameterValues | None = None
    required: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rule: PathRule) -> Permissions:
        return cls(
            capabilities=set(rule.capabilities),
            allowed=_copy_values(rule.allowed_parameters),
            denied=_copy_values(rule.denied_parameters),
            required=list(rule.required_parameters),
        )

    def merge(self, rule: PathRule) -> None:
        if "deny" in self.capabilities:
            return  # an explicit deny keeps nothing else
        if "deny" in rule.capabilities:
            self.capabilities, self.allowed, self.denied = {"deny"}, None, None
            return
        self.capabilities |= rule.capabilities
        self.allowed = _merge_values(self.allowed, rule.allowed_parameters)
        self.denied = _merge_values(self.denied, rule.denied_parameters)
        self.required += [name for name in rule.required_parameters if name not in self.required]


def _copy_values(values: ParameterValues | None) -> ParameterValues | None:
    return {name: list(listed) for name, listed in values.items()} if values else None


def _merge_values(have: ParameterValues | None, new: ParameterValues | None) -> ParameterValues | None:
    """Values of the same parameter are appended; an empty list (any value) wins over a populated one."""
    if not new:
        return have
    if have is None:
        return _copy_values(new)
    for name, listed in new.items():
        if not listed or (name in have and not have[name]):
            have[name] = []
        else:
            have[name] = [*listed, *have.get(name, [])]
    return have


def _same(expected: object, value: object) -> bool:
    """Go's ``reflect.DeepEqual`` on decoded JSON/HCL: equal values of one kind (``true`` is not ``1``)."""
    if type(expected) is not type(value):
        return False
    if isinstance(expected, list) and isinstance(value, list):
        return len(expected) == len(value) and all(map(_same, expected, value))
    if isinstance(expected, dict) and isinstance(value, dict):
        return expected.keys() == value.keys() and all(_same(expected[k], value[k]) for k in expected)
    return expected == value


def globbed_match(item: str, value: str) -> bool:
    """strutil ``GlobbedStringsMatch``: ``*x`` suffix, ``x*`` prefix, ``*x*`` substring, else equality."""
    if len(item) < 2:
        return value == item
    if item.startswith("*") and item.endswith("*"):
        return item[1:-1] in value
    if item.startswith("*"):
        return value.endswith(item[1:])
    if item.endswith("*"):
        return value.startswith(item[:-1])
    return value == item


def _listed(value: object, values: list[object]) -> bool:
    """vault/acl.go ``valueInParameterList`` on a populated list."""
    for item in values:
        if isinstance(item, str) and isinstance(value, str):
            if globbed_match(item, value):
                return True
        elif item is None or value is None:
            if item is value:
                return True
        elif _same(item, value):
            return True
    return False


def _elements(value: object) -> list[object] | None:
    """A list value's elements, or a comma-separated string's (Vault 1.21+ ``ParseCommaStringSlice``)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return None


def value_allowed(value: object, values: list[object], *, per_element: bool) -> bool:
    if not values or _listed(value, values):
        return True
    elements = _elements(value) if per_element else None
    return elements is not None and all(_listed(element, values) for element in elements)


def value_denied(value: object, values: list[object], *, per_element: bool) -> bool:
    if not values or _listed(value, values):
        return True
    elements = _elements(value) if per_element else None
    return elements is not None and any(_listed(element, values) for element in elements)


def parameters_allowed(permissions: Permissions, data: dict[str, object], *, per_element: bool) -> bool:
    """The parameter half of vault/acl.go ``AllowOperation`` (read, create, update and patch only)."""
    if any(name.lower() not in data for name in permissions.required):
        return False
    if not data:
        return True
    denied = permissions.denied or {}
    if denied:
        if "*" in denied:
            return False
        for name, value in data.items():
            listed = denied.get(name.lower())
            if listed is not None and value_denied(value, listed, per_element=per_element):
                return False
    allowed = permissions.allowed or {}
    if not allowed or set(allowed) == {"*"}:
        return True
    for name, value in data.items():
        listed = allowed.get(name.lower())
        if listed is None:
            if "*" not in allowed:
                return False
        elif not value_allowed(value, listed, per_element=per_element):
            return False
    return True


class ACL:
    """The merged rules of a token's policies."""

    def __init__(self, policies: list[Policy], *, root: bool = False) -> None:
        self.root = root
        merged: dict[str, Permissions] = {}
        for policy in policies:
            for rule in policy.rules:
                if rule.pattern in merged:
                    merged[rule.pattern].merge(rule)
                else:
                    merged[rule.pattern] = Permissions.of(rule)
        self._rules = [(pattern, _compile(pattern), permissions) for pattern, permissions in merged.items()]

    def permissions(self, path: str, *, listing: bool = False) -> Permissions | None:
        """The winning pattern's permissions on ``path``, None when no pattern matches."""
        best: tuple[tuple[float, bool, int, int, str], Permissions] | None = None
        for pattern, regex, permissions in self._rules:
            matched = regex.fullmatch(path) is not None
            if not matched and listing and not pattern.endswith("*"):
                # LIST requests carry a trailing slash; Vault also tries the exact rule without it.
                matched = regex.fullmatch(path.rstrip("/")) is not None
            if matched:
                key = _priority(pattern)
                if best is None or key > best[0]:
                    best = (key, permissions)
        return best[1] if best is not None else None

    def capabilities(self, path: str, *, listing: bool = False) -> frozenset[str]:
        """Capabilities granted on ``path``; ``{"deny"}`` when nothing matches or the best match denies."""
        if self.root:
            return frozenset({"root"})
        permissions = self.permissions(path, listing=listing)
        if permissions is None or "deny" in permissions.capabilities:
            return frozenset({"deny"})
        return frozenset(permissions.capabilities)

    def allows(self, path: str, capability: str, *, listing: bool = False) -> bool:
        if self.root:
            return True
        return capability in self.capabilities(path, listing=listing)
