"""Who may use Vault: the applications' IAM roles and KV paths, CI, and the operators' recovery keys.

Read into `StackConfig.access`. The bootstrap turns each application into an AWS-auth role bound to the
application's IAM role with a read-only policy over its paths; the catalog lets those roles read the
secrets it keeps in Secrets Manager.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from components.config.catalog import NAME_PATTERN, ROLE_PATTERN, VAULT_PATH_PATTERN
from components.config.reader import ConfigReader, SecretRef
from components.lib import netmath

RECOVERY_SHARES = 5


@dataclass(frozen=True)
class Application:
    """An application that reads secrets: its IAM role (name, pattern or ARN) and the KV paths it may read."""

    name: str
    role: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class AccessConfig:
    """Applications, CI's network restriction, recovery PGP keys, and an adopt token for an existing Vault."""

    applications: tuple[Application, ...]
    ci_bound_cidrs: tuple[str, ...]
    recovery_pgp_keys: tuple[str, ...]
    adopt_token: SecretRef | None
    # Every role that runs `pulumi up` besides the one running it now (CI's, operators' SSO roles): names,
    # name patterns or ARNs. They may read and change the TLS bundle and write the break-glass secret.
    deployer_principals: tuple[str, ...] = ()
    # Roles that run `tools.validate` besides the deployers (a scheduled checker's role): they may write and
    # read the Secrets Manager canary, nothing else.
    validator_principals: tuple[str, ...] = ()


def read_access(reader: ConfigReader) -> AccessConfig:
    """Read `vaultApplications`, `ciBoundCidrs`, `vaultRecoveryPgpKeys` and the secure `vaultAdoptToken`."""
    applications = []
    for name, body in sorted(reader.mapping("vaultApplications", {}).items()):
        key = f"vaultApplications.{name}"
        # snapshot and rotation are auth roles already; app-db-readonly is the database policy.
        if not re.fullmatch(NAME_PATTERN, name) or name in {"snapshot", "rotation", "db"}:
            reader.problem(
                key,
                f"{name!r} is not a usable application name",
                "lowercase letters, digits and hyphens; not snapshot, rotation or db",
            )
            continue
        if not isinstance(body, dict) or set(body) - {"role", "paths"}:
            reader.problem(key, "must be an object with role and paths", "{role: <IAM role>, paths: [...]}")
            continue
        role, paths = body.get("role"), body.get("paths")
        if not isinstance(role, str) or not re.fullmatch(ROLE_PATTERN, role):
            reader.problem(f"{key}.role", f"{role!r} is not an IAM role name or ARN", "e.g. billing-service")
            continue
        if not isinstance(paths, list) or not paths:
            reader.problem(f"{key}.paths", "must list the KV paths it may read", "e.g. [candlefish/jwt]")
            continue
        bad = [
            path for path in paths if not isinstance(path, str) or not re.fullmatch(VAULT_PATH_PATTERN, path)
        ]
        if bad:
            reader.problem(f"{key}.paths", f"{bad!r} are not KV paths", "lowercase segments joined by '/'")
            continue
        applications.append(Application(name=name, role=role, paths=tuple(paths)))

    cidrs = reader.string_list("ciBoundCidrs", [], allowed="IPv4 CIDR blocks CI may log in from")
    for index, block in enumerate(cidrs):
        try:
            netmath.parse_cidr(block)
        except netmath.CidrError as error:
            reader.problem(f"ciBoundCidrs[{index}]", str(error), "an IPv4 CIDR block")

    pgp_keys = reader.string_list("vaultRecoveryPgpKeys", [], allowed="base64 OpenPGP public keys")
    if pgp_keys and len(pgp_keys) != RECOVERY_SHARES:
        reader.problem(
            "vaultRecoveryPgpKeys",
            f"has {len(pgp_keys)} keys for {RECOVERY_SHARES} recovery shares",
            f"exactly {RECOVERY_SHARES}, one per operator, or none",
        )
    for index, key in enumerate(pgp_keys):
        if not _is_base64(key):
            reader.problem(f"vaultRecoveryPgpKeys[{index}]", "is not base64", "`gpg --export <id> | base64`")
    deployers = _principals(reader, "deployerPrincipals")
    validators = _principals(reader, "validatorPrincipals")
    return AccessConfig(
        applications=tuple(applications),
        ci_bound_cidrs=tuple(cidrs),
        recovery_pgp_keys=tuple(pgp_keys),
        adopt_token=reader.secret("vaultAdoptToken"),
        deployer_principals=tuple(deployers),
        validator_principals=tuple(validators),
    )


def _principals(reader: ConfigReader, key: str) -> list[str]:
    """A list of IAM roles (names, name patterns or ARNs) that a resource policy admits by name."""
    roles = reader.string_list(key, [], allowed="IAM role names, patterns or ARNs")
    for index, role in enumerate(roles):
        # A bare wildcard would admit every role in the account.
        if not re.fullmatch(ROLE_PATTERN, role) or role.strip("*/") == "":
            reader.problem(
                f"{key}[{index}]",
                f"{role!r} is not an IAM role name, name pattern or ARN",
                "e.g. candlefish-ci-deploy or aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_*",
            )
    return roles


def _is_base64(text: str) -> bool:
    try:
        return bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False
