"""Write-only recovery shares: the deployers may store Vault's recovery shares but never read them.

With `vaultRecoverySharesReaders` set, the break-glass secret that receives the shares at init gets its own
KMS key and a resource policy under which

- only the named people's break-glass roles (`candlefish-<env>-bg-<person>`, assumable only by that person,
  with MFA) may read the value, and the key lets only them decrypt it, and only through Secrets Manager for
  this secret;
- the deployers (the role running `pulumi up`, CI's, `deployerPrincipals`) may write the value and manage
  the secret, and are explicitly denied reading it and decrypting it.

What Secrets Manager asks of KMS on the caller's behalf (its user guide, "Secret encryption and decryption"):
PutSecretValue calls GenerateDataKey; GetSecretValue calls Decrypt; setting or changing a secret's key
validates it with a GenerateDataKey and a Decrypt whose encryption context names the secret
(`SecretARN`) and the version `RequestToValidateKeyAccess` (no real version has that id: version ids are
32 to 64 characters); a PutSecretValue repeated with an existing version's ClientRequestToken decrypts that
version to compare, which a write-only deployer cannot do (the provider checks for the version instead of
repeating the put). The deployers get exactly GenerateDataKey and Encrypt for this secret, and Decrypt only
for the key check.

Because the bootstrap can no longer read the root token back from this secret, it keeps a copy in a second,
short-lived secret (`resume_secret_policy`) that only the deployers may read, and empties it once the root
token is revoked (providers/bootstrap_resume.py).

The documents are plain data with Outputs inside (components/lib/iam.py; tests/test_recovery_shares.py
evaluates them); `shares_key` and `resume_secret` create the key and the resume secret for `VaultBootstrap`.
What a deployer can still do is rewrite these policies (it manages them): a reviewed change that the
pack's `recovery-shares-protected` rule refuses in production, and that CloudTrail records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lib.iam import document, statement, to_json
from components.lib.key_policies import ADMIN_ACTIONS
from components.lib.secret_policy import READ_VALUE, deny_all_but

KEY_PURPOSE = "recovery-shares"
KEY_DELETION_DAYS = 30
RESUME_SECRET = "vault/bootstrap-resume"  # noqa: S105 - a secret's name
# The SecretVersionId Secrets Manager puts in the encryption context of its key-access checks.
KEY_CHECK_VERSION = "RequestToValidateKeyAccess"
# A break-glass reader also sees which versions exist (to pick the one written at init).
READER_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:ListSecretVersionIds",
)
# Secrets Manager's calls to KMS when a deployer writes a value (and re-encrypts on a key change).
DEPLOYER_KEY_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey")
# Ways to get the plaintext (or move the ciphertext under a key one controls) out of this key.
DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")
EVERYONE = {"AWS": "*"}


def secret_arn_pattern(partition: str, region: str, account_id: str, name: str) -> str:
    """The secret's ARN before it exists: Secrets Manager appends a hyphen and six random characters."""
    return f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{name}-??????"


def shares_secret_policy(readers: Any, deployers: Any, write_actions: Sequence[str]) -> dict[str, Any]:
    """The break-glass secret's resource policy when the shares are write-only.

    `readers`: the break-glass roles' ARNs (they hold no identity policy for this secret, so the grant is
    here); `deployers`: ARN patterns of every deploying role. Both may be Outputs.
    """
    return document(
        statement("BreakGlassRolesReadTheShares", READER_ACTIONS, "*", principal={"AWS": readers}),
        deny_all_but("DenyReadExceptBreakGlassRoles", READ_VALUE, readers, principal=EVERYONE),
        # Redundant while no deployer pattern matches a break-glass role; decisive if one ever does.
        deny_all_but("DenyReadToDeployers", READ_VALUE, deployers, match="ArnLike", principal=EVERYONE),
        deny_all_but("DenyWriteExceptDeployer", write_actions, deployers, principal=EVERYONE),
    )


def resume_secret_policy(deployers: Any, write_actions: Sequence[str]) -> dict[str, Any]:
    """The bootstrap-resume secret: only the deployers read it (to resume) and change it."""
    return document(
        deny_all_but("DenyReadExceptDeployer", READ_VALUE, deployers, principal=EVERYONE),
        deny_all_but("DenyWriteExceptDeployer", write_actions, deployers, principal=EVERYONE),
    )


