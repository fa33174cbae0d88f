"""The DR-region settings: whether snapshots can be unsealed in `drRegion`, and the DR stack's restore mode.

Backups are replicated to `drRegion` (components/storage.py). To be restorable there, the cluster in that
region must unseal with the key the snapshots were sealed with: a standard KMS unseal key becomes a
multi-Region key with a replica in `drRegion` (Vault's awskms seal decrypts without naming the key, so the
replica serves). A key in a CloudHSM key store cannot be multi-Region, and Vault Community has no second
seal, so an HSM-backed stack has no cross-region unseal: validation says so and asks for a choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.config.reader import ConfigReader

# A multi-Region key's id starts with mrk-; its replicas share the id.
MULTI_REGION_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/mrk-[0-9a-f]{32}"


@dataclass(frozen=True)
class DrConfig:
    """How this stack takes part in disaster recovery."""

    # The primary's unseal and data keys are multi-Region with replicas in drRegion.
    multi_region_keys: bool
    accept_no_cross_region_unseal: bool
    # The DR stack: restore snapshots, seed nothing, unseal with the primary key's replica.
    restore_mode: bool
    unseal_key_replica_arn: str | None


def read_dr(reader: ConfigReader, *, region: str, dr_region: str | None, enable_hsm: bool) -> DrConfig:
    """The DR settings, with every rule between them and the keys' backing."""
    accept = bool(reader.boolean("drAcceptNoCrossRegionUnseal", False))
    restore_mode = bool(reader.boolean("restoreMode", False))
    replica = reader.optional_string(
        "unsealKeyReplicaArn",
        pattern=MULTI_REGION_KEY_ARN,
        allowed="a multi-Region KMS key ARN (key/mrk-...)",
    )
    if dr_region and enable_hsm and not accept:
        reader.problem(
            "drRegion",
            "is set on an HSM-backed stack: a CloudHSM key cannot be multi-Region and Vault Community has no "
            "second seal, so snapshots cannot be unsealed in the DR region",
            "enableHsm: false (a multi-Region KMS unseal key with a replica in drRegion), or "
            "drAcceptNoCrossRegionUnseal: true to accept that risk",
        )
    if accept and not (dr_region and enable_hsm):
        reader.problem(
            "drAcceptNoCrossRegionUnseal",
            "only applies to an HSM-backed stack with drRegion set",
            "leave it unset",
        )
    if replica:
        key_region = replica.split(":")[3]
        if region and key_region != region:
            reader.problem("unsealKeyReplicaArn", f"is in {key_region}, not this stack's region {region}",
                           "the replica in this region")  # fmt: skip
        if enable_hsm:
            reader.problem("unsealKeyReplicaArn", "cannot be used with enableHsm", "enableHsm: false")
        if dr_region:
            reader.problem("unsealKeyReplicaArn", "is for the DR stack, which replicates nowhere",
                           "leave drRegion unset in the DR stack")  # fmt: skip
    if restore_mode and not replica:
        reader.problem(
            "restoreMode",
            "restores snapshots sealed with the primary's unseal key, which a fresh key cannot unseal",
            "set unsealKeyReplicaArn to the primary unseal key's replica in this region",
        )
    return DrConfig(
        multi_region_keys=bool(dr_region) and not enable_hsm,
        accept_no_cross_region_unseal=accept,
        restore_mode=restore_mode,
        unseal_key_replica_arn=replica,
    )


def replica_arn(primary_arn: str, region: str) -> str:
    """The ARN a multi-Region key's replica has in `region` (same id, the region swapped)."""
    return re.sub(r"(:kms:)[^:]+(:)", rf"\g<1>{region}\g<2>", primary_arn, count=1)
