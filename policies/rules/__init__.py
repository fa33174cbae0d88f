"""Every rule of the candlefish-secrets policy pack, by concern.

`ALL_POLICIES` is what `policies/__main__.py` serves and what the offline preview runs. Each module's
rules are declared with `framework.resource_policy` / `framework.stack_policy`; `settings` holds the
default thresholds and the conventions the components follow.
"""

from pulumi_policy import EnforcementLevel, Policy

from . import (
    break_glass,
    code_signing,
    encryption,
    exposure,
    hardening,
    identity,
    internet_facing,
    recovery_shares,
    secrets_material,
    tags,
    vault,
    vault_version,
)

# Rules carry their own level; this is only the pack's fallback.
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

ALL_POLICIES: list[Policy] = [
    *encryption.POLICIES,
    *exposure.POLICIES,
    *internet_facing.POLICIES,
    *hardening.POLICIES,
    *identity.POLICIES,
    *vault.POLICIES,
    *vault_version.POLICIES,
    *secrets_material.POLICIES,
    *tags.POLICIES,
    *break_glass.POLICIES,
    *code_signing.POLICIES,
    *recovery_shares.POLICIES,
]

__all__ = ["ALL_POLICIES", "PACK_ENFORCEMENT_LEVEL"]
