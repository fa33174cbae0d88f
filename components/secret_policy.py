"""Resource policies for Secrets Manager secrets: deny the value to every principal but the named ones.

A deny with `ArnNotLike` on `aws:PrincipalArn` holds whatever identity policies elsewhere in the account
allow, so a secret stays readable only by the roles listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.iam import document, statement

# Actions that read a value, and those that change one.
READ_VALUE = ("secretsmanager:GetSecretValue",)
CHANGE_VALUE = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)
# The rotation function reads where to write (VaultPath) and how (Source, ValueFormat) from the tags.
RETAG = ("secretsmanager:TagResource", "secretsmanager:UntagResource")


def secret_policy(
    owner_role: pulumi.Input[str] | None,
    writers: Sequence[pulumi.Input[str]],
    readers: Sequence[pulumi.Input[str]],
) -> dict[str, Any]:
    """Deny reading the value to all but owner, writers and readers; changing it to all but owner, writers."""
    changers = [*([owner_role] if owner_role else []), *writers]
    return document(
        statement(
            "OnlyOwnerRotationAndConsumersReadTheValue",
            READ_VALUE,
            "*",
            effect="Deny",
            principal="*",
            condition={"ArnNotLike": {"aws:PrincipalArn": [*changers, *readers]}},
        ),
        statement(
            "OnlyOwnerRotationAndDeployerChangeTheValue",
            CHANGE_VALUE,
            "*",
            effect="Deny",
            principal="*",
            condition={"ArnNotLike": {"aws:PrincipalArn": changers}},
        ),
        statement(
            "OnlyRotationAndDeployerRetag",
            RETAG,
            "*",
            effect="Deny",
            principal="*",
            condition={"ArnNotLike": {"aws:PrincipalArn": list(writers)}},
        ),
    )
