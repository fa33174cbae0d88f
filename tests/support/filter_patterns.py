"""A small evaluator for the JSON subset of CloudWatch Logs filter patterns, to test metric filters offline.

Follows AWS's "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
Tail" (CloudWatch Logs User Guide, section "Using filter patterns to match terms in JSON log events"):

- a pattern is `{ <expression> }`; expressions combine comparisons with `&&` and `||` (`&&` binds tighter)
  and parentheses;
- a comparison is `<selector> <op> <value>`: selectors start `$.`, name properties with dots, array
  elements with `[n]`, properties holding a dot with `['a.b']`, and any element or field with the wildcard
  `[*]` / `.*` (at most one wildcard per selector, three per pattern);
- `=` and `!=` compare strings (quoted, or bare when alphanumeric) in which `*` matches any text, numbers,
  or a regular expression between `%` signs (at most two per pattern; no parentheses in them);
- `<`, `>`, `<=`, `>=` compare numbers; `IS TRUE`, `IS FALSE`, `IS NULL` test literals; `NOT EXISTS` tests
  absence;
- a selector that points at an object or array, or at nothing, makes its comparison false (whatever the
  operator; use NOT EXISTS for absence); a message that is not JSON never matches.

Unstructured and space-delimited patterns are out of scope: the project's patterns are all JSON patterns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_WILDCARD_SELECTORS = 3
MAX_REGEXES = 2
# What AWS allows inside %...%: letters, digits, the listed symbols and operators, and backslash escapes.
REGEX_CHARACTERS = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+. ]*")
NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
KEYWORDS = ("IS", "NOT", "EXISTS", "TRUE", "FALSE", "NULL")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")


class PatternError(ValueError):
    """The pattern is not valid CloudWatch Logs filter pattern syntax (or breaks one of its quotas)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "{", "}", "(", ")", "&&", "||", "op", "selector", "string", "regex", "bare", "keyword"
    text: str


ANY = ("any",)


@dataclass(frozen=True)
class Comparison:
    steps: tuple[tuple[Any, ...], ...]
    op: str  # an operator, "IS" or "NOT EXISTS"
    value: Token | None


@dataclass(frozen=True)
class Both:
    left: Any
    right: Any


@dataclass(frozen=True)
class Either:
    left: Any
    right: Any


def tokens(pattern: str) -> list[Token]:
    found: list[Token] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char.isspace():
            index += 1
            continue
        if char in "{}()":
            token, index = Token(char, char), index + 1
        elif pattern.startswith(("&&", "||"), index):
            token, index = Token(pattern[index : index + 2], pattern[index : index + 2]), index + 2
        elif op := next((op for op in OPERATORS if pattern.startswith(op, index)), None):
            token, index = Token("op", op), index + len(op)
        elif char == "$":
            end = _selector_end(pattern, index)
            token, index = Token("selector", pattern[index:end]), end
        else:
            token, index = _value(pattern, index)
        found.append(token)
    return found


def _value(pattern: str, index: int) -> tuple[Token, int]:
    """A quoted string, a %regex% or a bare word starting at `index`, and where it ends."""
    char = pattern[index]
    if char == '"':
        end = index + 1
        while end < len(pattern) and pattern[end] != '"':
            end += 2 if pattern[end] == "\\" else 1
        if end >= len(pattern):
            raise PatternError("unterminated string")
        return Token("string", json.loads(pattern[index : end + 1])), end + 1
    if char == "%":
        end = pattern.find("%", index + 1)
        if end < 0:
            raise PatternError("unterminated regular expression")
        return Token("regex", pattern[index + 1 : end]), end + 1
    end = index
    while end < len(pattern) and not pattern[end].isspace() and pattern[end] not in "(){}&|=!<>":
        end += 1
    word = pattern[index:end]
    if not word:
        raise PatternError(f"unexpected {char!r} at {index}")
    return Token("keyword" if word in KEYWORDS else "bare", word), end


def _selector_end(pattern: str, index: int) -> int:
    end = index + 1
    while end < len(pattern):
        char = pattern[end]
        if char == "[":
            close = pattern.find("]", end)
            if close < 0:
                raise PatternError("unterminated [ in selector")
            end = close + 1
        elif char.isalnum() or char in "._-*":
            end += 1
        else:
            break
    return end


def selector_steps(text: str) -> tuple[tuple[Any, ...], ...]:
    """`$.a.b[0]['c.d'][*]` into steps: ("key", name), ("index", n) or ANY."""
    if not text.startswith("$"):
        raise PatternError(f"selector {text!r} must start with $")
    steps: list[tuple[Any, ...]] = []
    rest = text[1:]
    while rest:
        if match := re.match(r"\.\[\s*'([^']*)'\s*\]|\[\s*'([^']*)'\s*\]", rest):
            steps.append(("key", match.group(1) if match.group(1) is not None else match.group(2)))
        elif match := re.match(r"\.\*|\[\*\]", rest):
            steps.append(ANY)
        elif match := re.match(r"\[(\d+)\]", rest):
            steps.append(("index", int(match.group(1))))
        elif match := re.match(r"\.([A-Za-z0-9_-]+)", rest):
            steps.append(("key", match.group(1)))
        else:
            raise PatternError(f"cannot read selector {text!r} at {rest!r}")
        rest = rest[match.end() :]
    if not steps:
        raise PatternError(f"selector {text!r} selects nothing")
    if steps.count(ANY) > 1:
        raise PatternError(f"selector {text!r} has more than one wildcard")
    return tuple(steps)


