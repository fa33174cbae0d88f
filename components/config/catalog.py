"""The secrets catalog section of the stack config: the `catalog` entries and the team roles.

Each entry names a secret kept in both Vault KV and Secrets Manager. Its value is either generated
(pulumi-random, in the entry's `valueFormat`) or supplied (an externally issued credential, read from the
secure config key the entry names). Nothing of any value is ever in the stack file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from components.config.reader import ConfigReader, SecretRef

SecretType = Literal["database", "api-key", "crypto"]
Source = Literal["generate", "config"]

# The longest rotation period each kind of secret may have, in days.
ROTATION_LIMITS: Mapping[str, int] = MappingProxyType({"database": 90, "api-key": 90, "crypto": 365})
DEFAULT_FORMATS: Mapping[str, str] = MappingProxyType(
    {"crypto": "chars-64", "api-key": "chars-48", "database": "chars-48"}
)
MIN_CHARS, MIN_BYTES = 32, 16
NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
TEAM_PATTERN = r"[a-z][a-z0-9-]{1,62}[a-z0-9]"
VAULT_PATH_PATTERN = r"[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*){0,9}"
CONFIG_KEY_PATTERN = r"[a-z][A-Za-z0-9]{2,62}"
FORMAT_PATTERN = r"(chars|base64)-(\d{1,4})"
ROLE_PATTERN = r"(?:arn:aws[a-z-]*:iam::\d{12}:role/)?[\w+=,.@/*-]{1,512}"
FIELDS = (
    "description",
    "type",
    "owner",
    "rotationDays",
    "vaultPath",
    "source",
    "configKey",
    "valueFormat",
    "reseed",
    "destroyOnDelete",
)


@dataclass(frozen=True)
class SecretEntry:
    """One entry of the secrets catalog."""

    name: str
    description: str
    type: SecretType
    owner: str
    rotation_days: int
    vault_path: str
    source: Source
    value_format: str
    config_value: SecretRef | None = None
    reseed: str = ""
    destroy_on_delete: bool = False


def read_catalog(
    reader: ConfigReader, *, production: bool
) -> tuple[tuple[SecretEntry, ...], Mapping[str, str]]:
    """Read `catalog` and `teamRoles` (the IAM role name, pattern or ARN of each owning team).

    Records a problem for anything malformed.
    """
    catalog = tuple(
        entry
        for name, body in sorted(reader.mapping("catalog").items())
        if (entry := _entry(reader, name, body, production=production)) is not None
    )
    _refuse_shared_paths(reader, catalog)
    team_roles: dict[str, str] = {}
    malformed: set[str] = set()  # reported once, under their own key
    for team, role in reader.mapping("teamRoles", {}).items():
        if not re.fullmatch(TEAM_PATTERN, team):
            reader.problem(f"teamRoles.{team}", "is not a team name", "e.g. platform-team")
        elif not isinstance(role, str) or not re.fullmatch(ROLE_PATTERN, role):
            reader.problem(
                f"teamRoles.{team}", f"{role!r} is not an IAM role name or ARN", "e.g. PlatformTeam"
            )
            malformed.add(team)
        else:
            team_roles[team] = role
    if production:
        # An entry without a usable owner was reported as such; it needs no role of its own.
        owners = {entry.owner for entry in catalog if re.fullmatch(TEAM_PATTERN, entry.owner)}
        for owner in sorted(owners - set(team_roles) - malformed):
            reader.problem(
                "teamRoles",
                f"has no role for owner {owner!r}; production secrets admit only their owner's role",
                f"add teamRoles.{owner}",
            )
    return catalog, MappingProxyType(team_roles)


def vault_path_key(path: str) -> str:
    """A KV path as Vault resolves it: no leading or trailing '/', runs of '/' as one."""
    return "/".join(part for part in path.split("/") if part)


def _refuse_shared_paths(reader: ConfigReader, entries: tuple[SecretEntry, ...]) -> None:
    """Two entries writing one Vault path would seed and rotate over each other's value."""
    first_at: dict[str, str] = {}
    for entry in entries:
        key = vault_path_key(entry.vault_path)
        if key in first_at:
            reader.problem(
                f"catalog.{entry.name}.vaultPath",
                f"{entry.vault_path!r} is also the path of catalog.{first_at[key]}; their seeds and "
                "rotations would overwrite each other's value",
                "a Vault path no other entry uses",
            )
        else:
            first_at[key] = entry.name


