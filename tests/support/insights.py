"""A validator and small evaluator for the CloudWatch Logs Insights commands the saved queries use.

Follows the CloudWatch Logs Insights query syntax (CloudWatch Logs User Guide, "CloudWatch Logs Insights
language query syntax" and its pages on fields, filter, stats, sort, limit and parse):

- a query is commands separated by `|`; a command starts with its name;
- `fields f [as alias], ...`; `filter <boolean>` with `and`, `or`, `not`, parentheses, comparisons (`=`,
  `!=`, `<`, `>`, `<=`, `>=`), `like "substring"` / `like /regex/` (and `not like`), `in [...]` and
  `ispresent(f)`; `stats fn(arg) [as alias], ... [by f | bin(<n><unit>), ...]` with count, count_distinct,
  sum, avg, min, max; `sort f [asc|desc], ...`; `limit n`; `parse f /regex with (?<name>...) groups/`;
- JSON events are flattened: nested fields by dots (`request.path`), array elements by index
  (`auth.policies.0`); system fields start with `@` (`@timestamp`, `@message`, `@logStream`, `@log`).

`check(query, events)` parses the query (raising InsightsError on anything outside that subset), checks
every field it reads is a system field, a field of some sample event, or one an earlier command defined,
and runs it over the sample events. Comparisons on a field an event lacks are false; `/` is always a regex
delimiter (the queries use no division).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SYSTEM_FIELDS = ("@timestamp", "@message", "@logStream", "@log", "@ingestionTime")
COMMANDS = ("fields", "filter", "stats", "sort", "limit", "parse")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<regex>/(?:[^/\\]|\\.)*/)
      | (?P<number>\d+(?:\.\d+)?[smhd]?)
      | (?P<op>!=|<=|>=|=|<|>|\(|\)|\[|\]|,|\*)
      | (?P<name>@?[A-Za-z_][\w.@-]*)
    )""",
    re.VERBOSE,
)


class InsightsError(ValueError):
    """The query is not valid in the supported Logs Insights subset, or reads a field nothing provides."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A JSON event as Logs Insights sees it: nested fields by dots, array elements by index."""
    if isinstance(value, dict):
        items: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def event_fields(message: str, timestamp: str = "2026-03-30T14:05:09Z") -> dict[str, Any]:
    """The fields of one log event: its discovered JSON fields plus the system fields."""
    try:
        document = json.loads(message)
    except json.JSONDecodeError:
        document = {}
    discovered = flatten(document) if isinstance(document, dict) else {}
    return {**discovered, "@message": message, "@timestamp": timestamp, "@logStream": "i-0a1b2c3d4e5f60718"}