class _Parser:
    def __init__(self, found: list[Token]) -> None:
        self.found = found
        self.at = 0
        self.wildcards = 0
        self.regexes = 0

    def peek(self) -> Token | None:
        return self.found[self.at] if self.at < len(self.found) else None

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (kind and token.kind != kind) or (text and token.text != text):
            raise PatternError(f"expected {text or kind}, found {token.text if token else 'the end'}")
        self.at += 1
        return token

    def pattern(self) -> Any:
        self.take("{")
        tree = self.either()
        self.take("}")
        if self.peek() is not None:
            raise PatternError("text after the closing }")
        if self.wildcards > MAX_WILDCARD_SELECTORS:
            raise PatternError(f"{self.wildcards} wildcard selectors; AWS allows {MAX_WILDCARD_SELECTORS}")
        if self.regexes > MAX_REGEXES:
            raise PatternError(f"{self.regexes} regular expressions; AWS allows {MAX_REGEXES}")
        return tree

    def either(self) -> Any:
        tree = self.both()
        while (token := self.peek()) is not None and token.kind == "||":
            self.take("||")
            tree = Either(tree, self.both())
        return tree

    def both(self) -> Any:
        tree = self.atom()
        while (token := self.peek()) is not None and token.kind == "&&":
            self.take("&&")
            tree = Both(tree, self.atom())
        return tree

    def atom(self) -> Any:
        token = self.peek()
        if token is not None and token.kind == "(":
            self.take("(")
            tree = self.either()
            self.take(")")
            return tree
        steps = selector_steps(self.take("selector").text)
        self.wildcards += ANY in steps
        token = self.peek()
        if token is not None and token.kind == "keyword" and token.text == "IS":
            self.take()
            literal = self.take()
            if literal.text not in ("TRUE", "FALSE", "NULL"):
                raise PatternError(f"IS takes TRUE, FALSE or NULL, not {literal.text}")
            return Comparison(steps, "IS", literal)
        if token is not None and token.kind == "keyword" and token.text == "NOT":
            self.take()
            self.take("keyword", "EXISTS")
            return Comparison(steps, "NOT EXISTS", None)
        op = self.take("op").text
        value = self.peek()
        if value is None or value.kind not in ("string", "regex", "bare"):
            raise PatternError(f"{op} needs a value")
        self.take()
        if value.kind == "regex":
            self.regexes += 1
            if not REGEX_CHARACTERS.fullmatch(value.text):
                raise PatternError(f"%{value.text}% uses characters or groups AWS does not support")
        if op in ("<", ">", "<=", ">=") and not (value.kind == "bare" and NUMBER.fullmatch(value.text)):
            raise PatternError(f"{op} compares numbers only")
        return Comparison(steps, op, value)


def parse(pattern: str) -> Any:
    """The pattern's expression tree; raises PatternError for invalid syntax or a broken quota."""
    return _Parser(tokens(pattern)).pattern()


def _step(value: Any, step: tuple[Any, ...]) -> list[Any]:
    """What one selector step reaches from `value` (nothing if it does not apply)."""
    if step == ANY:
        return (
            list(value)
            if isinstance(value, list)
            else list(value.values())
            if isinstance(value, dict)
            else []
        )
    if step[0] == "key":
        return [value[step[1]]] if isinstance(value, dict) and step[1] in value else []
    return [value[step[1]]] if isinstance(value, list) and step[1] < len(value) else []


def _resolve(document: Any, steps: tuple[tuple[Any, ...], ...]) -> list[Any]:
    current = [document]
    for step in steps:
        current = [reached for value in current for reached in _step(value, step)]
    return current


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(candidate: Any, value: Token) -> bool | None:
    """Whether a scalar equals the pattern's value; None if the candidate cannot be compared."""
    if isinstance(candidate, dict | list | bool) or candidate is None:
        return None
    if value.kind == "regex":
        return re.search(value.text, str(candidate)) is not None
    if value.kind == "bare" and NUMBER.fullmatch(value.text) and _is_number(candidate):
        return float(candidate) == float(value.text)
    if not isinstance(candidate, str):
        return None
    glob = ".*".join(re.escape(part) for part in value.text.split("*"))
    return re.fullmatch(glob, candidate, re.DOTALL) is not None


def _compare(node: Comparison, document: Any) -> bool:
    found = _resolve(document, node.steps)
    if node.op == "NOT EXISTS":
        return not found
    if node.op == "IS":
        literal = {"TRUE": True, "FALSE": False, "NULL": None}[node.value.text if node.value else "NULL"]
        return any(candidate is literal for candidate in found)
    assert node.value is not None
    if node.op in ("=", "!="):
        results = [_equal(candidate, node.value) for candidate in found]
        wanted = node.op == "="
        return any(result is wanted for result in results)
    number = float(node.value.text)
    numbers = [float(candidate) for candidate in found if _is_number(candidate)]
    check = {"<": number.__gt__, ">": number.__lt__, "<=": number.__ge__, ">=": number.__le__}[node.op]
    return any(check(candidate) for candidate in numbers)


def _evaluate(tree: Any, document: Any) -> bool:
    if isinstance(tree, Both):
        return _evaluate(tree.left, document) and _evaluate(tree.right, document)
    if isinstance(tree, Either):
        return _evaluate(tree.left, document) or _evaluate(tree.right, document)
    return _compare(tree, document)


def matches(pattern: str, message: str) -> bool:
    """True if a log event with this message matches the filter pattern."""
    tree = parse(pattern)
    try:
        document = json.loads(message)
    except json.JSONDecodeError:
        return False
    return _evaluate(tree, document)
