"""The stack's typed, validated configuration.

`load_stack_config()` reads the running stack's Pulumi config once; `parse_stack_config()` is the
pure function behind it, which tests call with plain dictionaries. Every problem is collected and
raised together as one `ConfigError`, each line naming the key, what is wrong and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from components.config.access import AccessConfig, Application, check_recovery_shares, read_access
from components.config.break_glass import BreakGlassConfig, read_break_glass
from components.config.catalog import ROTATION_LIMITS, SecretEntry, read_catalog
from components.config.database import PRODUCTION_MIN_LOG_DAYS as DATABASE_PRODUCTION_MIN_LOG_DAYS
from components.config.database import DatabaseConfig, read_database
from components.config.dr import DrConfig, read_dr
from components.config.functions import CodeSigningMode, read_code_signing
from components.config.monitoring import MonitoringConfig, read_monitoring
from components.config.reader import (
    ConfigError,
    ConfigReader,
    Problem,
    SecretRef,
    log_retention,
)
from components.config.vault import (
    PRODUCTION_MIN_AUDIT_DAYS,
    SEMVER_PATTERN,
    LoadBalancerConfig,
    VaultConfig,
    read_load_balancer,
    read_vault,
)
from components.lib import netmath

__all__ = [
    "PROJECT",
    "ROTATION_LIMITS",
    "AccessConfig",
    "AlertingConfig",
    "Application",
    "ConfigError",
    "DatabaseConfig",
    "KeysConfig",
    "LoadBalancerConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "Problem",
    "SecretEntry",
    "SecretRef",
    "StackConfig",
    "StorageConfig",
    "VaultConfig",
    "check_zones",
    "load_stack_config",
    "parse_stack_config",
]

PROJECT = "candlefish-secrets"
PRODUCTION = "production"

REQUIRED_TAGS = ("Environment", "Project", "Component", "DeployedBy")
PRODUCTION_MIN_FLOW_LOG_DAYS = 365
# The backup bucket moves snapshots to STANDARD_IA after this many days; S3 requires expiry to come later.
BACKUP_IA_TRANSITION_DAYS = 30

EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
REGION_PATTERN = r"[a-z]{2}(?:-gov)?-[a-z]+-\d"
METADATA_TAG_KEY_PATTERN = r"[A-Za-z0-9+\-=.,_:@]+"


@dataclass(frozen=True)
class NetworkConfig:
    """The VPC layout: one public and one private subnet per availability zone."""

    vpc_cidr: str
    availability_zones: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    public_subnet_cidrs: tuple[str, ...]
    nat_gateways: Literal["one-per-az", "single"]
    flow_log_retention_days: int


@dataclass(frozen=True)
class KeysConfig:
    """KMS keys: deletion window, and whether the Vault unseal key lives in CloudHSM."""

    deletion_window_days: int
    enable_hsm: bool
    hsm_trust_anchor_certificate: str | None
    hsm_key_store_connected: bool


@dataclass(frozen=True)
class StorageConfig:
    """The audit-log and raft-snapshot buckets, and the region backups are replicated to."""

    audit_object_lock_days: int
    backup_retention_days: int
    dr_region: str | None


@dataclass(frozen=True)
class AlertingConfig:
    """Where alerts go. The Slack webhook and PagerDuty key are secure config, never plaintext."""

    email: str
    slack_webhook_url: SecretRef | None
    pagerduty_integration_key: SecretRef | None


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs to know about the stack it is deploying."""

    project: str
    stack: str
    environment: str
    region: str
    network: NetworkConfig
    keys: KeysConfig
    vault: VaultConfig
    load_balancer: LoadBalancerConfig
    storage: StorageConfig
    dr: DrConfig
    alerting: AlertingConfig
    monitoring: MonitoringConfig
    catalog: tuple[SecretEntry, ...]
    team_roles: Mapping[str, str]
    access: AccessConfig
    break_glass: BreakGlassConfig
    tags: Mapping[str, str]
    sealed_secrets_version: str | None
    database: DatabaseConfig
    code_signing: CodeSigningMode = "off"

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def load_balancer_subnet_cidrs(self) -> tuple[str, ...]:
        """The blocks the Vault load balancer's nodes live in: private if internal, else public."""
        if self.load_balancer.internal:
            return self.network.private_subnet_cidrs
        return self.network.public_subnet_cidrs


