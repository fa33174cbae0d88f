"""Resource policies for Secrets Manager secrets: deny the value to every principal but the named ones.

A deny with `ArnNotLike` on `aws:PrincipalArn` holds whatever identity policies elsewhere in the account
allow, so a secret stays readable only by the roles listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.lib.iam import document, statement

# Actions that read a value, those that change one, and those that change who may do either.
READ_VALUE = ("secretsmanager:GetSecretValue",)
CHANGE_VALUE = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)
# The rotation function reads where to write (VaultPath) and how (Source, ValueFormat) from the tags.
RETAG = ("secretsmanager:TagResource", "secretsmanager:UntagResource")
CHANGE_POLICY = ("secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy")


def deny_all_but(
    sid: str,
    actions: Sequence[str],
    principal_arns: Any,
    *,
    match: str = "ArnNotLike",
    principal: Any = "*",
) -> dict[str, Any]:
    """Deny `actions` to every principal whose aws:PrincipalArn is not one of `principal_arns` (ARNs, or
    patterns with ArnNotLike; a list, a single ARN, or an Output of either)."""
    return statement(
        sid,
        actions,
        "*",
        effect="Deny",
        principal=principal,
        condition={match: {"aws:PrincipalArn": principal_arns}},
    )


def secret_policy(
    owner_role: pulumi.Input[str] | None,
    writers: Sequence[pulumi.Input[str]],
    readers: Sequence[pulumi.Input[str]],
) -> dict[str, Any]:
    """Deny reading the value to all but owner, writers and readers; changing it to all but owner, writers."""
    changers = [*([owner_role] if owner_role else []), *writers]
    return document(
        deny_all_but("OnlyOwnerRotationAndConsumersReadTheValue", READ_VALUE, [*changers, *readers]),
        deny_all_but("OnlyOwnerRotationAndDeployerChangeTheValue", CHANGE_VALUE, changers),
        deny_all_but("OnlyRotationAndDeployerRetag", RETAG, list(writers)),
    )
