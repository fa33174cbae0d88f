"""`VaultBootstrap`: the break-glass secret and the provider run that initialises and configures Vault.

The break-glass secret receives the recovery shares and the initial root token at init, and nothing
else ever does: it is kept 30 days after a deletion, and its resource policy denies changing it (value,
stages, settings, resource policy, tags, deletion) to all but the deployers. Who may read it:

- readable (the default): encrypted with the secrets key; the break-glass role(s) and the deployers read it;
- write-only (`recovery_share_readers` given): encrypted with its own key; only those break-glass roles read
  and decrypt it, the deployers are denied both, and the bootstrap resumes from a separate short-lived
  secret instead (components/vault/recovery_shares.py).

In production the shares must be PGP-encrypted to operators' keys or write-only (config validation and the
policy pack refuse neither); a component built in production with neither warns. The `BootstrappedVault`
dynamic resource (providers/vault_bootstrap.py) does the Vault side; its provisioner token is a Pulumi secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lib.component import Component
from components.lib.iam import document, to_json
from components.lib.secret_policy import CHANGE_POLICY, CHANGE_VALUE, READ_VALUE, deny_all_but
from components.vault import recovery_shares
from components.vault.policies import app_policy_name, render_policies
from providers.bootstrap_inputs import (
    PROVISIONER_PERIOD,
    AwsLoginRole,
    BootstrapInputs,
    BrokerBinding,
    CiAppRole,
)
from providers.vault_bootstrap import BootstrappedVault
from providers.vault_config import AUDIT_FILE_PATH

RECOVERY_WINDOW_DAYS = 30
# Writing a new value or moving AWSCURRENT would replace the break-glass material; the secret's settings
# (its KMS key), resource policy and tags guard it; deleting or restoring it decides whether it exists.
WRITE_ACTIONS = (
    *CHANGE_VALUE,
    *CHANGE_POLICY,
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
)
RECOVERY_SHARES_NOTE = (
    "neither vaultRecoveryPgpKeys nor vaultRecoverySharesReaders is set: Vault's recovery shares will be "
    "stored unencrypted in the break-glass secret {secret}, readable by the deployers (CI included), and "
    "whoever can read it can generate a root token. Either list the break-glass people whose MFA roles "
    "alone may read the shares (`vaultRecoverySharesReaders`, the deployers then only write them), or, "
    "before the first `pulumi up`, set five base64 OpenPGP public keys, one per share holder: `pulumi "
    "config set --path 'vaultRecoveryPgpKeys[0]' \"$(gpg --export <id> | base64 -w0)\"` and so on to [4]. "
    "Keys are used at init only; on an initialised cluster, replace the shares with PGP-encrypted ones by "
    "`vault operator rekey -target=recovery -pgp-keys=...`"
)
_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+"
)


@dataclass(frozen=True)
class AppRole:
    """An application that logs in with AWS IAM auth and reads its KV paths (e.g. `candlefish/payments`)."""

    name: str
    bound_arn: pulumi.Input[str]
    paths: Sequence[str]


@dataclass(frozen=True)
class VaultBootstrapArgs:
    """What the bootstrap needs from the cluster, the keys and IAM."""

    deployment: Deployment
    vault_address: pulumi.Input[str]
    ca_pem: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    node_role_arn: pulumi.Input[str]
    ci_approle: CiAppRole
    rotation_role_arn: pulumi.Input[str] | None = None
    app_roles: Sequence[AppRole] = ()
    recovery_pgp_keys: Sequence[str] = ()
    # `pulumi config set --secret vaultAdoptToken`: only to adopt an initialised cluster with no state, or
    # for one run that writes a policy the provisioner may not (admin, break-glass, provisioner).
    adopt_token: pulumi.Input[str] | None = None
    # Who may read the break-glass secret besides the deployer (ArnLike patterns on aws:PrincipalArn);
    # default: the role `candlefish-<environment>-break-glass`, under any IAM path.
    break_glass_principal_patterns: Sequence[pulumi.Input[str]] | None = None
    # The role `pulumi up` runs as; default: the caller's role, from sts:GetCallerIdentity.
    deployer_role_arn: pulumi.Input[str] | None = None
    # Configured deployer principals besides the running one (ARN patterns): they may write the secret too.
    other_deployers: Sequence[pulumi.Input[str]] = ()
    # Write-only recovery shares: the MFA-guarded break-glass roles (ARNs; they must exist) that alone may
    # read and decrypt the break-glass secret. Empty: the secret is readable by the deployers too.
    recovery_share_readers: Sequence[pulumi.Input[str]] = ()
    audit_file_path: str = AUDIT_FILE_PATH
    # Required in the X-Vault-AWS-IAM-Server-ID header of every AWS-auth login (replay protection).
    iam_server_id: str = ""
    # Break-glass access (components/break_glass): the broker Lambda's role, bound to Vault's
    # break-glass-broker auth role, and the token roles' explicit max TTL. None when break-glass is off.
    break_glass_broker_role_arn: pulumi.Input[str] | None = None
    break_glass_max_ttl: str = "1h"
    provisioner_period: str = PROVISIONER_PERIOD
    waits: Mapping[str, float] = field(default_factory=dict)
    # What must exist before Vault is called: the cluster's `ready` (the listener, the nodes).
    depends_on: Sequence[pulumi.Resource] = ()


def deployer_role_arn(caller_arn: str) -> str:
    """The IAM role behind an assumed-role session ARN (what `aws:PrincipalArn` holds); others unchanged."""
    match = _ASSUMED_ROLE.fullmatch(caller_arn)
    if match is None:
        return caller_arn
    return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"


def principal_patterns(role_arn: str) -> list[str]:
    """A role ARN with and without an IAM path: a session ARN does not show the role's path."""
    prefix, _, name = role_arn.rpartition("/")
    if ":role" not in prefix:
        return [role_arn]
    account_part = prefix.split(":role", 1)[0]
    return [f"{account_part}:role/{name}", f"{account_part}:role/*/{name}"]


