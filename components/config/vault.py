"""The Vault sections of the stack config: the server cluster and the load balancer in front of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from components.config.reader import ConfigReader, log_retention
from components.lib import netmath

PRODUCTION_MIN_AUDIT_DAYS = 365
VAULT_CLUSTER_SIZES = (3, 5, 7)
LOAD_BALANCER_SCHEMES = ("internal", "internet-facing")
SEMVER_PATTERN = r"\d+\.\d+\.\d+"
INSTANCE_TYPE_PATTERN = r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(?:nano|micro|small|medium|large|metal|\d*xlarge)"
DNS_NAME_PATTERN = r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
ACM_ARN_PATTERN = r"arn:aws(?:-[a-z]+)*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}"
# The server certificate is re-issued this many days before it expires (README: TLS rotation).
TLS_EARLY_RENEWAL_DAYS = 30


@dataclass(frozen=True)
class VaultConfig:
    """The Vault server cluster: release, size, volumes, TLS and the log groups of its nodes."""

    version: str
    cluster_size: int
    instance_type: str
    dev_mode: bool
    server_name: str
    tls_validity_days: int
    log_retention_days: int
    audit_log_retention_days: int
    data_volume_gib: int
    audit_volume_gib: int
    # A pinned image; without one the newest Amazon Linux 2023 image is looked up once and then kept.
    ami_id: str | None = None
    # Where the machine running `pulumi up` reaches Vault's API, when not at the load balancer itself
    # (e.g. https://localhost:8443 through a Session Manager port forward).
    deploy_address: str | None = None


@dataclass(frozen=True)
class LoadBalancerConfig:
    """How clients reach Vault: the load balancer's scheme, who may connect, and its certificate."""

    scheme: Literal["internal", "internet-facing"]
    allowed_cidrs: tuple[str, ...]
    acm_certificate_arn: str | None

    @property
    def internal(self) -> bool:
        return self.scheme == "internal"


def read_vault(reader: ConfigReader, *, environment: str, production: bool) -> VaultConfig:
    """Read the Vault cluster's settings (`vault*`, `enableDevMode`, `tlsValidityDays`, log retention)."""
    version = reader.string("vaultVersion", pattern=SEMVER_PATTERN, allowed="a release such as 2.2.2")
    size = reader.integer("vaultClusterSize", low=1, high=99)
    if size is not None and size not in VAULT_CLUSTER_SIZES:
        reason = "is even, so a split can leave no quorum" if size % 2 == 0 else "is outside 3 to 7"
        reader.problem("vaultClusterSize", f"{size} {reason}", "3, 5 or 7 (an odd raft quorum)")
    instance_type = reader.string(
        "vaultInstanceType", pattern=INSTANCE_TYPE_PATTERN, allowed="an EC2 instance type such as t3.large"
    )
    dev_mode = bool(reader.boolean("enableDevMode", False))
    if production and dev_mode:
        reader.problem(
            "enableDevMode", "dev mode keeps everything in memory, unsealed", "false in production"
        )
    # The certificate is re-issued TLS_EARLY_RENEWAL_DAYS before expiry, so it must outlive that window.
    tls_days = reader.integer("tlsValidityDays", 365, low=2 * TLS_EARLY_RENEWAL_DAYS, high=825)
    server_name = reader.optional_string(
        "vaultServerName",
        pattern=DNS_NAME_PATTERN,
        allowed="a lowercase DNS name such as vault.example.internal",
    )
    return VaultConfig(
        version=version or "",
        cluster_size=size or 0,
        instance_type=instance_type or "",
        dev_mode=dev_mode,
        server_name=server_name or f"vault.{environment}.candlefish.internal",
        tls_validity_days=tls_days or 365,
        # Server logs (and the rotation function's, which use this too) are evidence like the audit log.
        log_retention_days=log_retention(
            reader, "vaultLogRetentionDays", 90, PRODUCTION_MIN_AUDIT_DAYS, production
        ),
        audit_log_retention_days=log_retention(
            reader, "auditLogRetentionDays", 365, PRODUCTION_MIN_AUDIT_DAYS, production
        ),
        data_volume_gib=reader.integer("vaultDataVolumeGiB", 50, low=10, high=16384) or 50,
        audit_volume_gib=reader.integer("vaultAuditVolumeGiB", 50, low=10, high=16384) or 50,
        deploy_address=reader.optional_string(
            "vaultDeployAddress",
            pattern=r"https://(?:localhost|127\.0\.0\.1|[a-z0-9.-]+)(?::\d{1,5})?",
            allowed="an https URL whose name the Vault certificate covers, e.g. https://localhost:8443",
        ),
        ami_id=reader.optional_string(
            "vaultAmiId",
            pattern=r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})",
            allowed="an AMI id such as ami-0123456789abcdef0",
        ),
    )


def read_load_balancer(reader: ConfigReader, *, region: str, production: bool) -> LoadBalancerConfig:
    """Read the load balancer's scheme, the CIDR blocks it admits and its ACM certificate."""
    scheme = reader.choice("loadBalancerScheme", LOAD_BALANCER_SCHEMES, "internal")
    cidrs = reader.string_list("allowedCidrs", allowed="IPv4 CIDR blocks allowed to reach Vault")
    internet_facing = scheme == "internet-facing"
    if not cidrs:
        reader.problem("allowedCidrs", "is empty, so nothing could reach Vault", "one or more CIDR blocks")
    for index, text in enumerate(cidrs):
        try:
            block = netmath.parse_cidr(text)
        except netmath.CidrError as err:
            reader.problem(f"allowedCidrs[{index}]", str(err), "an IPv4 CIDR block such as 10.0.0.0/16")
            continue
        if block.prefixlen == 0 and (production or internet_facing):
            where = "production" if production else "an internet-facing load balancer"
            reader.problem(
                f"allowedCidrs[{index}]",
                f"{text} admits every address, which {where} does not allow",
                "the networks of Vault's clients",
            )
    arn = reader.optional_string(
        "acmCertificateArn", pattern=ACM_ARN_PATTERN, allowed="an ACM certificate ARN"
    )
    match = re.fullmatch(ACM_ARN_PATTERN, arn) if arn else None
    if match and region and match.group(1) != region:
        reader.problem(
            "acmCertificateArn",
            f"is in {match.group(1)}, but a load balancer can only use certificates of its own region",
            f"a certificate in {region}",
        )
    return LoadBalancerConfig(
        scheme="internet-facing" if internet_facing else "internal",
        allowed_cidrs=tuple(cidrs),
        acm_certificate_arn=arn,
    )