def split_commands(query: str) -> list[str]:
    """The query's commands: split on `|` outside strings and regexes."""
    commands, current, quote = [], [], ""
    index = 0
    while index < len(query):
        char = query[index]
        if quote and char == "\\":
            current.append(query[index : index + 2])
            index += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"/'":
            quote = char
        elif char == "|":
            commands.append("".join(current).strip())
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    if quote:
        raise InsightsError(f"unterminated {quote} in query")
    commands.append("".join(current).strip())
    if any(not command for command in commands):
        raise InsightsError("empty command between pipes")
    return commands


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, index = [], 0
    while index < len(text):
        if text[index:].strip() == "":
            break
        match = TOKEN.match(text, index)
        if match is None or match.end() == index:
            raise InsightsError(f"cannot read {text[index:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        index = match.end()
    return tokens


@dataclass
class Cursor:
    tokens: list[tuple[str, str]]
    at: int = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token[0] == "name" and token[1].lower() == word

    def take(self, kind: str | None = None, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (text and token[1].lower() != text):
            raise InsightsError(f"expected {text or kind}, found {token[1] if token else 'the end'}")
        self.at += 1
        return token

    def done(self) -> bool:
        return self.at >= len(self.tokens)


Row = dict[str, Any]
Predicate = Callable[[Row], bool]


def _literal(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "string":
        return json.loads(text)
    if kind == "number":
        return float(text)
    raise InsightsError(f"{text} is not a literal")


def _regex(text: str) -> re.Pattern[str]:
    """A Logs Insights /regex/ as a Python pattern (named groups are written (?<name>...) there)."""
    body = text[1:-1].replace("\\/", "/")
    try:
        return re.compile(re.sub(r"\(\?<(\w+)>", r"(?P<\1>", body))
    except re.error as error:
        raise InsightsError(f"bad regular expression {text}: {error}") from None


@dataclass
class Query:
    """A parsed query: the fields it reads and the steps that run it."""

    reads: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)
    steps: list[Callable[[list[Row]], list[Row]]] = field(default_factory=list)
    # Per command: its text, the fields it reads, and the fields earlier commands defined.
    command_reads: list[tuple[str, set[str], set[str]]] = field(default_factory=list)

    def field_name(self, cursor: Cursor) -> str:
        name = cursor.take("name")[1]
        self.reads.add(name)
        return name

    # filter ---------------------------------------------------------------------------------------------
    def boolean(self, cursor: Cursor) -> Predicate:
        terms = [self.conjunction(cursor)]
        while cursor.is_word("or"):
            cursor.take()
            terms.append(self.conjunction(cursor))
        return lambda row: any(term(row) for term in terms)

    def conjunction(self, cursor: Cursor) -> Predicate:
        terms = [self.negation(cursor)]
        while cursor.is_word("and"):
            cursor.take()
            terms.append(self.negation(cursor))
        return lambda row: all(term(row) for term in terms)

    def negation(self, cursor: Cursor) -> Predicate:
        if cursor.is_word("not"):
            cursor.take()
            inner = self.negation(cursor)
            return lambda row: not inner(row)
        token = cursor.peek()
        if token == ("op", "("):
            cursor.take()
            inner = self.boolean(cursor)
            cursor.take("op", ")")
            return inner
        if cursor.is_word("ispresent"):
            cursor.take()
            cursor.take("op", "(")
            name = self.field_name(cursor)
            cursor.take("op", ")")
            return lambda row: row.get(name) is not None
        return self.comparison(cursor)

    def comparison(self, cursor: Cursor) -> Predicate:
        name = self.field_name(cursor)
        negate = cursor.is_word("not") and cursor.is_word("like", 1)
        if negate:
            cursor.take()
        if cursor.is_word("like"):
            cursor.take()
            kind, text = cursor.take()
            if kind == "regex":
                pattern = _regex(text)
                test: Callable[[Any], bool] = lambda value: pattern.search(str(value)) is not None  # noqa: E731
            elif kind == "string":
                needle = json.loads(text)
                test = lambda value: needle in str(value)  # noqa: E731
            else:
                raise InsightsError(f"like takes a string or /regex/, not {text}")
            return lambda row: row.get(name) is not None and test(row[name]) is not negate
        if cursor.is_word("in"):
            cursor.take()
            cursor.take("op", "[")
            options = [_literal(cursor.take())]
            while cursor.peek() == ("op", ","):
                cursor.take()
                options.append(_literal(cursor.take()))
            cursor.take("op", "]")
            return lambda row: row.get(name) in options
        operator = cursor.take("op")[1]
        if operator not in ("=", "!=", "<", ">", "<=", ">="):
            raise InsightsError(f"{operator} is not a comparison")
        wanted = _literal(cursor.take())
        compare = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
        }[operator]

        def check(row: Row) -> bool:
            value = row.get(name)
            if value is None:
                return False
            if isinstance(wanted, float) and isinstance(value, int | float):
                return bool(compare(float(value), wanted))
            return bool(compare(str(value), str(wanted)))

        return check

    # commands -------------------------------------------------------------------------------------------
    def command(self, text: str) -> None:
        name, _, rest = text.partition(" ")
        if name not in COMMANDS:
            raise InsightsError(f"{name!r} is not a supported command ({', '.join(COMMANDS)})")
        cursor = Cursor(tokenize(rest))
        defined_before, self.reads = set(self.defines), set()
        getattr(self, f"_{name}")(cursor)
        if not cursor.done():
            raise InsightsError(f"unexpected {cursor.peek()} in {name}")
        self.command_reads.append((text, self.reads, defined_before))

    def _fields(self, cursor: Cursor) -> None:
        names = []
        while True:
            source = self.field_name(cursor)
            alias = source
            if cursor.is_word("as"):
                cursor.take()
                alias = cursor.take("name")[1]
                self.defines.add(alias)
            names.append((source, alias))
            if cursor.peek() != ("op", ","):
                break
            cursor.take()
        self.steps.append(lambda rows: [{**row, **{a: row.get(s) for s, a in names}} for row in rows])

    def _filter(self, cursor: Cursor) -> None:
        predicate = self.boolean(cursor)
        self.steps.append(lambda rows: [row for row in rows if predicate(row)])

    def _parse(self, cursor: Cursor) -> None:
        source = self.field_name(cursor)
        kind, text = cursor.take()
        if kind != "regex":
            raise InsightsError("parse is supported with a /regex/ of named groups only")
        pattern = _regex(text)
        if not pattern.groupindex:
            raise InsightsError(f"parse {text} names no (?<field>...) group")
        self.defines.update(pattern.groupindex)

        def extract(row: Row) -> Row:
            match = pattern.search(str(row.get(source, "")))
            return {**row, **(match.groupdict() if match else {})}

        self.steps.append(lambda rows: [extract(row) for row in rows])

    def _stats(self, cursor: Cursor) -> None:
        aggregates = []
        while True:
            function = cursor.take("name")[1]
            if function not in AGGREGATES:
                raise InsightsError(f"{function} is not a supported stats function")
            cursor.take("op", "(")
            argument = "*" if cursor.peek() == ("op", "*") else None
            if argument:
                cursor.take()
            else:
                argument = self.field_name(cursor)
            cursor.take("op", ")")
            alias = f"{function}({argument})"
            if cursor.is_word("as"):
                cursor.take()
                alias = cursor.take("name")[1]
            self.defines.add(alias)
            aggregates.append((function, argument, alias))
            if cursor.peek() != ("op", ","):
                break
            cursor.take()
        groups: list[Callable[[Row], Any]] = []
        if cursor.is_word("by"):
            cursor.take()
            while True:
                groups.append(self._group(cursor))
                if cursor.peek() != ("op", ","):
                    break
                cursor.take()
        self.steps.append(lambda rows: _aggregate(rows, aggregates, groups))

    def _group(self, cursor: Cursor) -> Callable[[Row], Any]:
        if cursor.is_word("bin"):
            cursor.take()
            cursor.take("op", "(")
            period = cursor.take("number")[1]
            cursor.take("op", ")")
            if period[-1] not in "smhd":
                raise InsightsError(f"bin({period}) needs a unit: s, m, h or d")
            self.reads.add("@timestamp")
            self.defines.add(f"bin({period})")
            return lambda row: (f"bin({period})", str(row.get("@timestamp"))[:13])
        name = self.field_name(cursor)
        return lambda row: (name, row.get(name))

    def _sort(self, cursor: Cursor) -> None:
        keys = []
        while True:
            name = self.field_name(cursor)
            descending = False
            if cursor.is_word("desc") or cursor.is_word("asc"):
                descending = cursor.take()[1].lower() == "desc"
            keys.append((name, descending))
            if cursor.peek() != ("op", ","):
                break
            cursor.take()

        def order(rows: list[Row]) -> list[Row]:
            for name, descending in reversed(keys):

                def key(row: Row, name: str = name) -> tuple[bool, Any]:
                    return (row.get(name) is None, row.get(name))

                rows = sorted(rows, key=key, reverse=descending)
            return rows

        self.steps.append(order)

    def _limit(self, cursor: Cursor) -> None:
        count = cursor.take("number")[1]
        if not count.isdigit() or not 1 <= int(count) <= 10000:
            raise InsightsError(f"limit {count} is not a count from 1 to 10000")
        self.steps.append(lambda rows: rows[: int(count)])


def _aggregate(
    rows: list[Row], aggregates: Sequence[tuple[str, str, str]], groups: Sequence[Any]
) -> list[Row]:
    buckets: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        buckets.setdefault(tuple(group(row) for group in groups), []).append(row)
    result = []
    for key, members in buckets.items():
        out: Row = dict(key)
        for function, argument, alias in aggregates:
            values = [
                row.get(argument) for row in members if argument == "*" or row.get(argument) is not None
            ]
            if function == "count":
                out[alias] = len(values)
            elif function == "count_distinct":
                out[alias] = len({json.dumps(value) for value in values})
            else:
                numbers = [float(str(value)) for value in values]
                out[alias] = _reduce(function, numbers)
        result.append(out)
    return result


def _reduce(function: str, numbers: list[float]) -> float | None:
    if not numbers:
        return None
    if function == "sum":
        return sum(numbers)
    if function == "avg":
        return sum(numbers) / len(numbers)
    return min(numbers) if function == "min" else max(numbers)


def parse_query(query: str) -> Query:
    parsed = Query()
    for command in split_commands(query):
        parsed.command(command)
    return parsed


def check(query: str, events: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Validate `query` against sample events (as `event_fields` returns) and run it over them.

    Each command may read system fields, fields of the sample events, and fields that an earlier command
    defined (parse groups, stats and fields aliases).
    """
    parsed = parse_query(query)
    discovered = set(SYSTEM_FIELDS).union(*(event.keys() for event in events))
    for command, reads, defined_before in parsed.command_reads:
        unknown = sorted(reads - discovered - defined_before)
        if unknown:
            raise InsightsError(f"{command.split()[0]} reads field(s) nothing provides: {', '.join(unknown)}")
    rows = [dict(event) for event in events]
    for step in parsed.steps:
        rows = step(rows)
    return rows