def shares_key_policy(
    *,
    account_root: Any,
    account_id: Any,
    region: str,
    secret_arn: Any,
    readers: Any,
    deployers: Any,
) -> dict[str, Any]:
    """The shares key: administered by the account, used by the deployers only to encrypt through Secrets
    Manager for this secret, decrypted only by the break-glass roles through Secrets Manager.

    `secret_arn`: the secret's ARN or `secret_arn_pattern`; `readers`: role ARNs (named as principals,
    so they must exist); `deployers`: ARN patterns matched against aws:PrincipalArn.
    """
    via = {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com", "kms:CallerAccount": account_id}
    this_secret = {"kms:EncryptionContext:SecretARN": secret_arn}
    key_check = {"kms:EncryptionContext:SecretVersionId": KEY_CHECK_VERSION}
    account = {"AWS": account_root}
    return document(
        statement("KeyAdministration", ADMIN_ACTIONS, "*", principal=account),
        statement(
            "DeployersEncryptTheSharesThroughSecretsManager",
            DEPLOYER_KEY_ACTIONS,
            "*",
            principal=account,
            condition={
                "StringEquals": via,
                "StringLike": this_secret,
                "ArnLike": {"aws:PrincipalArn": deployers},
            },
        ),
        statement(
            "DeployersPassSecretsManagersKeyCheck",
            ("kms:Decrypt",),
            "*",
            principal=account,
            condition={
                "StringEquals": {**via, **key_check},
                "StringLike": this_secret,
                "ArnLike": {"aws:PrincipalArn": deployers},
            },
        ),
        statement(
            "BreakGlassRolesDecryptTheSharesThroughSecretsManager",
            ("kms:Decrypt",),
            "*",
            principal={"AWS": readers},
            condition={"StringEquals": via, "StringLike": this_secret},
        ),
        statement(
            "DenyDecryptExceptBreakGlassRoles",
            DECRYPT_ACTIONS,
            "*",
            effect="Deny",
            principal=EVERYONE,
            condition={"ArnNotLike": {"aws:PrincipalArn": readers}, "StringNotEquals": key_check},
        ),
        statement(
            "DenyDecryptToDeployers",
            DECRYPT_ACTIONS,
            "*",
            effect="Deny",
            principal=EVERYONE,
            condition={"ArnLike": {"aws:PrincipalArn": deployers}, "StringNotEquals": key_check},
        ),
    )


# --- the resources ---------------------------------------------------------------------------------------


def shares_key(
    name: str,
    deployment: Deployment,
    *,
    readers: Sequence[pulumi.Input[str]],
    deployers: pulumi.Input[list[str]],
    secret_name: str,
    parent: pulumi.Resource,
) -> aws.kms.Key:
    """The break-glass secret's own key (created before the secret, so it names the secret by pattern)."""
    context = deployment.aws
    facts = pulumi.Output.all(context.partition, context.account_id, deployers, *readers)
    policy = facts.apply(
        lambda known: json.dumps(
            shares_key_policy(
                account_root=f"arn:{known[0]}:iam::{known[1]}:root",
                account_id=known[1],
                region=context.region,
                secret_arn=secret_arn_pattern(known[0], context.region, known[1], secret_name),
                readers=sorted(known[3:]),
                deployers=known[2],
            ),
            indent=2,
        )
    )
    key = aws.kms.Key(
        f"{name}-shares-key",
        description=f"{deployment.names.prefix}: Vault recovery shares (break-glass readers decrypt only)",
        enable_key_rotation=True,
        rotation_period_in_days=365,
        deletion_window_in_days=KEY_DELETION_DAYS,
        policy=policy,
        tags={"Name": deployment.names.resource(KEY_PURPOSE), "KeyPurpose": KEY_PURPOSE},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.kms.Alias(
        f"{name}-shares-key-alias",
        name=deployment.names.kms_alias(KEY_PURPOSE),
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=key),
    )
    return key


def resume_secret(
    name: str,
    deployment: Deployment,
    *,
    secrets_key_arn: pulumi.Input[str],
    deployers: pulumi.Input[list[str]],
    write_actions: Sequence[str],
    recovery_window_days: int,
    parent: pulumi.Resource,
) -> tuple[aws.secretsmanager.Secret, aws.secretsmanager.SecretPolicy]:
    """The bootstrap-resume secret and its policy: the root token while a first bootstrap runs, no longer."""
    secret = aws.secretsmanager.Secret(
        f"{name}-resume",
        name=deployment.names.secret(RESUME_SECRET),
        description="Vault's initial root token while the first bootstrap runs (emptied once it is revoked)",
        kms_key_id=secrets_key_arn,
        recovery_window_in_days=recovery_window_days,
        tags={"Name": deployment.names.resource("vault-bootstrap-resume"), "Purpose": "bootstrap-resume"},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = aws.secretsmanager.SecretPolicy(
        f"{name}-resume-policy",
        secret_arn=secret.arn,
        policy=to_json(resume_secret_policy(deployers, write_actions)),
        block_public_policy=True,
        opts=pulumi.ResourceOptions(parent=secret),
    )
    return secret, policy
