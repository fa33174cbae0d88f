"""The Vault bootstrap's inputs, defined once.

`VaultBootstrap` (components/vault/bootstrap.py) fills one `BootstrapInputs`; `BootstrappedVault` turns it
into the resource's properties with `to_properties`; the provider (providers/vault_bootstrap.py) reads them
back with `BootstrapInputs.from_properties`, and echoes the inputs listed here into its outputs.

The field names are property names in every stack's Pulumi state, and so are the nested ones (`ci_approle`,
`app_roles`, `break_glass`). Never rename one: a new input is a new field with a default that an older
state, which lacks it, parses to (tests/test_bootstrap_inputs.py parses an older release's properties).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pulumi

from providers.common import BootstrapError, plain
from providers.vault_config import AUDIT_FILE_PATH, AUTOPILOT_DEFAULTS

RECOVERY_SHARES = 5
RECOVERY_THRESHOLD = 3
# Long enough for a quiet month between runs; every run renews it, and so does an overdue `pulumi up`.
PROVISIONER_PERIOD = "720h"


@dataclass(frozen=True)
class CiAppRole:
    """The `ci` AppRole role: which policies CI tokens get and how long things live. A secret ID logs in
    once and expires after an hour: issue one per pipeline run."""

    token_policies: Sequence[str]
    secret_id_ttl: str = "1h"  # noqa: S105 - a duration, not a credential
    secret_id_num_uses: int = 1
    token_ttl: str = "20m"  # noqa: S105
    token_max_ttl: str = "1h"  # noqa: S105
    bound_cidrs: Sequence[str] = ()


@dataclass(frozen=True)
class AwsLoginRole:
    """An AWS auth role: the IAM principal that may log in, and the policies its tokens get."""

    name: str
    bound_arn: pulumi.Input[str]
    token_policies: Sequence[str]


@dataclass(frozen=True)
class BrokerBinding:
    """Break-glass access: the broker Lambda's role, bound to Vault's `break-glass-broker` auth role, and
    the break-glass token roles' explicit max TTL."""

    broker_role_arn: pulumi.Input[str]
    max_ttl: str = "1h"


@dataclass(frozen=True)
class BootstrapInputs:
    """Everything the bootstrap provider acts on. Values may be Outputs on the program side; the provider
    receives them resolved."""

    address: pulumi.Input[str]
    ca_pem: pulumi.Input[str]
    region: str
    # The Secrets Manager secret that receives the recovery shares and root token at init.
    break_glass_secret_id: pulumi.Input[str]
    cluster_size: int
    node_role_arn: pulumi.Input[str]
    # ACL policy name -> HCL text.
    policies: Mapping[str, str]
    ci_approle: CiAppRole
    recovery_shares: int = RECOVERY_SHARES
    recovery_threshold: int = RECOVERY_THRESHOLD
    recovery_pgp_keys: Sequence[str] = ()
    # A root or admin token, to adopt an initialised cluster or write protected policies; a Pulumi
    # secret, never echoed into the outputs (its fingerprint is).
    adopt_token: pulumi.Input[str] | None = field(default=None, metadata={"secret": True})
    rotation_role_arn: pulumi.Input[str] = ""
    app_roles: Sequence[AwsLoginRole] = ()
    audit_file_path: str = AUDIT_FILE_PATH
    autopilot: Mapping[str, Any] = field(default_factory=lambda: dict(AUTOPILOT_DEFAULTS))
    # Required in the X-Vault-AWS-IAM-Server-ID header of every AWS-auth login (replay protection).
    iam_server_id: str = ""
    provisioner_period: str = PROVISIONER_PERIOD
    # Bounds of the provider's waits (vault_waits.Waits), by name; empty for the defaults.
    waits: Mapping[str, float] = field(default_factory=dict)
    # None when break-glass access is off.
    break_glass: BrokerBinding | None = None
    # Write-only recovery shares: the secret that keeps the root token while the first bootstrap runs, so a
    # retry can resume without reading the shares; "" when the deployers may read the shares.
    resume_secret_id: pulumi.Input[str] = ""

    def to_properties(self) -> dict[str, Any]:
        """The resource's input properties: every field under its own name, nested ones as plain dicts."""
        properties = {item.name: _property(getattr(self, item.name)) for item in fields(self)}
        if self.adopt_token is not None:
            properties["adopt_token"] = pulumi.Output.secret(self.adopt_token)
        return properties

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> BootstrapInputs:
        """The inputs from resolved properties (the engine's, or an older state's: a property it lacks, or
        holds as null, takes the field's default). A required property missing is a `BootstrapError`."""
        values = _known(cls, properties, "the bootstrap")
        values["ci_approle"] = CiAppRole(**_known(CiAppRole, values.get("ci_approle") or {}, "ci_approle"))
        values["app_roles"] = tuple(
            AwsLoginRole(**_known(AwsLoginRole, role, "app_roles")) for role in values.get("app_roles") or ()
        )
        if values.get("break_glass"):
            values["break_glass"] = BrokerBinding(
                **_known(BrokerBinding, values["break_glass"], "break_glass")
            )
        if "adopt_token" in values:
            values["adopt_token"] = plain(values["adopt_token"]) or None
        return cls(**values)


# The inputs echoed into the outputs (so `read` and `update` see what was applied), in field order.
ECHOED_INPUTS = tuple(item.name for item in fields(BootstrapInputs) if not item.metadata.get("secret"))


def _known(kind: type, properties: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The properties that are fields of `kind` and not null; a required field missing is an error."""
    if not isinstance(properties, Mapping):
        raise BootstrapError(f"{where}: expected an object, got {type(properties).__name__}")
    values = {
        item.name: properties[item.name] for item in fields(kind) if properties.get(item.name) is not None
    }
    missing = [
        item.name
        for item in fields(kind)
        if item.name not in values
        and item.default is dataclasses.MISSING
        and item.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise BootstrapError(f"{where}: the properties lack {', '.join(missing)}")
    return values


def _property(value: Any) -> Any:
    """A field's value as a property: dataclasses and mappings as dicts, sequences as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _property(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {key: _property(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_property(item) for item in value]
    return value
