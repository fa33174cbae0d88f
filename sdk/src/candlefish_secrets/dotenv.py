"""Reading `.env` files (`.env.production`): `KEY=value` lines, `export ` prefixes, quotes and comments."""

from __future__ import annotations

import re
from pathlib import Path

from candlefish_secrets.errors import ConfigurationError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def read_env_file(path: str | Path) -> dict[str, str]:
    """The variables of an env file, in order; a malformed line is an error naming the file and line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"--env-file {file}: cannot read it ({error.strerror})") from None
    return parse_env(text, str(file))


def parse_env(text: str, where: str = "<env>") -> dict[str, str]:
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            # The line may hold a value: say where, not what.
            raise ConfigurationError(f"{where}:{number}: expected NAME=value (NAME of letters, digits, _)")
        variables[name] = _value(value.strip(), f"{where}:{number}")
    return variables


def _value(value: str, where: str) -> str:
    if value[:1] in {'"', "'"}:
        quote = value[0]
        end = _closing(value, quote)
        if end < 0:
            raise ConfigurationError(f"{where}: the {quote} quote is not closed")
        inner = value[1:end]
        if quote == '"':
            inner = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), inner)
        return inner
    comment = re.search(r"\s#", value)
    return value[: comment.start()].rstrip() if comment else value


def _closing(value: str, quote: str) -> int:
    index = 1
    while index < len(value):
        if value[index] == "\\" and quote == '"':
            index += 2
            continue
        if value[index] == quote:
            return index
        index += 1
    return -1
