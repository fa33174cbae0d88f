"""Who may use Vault: the applications' IAM roles and KV paths, CI, and the operators' recovery keys.

Read into `StackConfig.access`. The bootstrap turns each application into an AWS-auth role bound to the
application's IAM role with a read-only policy over its paths; the catalog lets those roles read the
secrets it keeps in Secrets Manager.

Vault's recovery shares are protected from the deployers (CI included) in one of two ways, and production
requires one (`check_recovery_shares`, once `breakGlass` is read):
- `vaultRecoveryPgpKeys`: five operators' OpenPGP public keys; each share is stored encrypted to one;
- `vaultRecoverySharesReaders`: people listed in `breakGlass` whose MFA-guarded break-glass roles alone may
  read the break-glass secret; the deployers may write it but never read or decrypt it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase

from components.config.break_glass import BreakGlassConfig
from components.config.catalog import NAME_PATTERN, ROLE_PATTERN, VAULT_PATH_PATTERN
from components.config.reader import ConfigReader, SecretRef
from components.deployment import Names
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
    # People listed in `breakGlass` whose break-glass roles alone may read the recovery shares (write-only
    # for the deployers); empty: the deployers may read them too.
    recovery_share_readers: tuple[str, ...] = ()


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
    share_readers = reader.string_list(
        "vaultRecoverySharesReaders", [], allowed="names of people listed in breakGlass"
    )
    return AccessConfig(
        applications=tuple(applications),
        ci_bound_cidrs=tuple(cidrs),
        recovery_pgp_keys=tuple(pgp_keys),
        adopt_token=reader.secret("vaultAdoptToken"),
        deployer_principals=tuple(deployers),
        validator_principals=tuple(validators),
        recovery_share_readers=tuple(share_readers),
    )


SHARES_KEY = "vaultRecoverySharesReaders"
SHARES_NOTE = (
    "production stores Vault's recovery shares where the deployers (CI included) could read them: neither "
    "vaultRecoverySharesReaders nor vaultRecoveryPgpKeys is set"
)
SHARES_HOWTO = (
    "vaultRecoverySharesReaders: people in breakGlass whose MFA roles alone may read the shares (the "
    "deployers only write them), or vaultRecoveryPgpKeys: five operators' OpenPGP public keys"
)


def check_recovery_shares(
    reader: ConfigReader,
    access: AccessConfig,
    break_glass: BreakGlassConfig,
    *,
    environment: str,
    production: bool,
) -> None:
    """The readers are break-glass people (break-glass on, no deployer pattern covering their roles);
    production protects the shares one way or the other."""
    readers = access.recovery_share_readers
    # A setting already refused (not a list, keys not base64) is not reported as missing too.
    refused = {reader.full(SHARES_KEY), reader.full("vaultRecoveryPgpKeys")}
    already = any(problem.key.split("[")[0] in refused for problem in reader.problems)
    if production and not readers and not access.recovery_pgp_keys and not already:
        reader.problem(SHARES_KEY, SHARES_NOTE, SHARES_HOWTO)
    # Readers are judged against environment, breakGlass and deployerPrincipals: not while those are wrong.
    judged_against = [reader.full(key) for key in ("environment", "breakGlass", "deployerPrincipals")]
    if not readers or any(problem.key.startswith(tuple(judged_against)) for problem in reader.problems):
        return
    if not break_glass.enabled:
        reader.problem(
            SHARES_KEY,
            "names readers while break-glass access is off: they read the shares through their "
            "break-glass roles",
            "breakGlass.enabled true (with the readers listed there), or no readers",
        )
        return
    for name, count in sorted(Counter(readers).items()):
        if count > 1:
            reader.problem(SHARES_KEY, f"lists {name!r} {count} times", "each person once")
    people = break_glass.people
    for index, name in enumerate(readers):
        if name not in people:
            reader.problem(
                f"{SHARES_KEY}[{index}]",
                f"{name!r} is not a person listed in breakGlass",
                "one of " + (", ".join(sorted(people)) or "the people in breakGlass.requesters/approvers"),
            )
            continue
        role = Names(environment).break_glass_person_role(name)
        covering = [pattern for pattern in access.deployer_principals if _covers(pattern, role)]
        if covering:
            reader.problem(
                f"{SHARES_KEY}[{index}]",
                f"{name!r}'s break-glass role {role} matches deployerPrincipals {covering!r}, and "
                "deployers are denied the shares",
                "deployer patterns that do not cover candlefish-<env>-bg-<person> roles",
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


def _covers(pattern: str, role_name: str) -> bool:
    """Whether a deployer principal (name, name pattern or ARN pattern) matches a path-less role name."""
    name_part = (
        pattern.split(":role/", 1)[1] if pattern.startswith("arn:") and ":role/" in pattern else pattern
    )
    return fnmatchcase(role_name, name_part)


def _is_base64(text: str) -> bool:
    try:
        return bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False