def break_glass_policy(readers: Any, writers: Any) -> dict[str, Any]:
    """The secret's resource policy: deny reading to all but `readers`, writing to all but `writers`.

    Both are lists of ARN patterns (or Outputs of such lists), matched against aws:PrincipalArn.
    """

    everyone = {"AWS": "*"}
    return document(
        deny_all_but("DenyReadExceptBreakGlassAndDeployer", READ_VALUE, readers, principal=everyone),
        deny_all_but("DenyWriteExceptDeployer", WRITE_ACTIONS, writers, principal=everyone),
    )


class VaultBootstrap(Component):
    """The break-glass secret and its policy, then the Vault bootstrap that writes to it."""

    break_glass_secret: aws.secretsmanager.Secret
    break_glass_policy: aws.secretsmanager.SecretPolicy
    shares_key: aws.kms.Key | None
    resume_secret: aws.secretsmanager.Secret | None
    vault: BootstrappedVault
    provisioner_token: pulumi.Output[str]
    provisioner_accessor: pulumi.Output[str]

    def __init__(
        self, name: str, args: VaultBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:VaultBootstrap", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        secret_name = args.deployment.names.secret("vault/break-glass")
        deployer = pulumi.Output.from_input(
            args.deployer_role_arn or aws.get_caller_identity_output().arn.apply(deployer_role_arn)
        )
        deployer_patterns = pulumi.Output.all(deployer, *args.other_deployers).apply(
            lambda found: list(dict.fromkeys([*principal_patterns(found[0]), *found[1:]]))
        )
        # Write-only shares: the secret's own key, readable only by the break-glass roles.
        self.shares_key = (
            recovery_shares.shares_key(
                name,
                args.deployment,
                readers=args.recovery_share_readers,
                deployers=deployer_patterns,
                secret_name=secret_name,
                parent=self,
            )
            if args.recovery_share_readers
            else None
        )
        self.break_glass_secret = aws.secretsmanager.Secret(
            f"{name}-break-glass",
            name=secret_name,
            description="Vault recovery shares and initial root token, written once at init (break-glass)",
            kms_key_id=self.shares_key.arn if self.shares_key else args.secrets_key_arn,
            recovery_window_in_days=RECOVERY_WINDOW_DAYS,
            tags={"Name": args.deployment.names.resource("vault-break-glass"), "Purpose": "break-glass"},
            opts=child,
        )
        if args.deployment.production and not args.recovery_pgp_keys and not args.recovery_share_readers:
            pulumi.log.warn(RECOVERY_SHARES_NOTE.format(secret=secret_name), resource=self)
        if args.recovery_share_readers:
            secret_policy = recovery_shares.shares_secret_policy(
                pulumi.Output.all(*args.recovery_share_readers).apply(sorted),
                deployer_patterns,
                WRITE_ACTIONS,
            )
        else:
            readers = pulumi.Output.all(deployer_patterns, self._break_glass_patterns(args)).apply(
                lambda found: sorted({*found[0], *found[1]})
            )
            secret_policy = break_glass_policy(readers, deployer_patterns)
        self.break_glass_policy = aws.secretsmanager.SecretPolicy(
            f"{name}-break-glass-policy",
            secret_arn=self.break_glass_secret.arn,
            policy=to_json(secret_policy),
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=self.break_glass_secret),
        )
        # Write-only shares: the bootstrap resumes from a secret of its own, never from the shares.
        self.resume_secret, resume_policy = (
            recovery_shares.resume_secret(
                name,
                args.deployment,
                secrets_key_arn=args.secrets_key_arn,
                deployers=deployer_patterns,
                write_actions=WRITE_ACTIONS,
                recovery_window_days=RECOVERY_WINDOW_DAYS,
                parent=self,
            )
            if args.recovery_share_readers
            else (None, None)
        )
        policies = render_policies(
            ((app.name, app.paths) for app in args.app_roles),
            region=args.deployment.aws.region,
            audit_file_path=args.audit_file_path,
        )
        inputs = BootstrapInputs(
            address=args.vault_address,
            ca_pem=args.ca_pem,
            region=args.deployment.aws.region,
            break_glass_secret_id=self.break_glass_secret.arn,
            resume_secret_id=self.resume_secret.arn if self.resume_secret else "",
            cluster_size=args.deployment.vault_nodes,
            node_role_arn=args.node_role_arn,
            policies=policies,
            ci_approle=args.ci_approle,
            rotation_role_arn=args.rotation_role_arn or "",
            app_roles=[
                AwsLoginRole(
                    name=app.name, bound_arn=app.bound_arn, token_policies=[app_policy_name(app.name)]
                )
                for app in args.app_roles
            ],
            recovery_pgp_keys=args.recovery_pgp_keys,
            adopt_token=args.adopt_token,
            audit_file_path=args.audit_file_path,
            iam_server_id=args.iam_server_id,
            break_glass=(
                BrokerBinding(
                    broker_role_arn=args.break_glass_broker_role_arn, max_ttl=args.break_glass_max_ttl
                )
                if args.break_glass_broker_role_arn is not None
                else None
            ),
            provisioner_period=args.provisioner_period,
            waits=args.waits,
        )
        self.vault = BootstrappedVault(
            f"{name}-vault",
            inputs,
            # The shares may only be written once the policy that guards them is in place.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    self.break_glass_policy,
                    *([resume_policy] if resume_policy else []),
                    *args.depends_on,
                ],
            ),
        )
        # Secret in the program too, not only in state (where additional_secret_outputs puts it).
        self.provisioner_token = pulumi.Output.secret(self.vault.provisioner_token)
        self.provisioner_accessor = self.vault.provisioner_accessor
        self.ready = [self.vault]
        self.register_outputs(
            {
                "breakGlassSecretArn": self.break_glass_secret.arn,
                "provisionerAccessor": self.vault.provisioner_accessor,
                "configDigest": self.vault.config_digest,
            }
        )

    @staticmethod
    def _break_glass_patterns(args: VaultBootstrapArgs) -> pulumi.Output[list[str]]:
        if args.break_glass_principal_patterns is not None:
            return pulumi.Output.all(*args.break_glass_principal_patterns).apply(list)
        role = f"role/{args.deployment.names.break_glass_role}"
        return args.deployment.aws.arn("iam", role, region=False).apply(principal_patterns)