def _entry(reader: ConfigReader, name: str, body: Any, *, production: bool) -> SecretEntry | None:
    key = f"catalog.{name}"
    if not re.fullmatch(NAME_PATTERN, name):
        reader.problem(
            key,
            f"{name!r} is not a valid secret name",
            "lowercase letters, digits and inner hyphens, at most 64 characters",
        )
    if not isinstance(body, dict):
        reader.problem(key, "must be an object", ", ".join(FIELDS))
        return None
    for unknown in sorted(set(body) - set(FIELDS)):
        reader.problem(f"{key}.{unknown}", "is not a field of a catalog entry", ", ".join(FIELDS))

    description = body.get("description")
    if not isinstance(description, str) or not description.strip() or len(description) > 2048:
        reader.problem(f"{key}.description", "is missing or empty", "a short description, up to 2048 chars")
    kind = body.get("type")
    if kind not in ROTATION_LIMITS:
        reader.problem(f"{key}.type", f"{kind!r} is not a secret type", "database, api-key or crypto")
    owner = body.get("owner")
    if not isinstance(owner, str) or not re.fullmatch(TEAM_PATTERN, owner):
        reader.problem(f"{key}.owner", f"{owner!r} is missing or not a team name", "e.g. platform-team")
    rotation = _rotation(reader, key, body.get("rotationDays"), kind)

    vault_path = body.get("vaultPath", f"candlefish/{name}")
    if not isinstance(vault_path, str) or not re.fullmatch(VAULT_PATH_PATTERN, vault_path):
        reader.problem(
            f"{key}.vaultPath",
            f"{vault_path!r} is not a KV path",
            "lowercase segments joined by '/', e.g. candlefish/jwt/secret",
        )
    source = body.get("source", "generate" if kind == "crypto" else "config")
    if source not in ("generate", "config"):
        reader.problem(f"{key}.source", f"{source!r} is not a value source", "generate or config")
    value_format = _value_format(reader, key, body, source, kind)
    config_value = _config_value(reader, key, body.get("configKey"), source)
    reseed = body.get("reseed", "")
    if not isinstance(reseed, str):
        reader.problem(f"{key}.reseed", "must be a string", "any text; change it to overwrite the value once")
    destroy = body.get("destroyOnDelete", False)
    if not isinstance(destroy, bool):
        reader.problem(f"{key}.destroyOnDelete", f"{destroy!r} is not a boolean", "true or false")
    elif destroy and production:
        reader.problem(
            f"{key}.destroyOnDelete", "would destroy every Vault version on delete", "false in production"
        )
    return SecretEntry(
        name=name,
        description=str(description),
        type=kind if kind in ROTATION_LIMITS else "crypto",  # type: ignore[arg-type]
        owner=str(owner),
        rotation_days=rotation,
        vault_path=str(vault_path),
        source="config" if source == "config" else "generate",
        value_format=value_format,
        config_value=config_value,
        reseed=reseed if isinstance(reseed, str) else "",
        destroy_on_delete=destroy is True,
    )


def _rotation(reader: ConfigReader, key: str, rotation: Any, kind: Any) -> int:
    limit = ROTATION_LIMITS.get(str(kind), 365)
    if isinstance(rotation, bool) or not isinstance(rotation, int):
        reader.problem(f"{key}.rotationDays", f"{rotation!r} is not a whole number of days", f"1 to {limit}")
        return 0
    if not 1 <= rotation <= limit:
        reader.problem(
            f"{key}.rotationDays", f"{rotation} days is out of range for type {kind}", f"1 to {limit}"
        )
        return 0
    return rotation


def _value_format(reader: ConfigReader, key: str, body: dict[str, Any], source: Any, kind: Any) -> str:
    value_format = body.get("valueFormat", DEFAULT_FORMATS.get(str(kind), "chars-64"))
    if source == "config" and "valueFormat" in body:
        reader.problem(
            f"{key}.valueFormat", "only applies to generated values", "remove it, or use source: generate"
        )
    match = re.fullmatch(FORMAT_PATTERN, str(value_format))
    allowed = f"chars-<n> (n >= {MIN_CHARS}) or base64-<bytes> (bytes >= {MIN_BYTES})"
    if match is None:
        reader.problem(f"{key}.valueFormat", f"{value_format!r} is not a value format", allowed)
    elif int(match.group(2)) < (MIN_CHARS if match.group(1) == "chars" else MIN_BYTES):
        reader.problem(f"{key}.valueFormat", f"{value_format!r} is too weak", allowed)
    return str(value_format)


def _config_value(reader: ConfigReader, key: str, config_key: Any, source: Any) -> SecretRef | None:
    if source != "config":
        if config_key is not None:
            reader.problem(
                f"{key}.configKey", "only applies to supplied values", "remove it, or use source: config"
            )
        return None
    if not isinstance(config_key, str) or not re.fullmatch(CONFIG_KEY_PATTERN, config_key):
        reader.problem(
            f"{key}.configKey",
            f"{config_key!r} is not a config key name",
            "a camelCase key such as mongodbUri, set with `pulumi config set --secret`",
        )
        return None
    # The value itself is set with `pulumi config set --secret <configKey>`; absent until someone does.
    return reader.secret(config_key) or SecretRef(config_key, present=False)