def parse_stack_config(
    values: Mapping[str, Any],
    *,
    stack: str,
    secret_keys: frozenset[str] = frozenset(),
    project: str = PROJECT,
) -> StackConfig:
    """Build a `StackConfig` from `namespace:key` → value pairs; raise `ConfigError` listing every problem."""
    prefix = f"{project}:"
    own = {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)}
    own_secrets = frozenset(key[len(prefix) :] for key in secret_keys if key.startswith(prefix))
    reader = ConfigReader(project, own, own_secrets)

    region = values.get("aws:region")
    if not isinstance(region, str) or not re.fullmatch(REGION_PATTERN, region):
        reader.problem("aws:region", f"{region!r} is not an AWS region", "e.g. us-east-1", in_namespace=False)
        region = ""

    environment = reader.string(
        "environment", pattern=r"[a-z][a-z0-9-]{1,20}", allowed="lowercase letters, digits and hyphens"
    )
    production = environment == PRODUCTION
    network = _network(reader, region=region, production=production)
    keys = _keys(reader, production=production)
    vault = read_vault(reader, environment=environment or "", production=production)
    load_balancer = read_load_balancer(reader, region=region, production=production)
    storage = _storage(reader, region=region, production=production)
    dr = read_dr(reader, region=region, dr_region=storage.dr_region, enable_hsm=keys.enable_hsm)
    alerting = AlertingConfig(
        email=reader.string("alertEmail", pattern=EMAIL_PATTERN, allowed="an e-mail address") or "",
        slack_webhook_url=reader.secret("slackWebhookUrl"),
        pagerduty_integration_key=reader.secret("pagerdutyIntegrationKey"),
    )
    monitoring = read_monitoring(reader, production=production)
    catalog, team_roles = read_catalog(reader, production=production)
    access = read_access(reader)
    break_glass = read_break_glass(reader, production=production)
    check_recovery_shares(reader, access, break_glass, environment=environment or "", production=production)
    database = read_database(
        reader,
        production=production,
        log_retention_days=log_retention(
            reader, "databaseLogRetentionDays", 365, DATABASE_PRODUCTION_MIN_LOG_DAYS, production
        ),
    )
    tags = _tags(reader, environment=environment)
    code_signing = read_code_signing(reader, production=production)
    sealed_secrets_version = reader.optional_string(
        "sealedSecretsVersion", pattern=SEMVER_PATTERN, allowed="a version like 0.18.0"
    )
    reader.report_unknown()
    if reader.problems:
        raise ConfigError(reader.problems)
    return StackConfig(
        project=project,
        stack=stack,
        environment=environment or "",
        region=region,
        network=network,
        keys=keys,
        vault=vault,
        load_balancer=load_balancer,
        storage=storage,
        dr=dr,
        alerting=alerting,
        monitoring=monitoring,
        catalog=catalog,
        team_roles=team_roles,
        access=access,
        break_glass=break_glass,
        tags=MappingProxyType(tags),
        sealed_secrets_version=sealed_secrets_version,
        database=database,
        code_signing=code_signing,
    )


def check_zones(config: StackConfig, available: Sequence[str]) -> None:
    """Raise `ConfigError` if a configured zone is not available to this account in the region."""
    missing = [zone for zone in config.network.availability_zones if zone not in available]
    if missing:
        raise ConfigError(
            [
                Problem(
                    f"{config.project}:availabilityZones",
                    f"{', '.join(missing)} not available to this account in {config.region}",
                    "one of " + ", ".join(sorted(available)),
                )
            ]
        )


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's config (raises `ConfigError`)."""
    import pulumi  # noqa: PLC0415 - keeps this module importable without the Pulumi runtime set up

    values = pulumi.runtime.get_config_env()
    secret_keys = frozenset(pulumi.runtime.get_config_secret_keys_env())
    return parse_stack_config(values, stack=pulumi.get_stack(), secret_keys=secret_keys)


def _network(reader: ConfigReader, *, region: str, production: bool) -> NetworkConfig:
    zones = reader.string_list("availabilityZones", allowed="a list of zone names such as us-east-1a")
    private = reader.string_list("privateSubnetCidrs", allowed="one CIDR block per availability zone")
    public = reader.string_list("publicSubnetCidrs", allowed="one CIDR block per availability zone")
    vpc_text = reader.string("vpcCidr", allowed="an IPv4 CIDR block from /16 to /28, e.g. 10.0.0.0/16")
    nat = reader.choice("natGateways", ("one-per-az", "single"), "one-per-az")
    retention = log_retention(reader, "flowLogRetentionDays", 365, PRODUCTION_MIN_FLOW_LOG_DAYS, production)

    for zone in zones:
        if region and not re.fullmatch(re.escape(region) + r"[a-z]", zone):
            reader.problem(
                "availabilityZones", f"{zone!r} is not a zone of region {region}", f"{region}a etc."
            )
    duplicates = sorted({zone for zone in zones if zones.count(zone) > 1})
    if duplicates:
        reader.problem("availabilityZones", f"lists {', '.join(duplicates)} more than once", "distinct zones")
    if production and len(set(zones)) < 3:
        reader.problem(
            "availabilityZones",
            f"production needs 3 or more zones, got {len(set(zones))}",
            "3 or more distinct zones",
        )
    for key, blocks in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        if len(blocks) != len(zones):
            reader.problem(
                key, f"has {len(blocks)} block(s) for {len(zones)} zone(s)", "one block per availability zone"
            )
    if production and nat != "one-per-az":
        reader.problem("natGateways", "production keeps one NAT gateway per zone", "one-per-az")

    _check_blocks(reader, vpc_text, private, public)
    return NetworkConfig(
        vpc_cidr=vpc_text or "",
        availability_zones=tuple(zones),
        private_subnet_cidrs=tuple(private),
        public_subnet_cidrs=tuple(public),
        nat_gateways="single" if nat == "single" else "one-per-az",
        flow_log_retention_days=retention,
    )


