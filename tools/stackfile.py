"""Read a `Pulumi.<stack>.yaml` file into config values shaped as the Pulumi CLI hands them to a program."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MASK = "[secret]"


class StackFileError(ValueError):
    """A stack file that is not valid YAML, or not a mapping: the message names the file, line and column."""


@dataclass(frozen=True)
class StackFile:
    """A stack's config as `namespace:key` → string, plus which keys are secure."""

    stack: str
    values: dict[str, str]
    secret_keys: frozenset[str]
    secrets_provider: str | None


def encode(value: Any) -> str:
    """The string form the CLI passes: scalars as text (booleans lower-case), lists and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def project_defaults(root: Path = ROOT) -> dict[str, str]:
    """Defaults declared in Pulumi.yaml's `config:` block, which the CLI applies to every stack."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    name = project.get("name", "")
    return {
        f"{name}:{key}": encode(declaration["default"])
        for key, declaration in (project.get("config") or {}).items()
        if isinstance(declaration, dict) and "default" in declaration
    }


def parse_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`; a syntax error is a StackFileError naming the file, line and column."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise StackFileError(
            f"{path.name}, {where}: not valid YAML ({problem}); a stack file is a YAML mapping with a "
            "`config:` block of `namespace:key: value` entries"
        ) from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not valid YAML ({error})") from None
    if document is None:
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}) or {}, dict):
        raise StackFileError(
            f"{path.name}: expected a YAML mapping with a `config:` mapping, found {type(document).__name__}"
        )
    return document


def load(stack: str, root: Path = ROOT) -> StackFile:
    """Load `Pulumi.<stack>.yaml` over the project's defaults. Secure values are masked, never decrypted."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(known)}")
    document = parse_yaml(path)
    values = project_defaults(root)
    secret_keys: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = MASK
            secret_keys.add(key)
        else:
            values[key] = encode(value)
    return StackFile(stack, values, frozenset(secret_keys), document.get("secretsprovider"))
