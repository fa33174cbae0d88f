"""Single-condition cases for `recovery-shares-protected`: a production bootstrap whose shares are write-only
(the secret's policy and its key deny everyone but break-glass roles), each case breaking one thing."""

from __future__ import annotations

from typing import Any

from tests.policies.conditions_stack import StackCondition
from tests.policies.support import PRODUCTION, Res, document

BOOTSTRAP = "pulumi-python:dynamic/candlefish:BootstrappedVault"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
KEY_TYPE = "aws:kms/key:Key"
ACCOUNT = "123456789012"
SECRET_ARN = (
    f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:candlefish/production/vault/break-glass-AbCdEf"
)
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5e1f0000-0000-4000-8000-000000000007"
READERS = [f"arn:aws:iam::{ACCOUNT}:role/candlefish-production-bg-elena"]
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/deployer"
KEY_CHECK = {"kms:EncryptionContext:SecretVersionId": "RequestToValidateKeyAccess"}
PGP_KEYS = [f"ZXhhbXBsZS1ub3QtYS1rZXkt{index}A==" for index in range(5)]


def deny(action: str, readers: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": action,
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": readers}, **extra},
    }


def shares_stack(
    *,
    pgp_keys: list[str] | None = None,
    secret_readers: list[str] | None = None,
    key_readers: list[str] | None = None,
    secret_deny: bool = True,
    key_deny: bool = True,
    key_deny_extra: dict[str, Any] | None = None,
    own_key: bool = True,
    environment: str = "production",
) -> list[Res]:
    tags = {**PRODUCTION, "Environment": environment}
    secret_statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": READERS},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    ]
    if secret_deny:
        secret_statements.append(
            deny("secretsmanager:GetSecretValue", READERS if secret_readers is None else secret_readers)
        )
    key_statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": {"AWS": READERS}, "Action": "kms:Decrypt", "Resource": "*"}
    ]
    if key_deny:
        extra = {"StringNotEquals": KEY_CHECK} if key_deny_extra is None else key_deny_extra
        key_statements.append(deny("kms:Decrypt", READERS if key_readers is None else key_readers, **extra))
    resources = [
        Res(
            SECRET,
            "bootstrap-break-glass",
            {
                "arn": SECRET_ARN,
                "kmsKeyId": KEY_ARN if own_key else "alias/aws/secretsmanager",
                "tags": tags,
            },
            refs={"kmsKeyId": ["bootstrap-shares-key"]} if own_key else {},
        ),
        Res(
            SECRET_POLICY,
            "bootstrap-break-glass-policy",
            {"secretArn": SECRET_ARN, "policy": document(*secret_statements)},
            refs={"secretArn": ["bootstrap-break-glass"]},
        ),
        Res(
            BOOTSTRAP,
            "bootstrap-vault",
            {"break_glass_secret_id": SECRET_ARN, "recovery_pgp_keys": pgp_keys or []},
            refs={"break_glass_secret_id": ["bootstrap-break-glass"]},
        ),
    ]
    if own_key:
        resources.append(
            Res(
                KEY_TYPE,
                "bootstrap-shares-key",
                {"arn": KEY_ARN, "policy": document(*key_statements), "tags": tags},
            )
        )
    return resources


RULE = "recovery-shares-protected"
PREFIX = (
    "bootstrap-break-glass: bootstrap-vault (pulumi-python:dynamic/candlefish:BootstrappedVault) stores the "
)
SHARES = PREFIX + "recovery shares unencrypted (no recovery_pgp_keys) and "

CONDITIONS = [
    StackCondition(
        RULE,
        shares_stack,
        {"secret_deny": False},
        (
            SHARES
            + "resource policy bootstrap-break-glass-policy has no Deny of secretsmanager:GetSecretValue "
            "to every principal but the break-glass roles, so the deployers (CI included) could read them",
        ),
    ),
    StackCondition(
        RULE,
        shares_stack,
        {"secret_readers": [*READERS, DEPLOYER]},
        (
            SHARES + f"resource policy bootstrap-break-glass-policy lets {DEPLOYER} "
            "secretsmanager:GetSecretValue besides the break-glass roles",
        ),
    ),
    StackCondition(
        RULE,
        shares_stack,
        {"key_deny": False},
        (
            SHARES
            + "key policy of bootstrap-shares-key has no Deny of kms:Decrypt to every principal but the "
            "break-glass roles, so the deployers (CI included) could read them",
        ),
    ),
    StackCondition(
        RULE,
        shares_stack,
        {"key_readers": [*READERS, f"arn:aws:iam::{ACCOUNT}:role/candlefish-ci-*"]},
        (
            SHARES + f"key policy of bootstrap-shares-key lets arn:aws:iam::{ACCOUNT}:role/candlefish-ci-* "
            "kms:Decrypt besides the break-glass roles",
        ),
    ),
    # A Deny narrowed by any other condition does not count: it might never apply.
    StackCondition(
        RULE,
        shares_stack,
        {"key_deny_extra": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
        (
            SHARES
            + "key policy of bootstrap-shares-key has no Deny of kms:Decrypt to every principal but the "
            "break-glass roles, so the deployers (CI included) could read them",
        ),
    ),
    StackCondition(
        RULE,
        shares_stack,
        {"own_key": False},
        (
            SHARES + "the break-glass secret bootstrap-break-glass (aws:secretsmanager/secret:Secret) is not "
            "encrypted with a KMS key of this stack, so nothing shows who may decrypt them",
        ),
    ),
]
