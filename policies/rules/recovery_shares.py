"""Vault's recovery shares, in production, are out of the deployers' reach.

`recovery-shares-protected` (production, mandatory): whoever holds the recovery shares can generate a root
token, and the deployers' roles are also CI's. So the Vault bootstrap (the dynamic resource with
`break_glass_secret_id` and `recovery_pgp_keys`) either encrypts the shares to operators' PGP keys, or
stores them in a secret that only break-glass roles (`settings.BREAK_GLASS_ROLE`) can read and decrypt:

- the secret's resource policy denies secretsmanager:GetSecretValue to every principal whose
  aws:PrincipalArn is not one of the listed break-glass roles (ArnNotLike/ArnNotEquals, nothing else in
  the condition), and
- the secret is encrypted with a KMS key of this stack whose policy denies kms:Decrypt the same way (the
  only extra condition accepted is Secrets Manager's key check: StringNotEquals
  kms:EncryptionContext:SecretVersionId RequestToValidateKeyAccess, which no real version matches).

Documents not known at preview (ARNs of resources still to be created) cannot be judged and are passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource

from . import settings
from .framework import CRITICAL, MANDATORY, Refs, StackContext, StackView, label, stack_policy
from .props import (
    COMPUTED,
    has_key,
    known_elements,
    known_get,
    mapping,
    parse_document,
    sequence,
    statements,
    strings,
    value_or_computed,
)

CATEGORY = "break-glass"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - resource types
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105
KEY = "aws:kms/key:Key"
PRINCIPAL_ARN = "aws:PrincipalArn"
KEY_CHECK = ("StringNotEquals", "kms:EncryptionContext:SecretVersionId", "RequestToValidateKeyAccess")
BREAK_GLASS_ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*" + settings.BREAK_GLASS_ROLE
)
UNKNOWN = object()


def _bootstraps(view: StackView) -> list[PolicyResource]:
    return [
        resource
        for resource in view.resources
        if resource.resource_type.startswith(settings.DYNAMIC_RESOURCE_PREFIX)
        and has_key(resource.props, "break_glass_secret_id")
        and has_key(resource.props, "recovery_pgp_keys")
    ]


def _document(resource: PolicyResource, prop: str) -> Any:
    """The parsed policy document, UNKNOWN when it is not known yet, None when absent or unreadable."""
    value = value_or_computed(resource.props, prop)
    return UNKNOWN if value == COMPUTED else parse_document(value)


def _covers(statement: Mapping[str, Any], action: str) -> bool:
    return any(fnmatchcase(action.lower(), given.lower()) for given in strings(statement.get("Action")))


def _excepted(document: Mapping[str, Any] | None, action: str) -> list[str] | None:
    """Who a Deny of `action` to everyone leaves out (aws:PrincipalArn values), or None if no such Deny."""
    for statement in statements(document):
        principal = statement.get("Principal")
        everyone = principal == "*" or strings(mapping(principal).get("AWS")) == ["*"]
        if statement.get("Effect") != "Deny" or not everyone or not _covers(statement, action):
            continue
        condition = mapping(statement.get("Condition"))
        operators = {op for op in condition if op in {"ArnNotLike", "ArnNotEquals"}}
        extra = {op: mapping(keys) for op, keys in condition.items() if op not in operators}
        if len(operators) != 1 or not all(_is_key_check(op, keys) for op, keys in extra.items()):
            continue
        keys = mapping(condition[operators.pop()])
        if set(keys) == {PRINCIPAL_ARN}:
            return strings(keys[PRINCIPAL_ARN])
    return None


def _is_key_check(operator: str, keys: Mapping[str, Any]) -> bool:
    return (
        operator == KEY_CHECK[0]
        and set(keys) == {KEY_CHECK[1]}
        and strings(keys[KEY_CHECK[1]]) == [KEY_CHECK[2]]
    )


def _judge(document: Any, action: str, what: str) -> str | None:
    """What is wrong with `document` keeping `action` to break-glass roles, or None."""
    if document is UNKNOWN:
        return None
    excepted = _excepted(document, action)
    if excepted is None:
        return (
            f"{what} has no Deny of {action} to every principal but the break-glass roles, so the deployers "
            "(CI included) could read them"
        )
    others = [arn for arn in excepted if not BREAK_GLASS_ROLE_ARN.fullmatch(arn)]
    if others:
        return f"{what} lets {', '.join(sorted(others))} {action} besides the break-glass roles"
    if not excepted:
        return f"{what} denies {action} to everyone, the break-glass roles included: nobody could read them"
    return None


def _secret_problems(view: StackView, secret: PolicyResource) -> Iterable[str]:
    policies = view.referencing(secret, "secretArn", SECRET_POLICY)
    if not policies:
        yield f"the break-glass secret {label(secret)} has no resource policy: the deployers could read them"
    for policy in policies:
        problem = _judge(
            _document(policy, "policy"), "secretsmanager:GetSecretValue", f"resource policy {policy.name}"
        )
        if problem:
            yield problem
    keys = [key for key in view.referenced(secret, "kmsKeyId") if key.resource_type == KEY]
    if not keys:
        yield (
            f"the break-glass secret {label(secret)} is not encrypted with a KMS key of this stack, so "
            "nothing shows who may decrypt them"
        )
    for key in keys:
        problem = _judge(_document(key, "policy"), "kms:Decrypt", f"key policy of {key.name}")
        if problem:
            yield problem


def _shares(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for bootstrap in _bootstraps(view):
        if [key for _, key in known_elements(sequence(known_get(bootstrap.props, "recovery_pgp_keys")))]:
            continue  # each share is encrypted to an operator's key
        secrets = [
            s for s in view.referenced(bootstrap, "break_glass_secret_id") if s.resource_type == SECRET
        ]
        if not secrets and known_get(bootstrap.props, "break_glass_secret_id") is not None:
            yield (
                f"{label(bootstrap)} stores the recovery shares unencrypted (no recovery_pgp_keys) in a "
                "secret this stack does not define, so nothing shows that the deployers cannot read them",
                bootstrap.urn,
            )
        for secret in secrets:
            for problem in _secret_problems(view, secret):
                yield (
                    f"{label(bootstrap)} stores the recovery shares unencrypted (no recovery_pgp_keys) and "
                    f"{problem}",
                    secret.urn,
                )


recovery_shares_protected = stack_policy(
    "recovery-shares-protected",
    "In production, Vault's recovery shares are encrypted to operators' PGP keys, or stored where only "
    "break-glass roles may read and decrypt them (the secret's resource policy and its KMS key deny "
    "everyone else, the deployers and CI included).",
    check=_shares,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(),
    remediation="Set vaultRecoverySharesReaders (people in breakGlass; the deployers then only write the "
    "shares) or vaultRecoveryPgpKeys (five operators' OpenPGP public keys).",
    category=CATEGORY,
    production_only=True,
)

POLICIES = [recovery_shares_protected]