def _check_blocks(reader: ConfigReader, vpc_text: str | None, private: list[str], public: list[str]) -> None:
    """Malformed blocks, subnets outside the VPC, and subnets that overlap each other."""
    vpc = None
    if vpc_text is not None:
        try:
            vpc = netmath.parse_block(vpc_text)
        except netmath.CidrError as err:
            reader.problem("vpcCidr", str(err), "an IPv4 CIDR block from /16 to /28")
    labelled = []
    for key, blocks in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        for index, text in enumerate(blocks):
            try:
                labelled.append((f"{key}[{index}] {text}", netmath.parse_block(text)))
            except netmath.CidrError as err:
                reader.problem(f"{key}[{index}]", str(err), "an IPv4 CIDR block from /16 to /28")
    if vpc is not None:
        for label in netmath.outside(vpc, labelled):
            key, _, text = label.partition(" ")
            reader.problem(key, f"{text} is outside the VPC block {vpc}", f"a block inside {vpc}")
    for overlap in netmath.overlaps(labelled):
        reader.problem(
            overlap.first.partition(" ")[0], f"overlaps {overlap.second}", "non-overlapping blocks"
        )


def _keys(reader: ConfigReader, *, production: bool) -> KeysConfig:
    window = reader.integer("kmsDeletionWindowDays", 30, low=7, high=30)
    if production and window is not None and window != 30:
        reader.problem("kmsDeletionWindowDays", f"{window} days is too short for production", "30")
    enable_hsm = bool(reader.boolean("enableHsm", False))
    anchor = reader.optional_string(
        "hsmTrustAnchorCertificate",
        pattern=r"(?s)\s*-----BEGIN CERTIFICATE-----.+-----END CERTIFICATE-----\s*",
        allowed="the PEM customerCA.crt used to initialise the CloudHSM cluster",
    )
    connected = bool(reader.boolean("hsmKeyStoreConnected", False))
    if anchor and not enable_hsm:
        reader.problem("hsmTrustAnchorCertificate", "is set but enableHsm is false", "set enableHsm: true")
    if connected and not anchor:
        reader.problem(
            "hsmKeyStoreConnected",
            "is true but no hsmTrustAnchorCertificate is set",
            "create and connect the custom key store first (README: CloudHSM)",
        )
    return KeysConfig(
        deletion_window_days=window or 30,
        enable_hsm=enable_hsm,
        hsm_trust_anchor_certificate=anchor,
        hsm_key_store_connected=connected,
    )


def _storage(reader: ConfigReader, *, region: str, production: bool) -> StorageConfig:
    lock_days = reader.integer("auditObjectLockDays", 365, low=1, high=36500)
    if production and lock_days is not None and lock_days < PRODUCTION_MIN_AUDIT_DAYS:
        reader.problem(
            "auditObjectLockDays",
            f"{lock_days} days is too short for production",
            f"{PRODUCTION_MIN_AUDIT_DAYS} or more",
        )
    backup_days = reader.integer("backupRetentionDays", 90, low=BACKUP_IA_TRANSITION_DAYS + 1, high=3653)
    dr_region = reader.optional_string("drRegion", pattern=REGION_PATTERN, allowed="an AWS region")
    if dr_region and dr_region == region:
        reader.problem("drRegion", f"is the stack's own region {region}", "another region, or leave it unset")
    return StorageConfig(
        audit_object_lock_days=lock_days or 365,
        backup_retention_days=backup_days or 90,
        dr_region=dr_region,
    )


def _tags(reader: ConfigReader, *, environment: str | None) -> dict[str, str]:
    tags = reader.mapping("tags")
    for missing in [tag for tag in REQUIRED_TAGS if not tags.get(tag)]:
        reader.problem(
            f"tags.{missing}", "is required on every resource but not set", ", ".join(REQUIRED_TAGS)
        )
    for tag, value in tags.items():
        if not isinstance(value, str):
            reader.problem(f"tags.{tag}", "must be a string", "text up to 256 characters")
        elif len(value) > 256:
            reader.problem(f"tags.{tag}", "is longer than 256 characters", "text up to 256 characters")
        if tag.lower().startswith("aws:") or not 1 <= len(tag) <= 128:
            reader.problem(
                f"tags.{tag}", "is not a usable tag key", "1-128 characters, not starting with aws:"
            )
        elif not re.fullmatch(METADATA_TAG_KEY_PATTERN, tag) or tag in {".", ".."}:
            # The Vault nodes expose their tags in instance metadata, and EC2 then refuses to launch an
            # instance whose tag keys hold other characters (spaces, slashes).
            reader.problem(
                f"tags.{tag}",
                "cannot be an instance-metadata tag key",
                "letters, digits and + - = . , _ : @ only",
            )
    if "DeployedAt" in tags:
        reader.problem("tags.DeployedAt", "is stamped at deploy time and must not be set", "remove it")
    if environment and tags.get("Environment") not in (None, environment):
        reader.problem(
            "tags.Environment", f"{tags.get('Environment')!r} differs from environment", repr(environment)
        )
    return {str(tag): str(value) for tag, value in tags.items()}
