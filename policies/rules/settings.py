"""Thresholds and conventions the rules use by default; each can be overridden per rule in the pack config.

Conventions the components follow so that the stack rules can find what they check (see README, Policies):

- Vault cluster: the Vault servers' Auto Scaling group belongs to the `VaultCluster` component, or it, its
  launch template or the instances that template tags carry `VaultCluster=<cluster name>` (the tag
  `retry_join` auto-join looks for). A dev-mode Vault (never in production) is tagged `VaultMode=dev...`
  (`dev`, `dev-in-memory`) there too; a cluster node is `VaultMode=raft`.
- Secrets catalog: each catalog secret (`aws:secretsmanager/secret:Secret`) is tagged `SecretType`
  (`database`, `api-key` or `crypto`) and `RotationDays`; its `SecretRotation` references the secret in
  `secretId`; its Vault KV seed is a Python dynamic resource that is the secret's child or names it
  (`secretName` = the secret's name, or `secretId`/`secret_id` = its ARN), and says where in Vault it
  writes (`vaultPath`, or `mount` and `path`). The catalog's VaultKvSeed (a child with `mount` and `path`)
  and SecretsManagerSeed (a child with `secret_id`) follow this; their `value` and `token` inputs are
  Pulumi secrets.
- Alarms: each of the deployment guide's five alarms carries the tag `GuideAlarm=<id>`, ids below.
- The load balancer's access-log bucket, the one bucket AWS requires to use SSE-S3, is tagged
  `BucketPurpose=elb-access-logs` and its bucket policy grants ELB log delivery.
- Break-glass: a person's own break-glass role is named `candlefish-<environment>-bg-<person>`.
- Every stack-level `Environment` tag names the environment; `production` turns on the production checks.
"""

from __future__ import annotations

from types import MappingProxyType

PRODUCTION_ENVIRONMENTS = ("production",)
ENVIRONMENT_TAG = "Environment"
REQUIRED_TAGS = ("Environment", "Project", "Component", "DeployedBy")

# Ports that must never be reachable from 0.0.0.0/0 or ::/0: SSH, Vault API and cluster, PostgreSQL, Redis.
SENSITIVE_PORTS = (22, 8200, 8201, 5432, 6379)

# ELB security policies that allow only TLS 1.2 and 1.3 (AWS: "Security policies for your Application
# Load Balancer"). The AWS default, ELBSecurityPolicy-2016-08, still allows TLS 1.0.
TLS12_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)

# The same families by name, so newer policies (e.g. the post-quantum TLS13-1-2-Res-PQ-2025-09) pass too:
# TLS13-1-2 / TLS13-1-3 (TLS 1.2+1.3 / 1.3 only), TLS-1-2 and FS-1-2; not TLS13-1-1, TLS13-1-0, FS-1-1.
TLS12_POLICY_PATTERN = r"^ELBSecurityPolicy-(?:TLS13-1-[23]|TLS-1-2|FS-1-2)-"

KMS_MINIMUM_DELETION_WINDOW_DAYS = 7
KMS_PRODUCTION_DELETION_WINDOW_DAYS = 30
KMS_MAXIMUM_ROTATION_DAYS = 365
SECRET_MINIMUM_RECOVERY_DAYS = 7
SECRET_PRODUCTION_RECOVERY_DAYS = 30
RDS_MINIMUM_BACKUP_DAYS = 7
LOG_MINIMUM_RETENTION_DAYS = 30
LOG_PRODUCTION_RETENTION_DAYS = 90
SECURITY_LOG_PRODUCTION_RETENTION_DAYS = 365
# Log groups whose name matches this hold security evidence (Vault audit, VPC flow logs).
SECURITY_LOG_PATTERN = r"(?i)audit|flow-log"

VAULT_CLUSTER_TAG = "VaultCluster"
VAULT_MODE_TAG = "VaultMode"
VAULT_DEV_MODE_PATTERN = r"^dev"  # VaultMode=dev, dev-in-memory, ...
VAULT_MINIMUM_NODES = 3
VAULT_MINIMUM_ZONES = 3
VAULT_CLUSTER_COMPONENT = "candlefish:secrets:VaultCluster"
# The Vault release a launch template's nodes install (else read from VAULT_VERSION="X.Y.Z" in its user data).
VAULT_VERSION_TAG = "VaultVersion"

SECRET_TYPE_TAG = "SecretType"  # noqa: S105 - a tag name
ROTATION_DAYS_TAG = "RotationDays"
# The longest rotation period each kind of catalog secret may have (the README's catalog rules).
ROTATION_MAXIMUM_DAYS = MappingProxyType({"database": 90, "api-key": 90, "crypto": 365})
# Python dynamic resources are `pulumi-python:dynamic:Resource`, or `pulumi-python:dynamic/<module>:<Type>`.
DYNAMIC_RESOURCE_PREFIX = "pulumi-python:dynamic"
SEED_SECRET_FIELDS = ("secretName", "secret_name", "secretId", "secret_id")
# A Vault KV seed carries `vaultPath`, or a KV `mount` and `path`.
SEED_VAULT_FIELDS = ("vaultPath", "mount+path")

GUIDE_ALARM_TAG = "GuideAlarm"
GUIDE_ALARMS = ("seal-status", "failed-auth", "off-hours-access", "audit-log-gap", "node-failure")
MONITORING_COMPONENT = "candlefish:secrets:Monitoring"
FAILED_AUTH_MAXIMUM_PER_MINUTE = 5
AUDIT_GAP_MAXIMUM_SECONDS = 15 * 60

LOG_BUCKET_TAG_KEY = "BucketPurpose"
LOG_BUCKET_TAG_VALUE = "elb-access-logs"
# Who may write ALB access logs: the log-delivery service principal (newer regions) or the region's
# Elastic Load Balancing account (AWS: "Enable access logs for your Application Load Balancer").
ELB_LOG_DELIVERY_SERVICES = ("logdelivery.elasticloadbalancing.amazonaws.com", "delivery.logs.amazonaws.com")
ELB_ACCOUNT_IDS = (
    "127311923021",  # us-east-1
    "033677994240",  # us-east-2
    "027434742980",  # us-west-1
    "797873946194",  # us-west-2
    "156460612806",  # eu-west-1
    "652711504416",  # eu-west-2
    "054676820928",  # eu-central-1
    "114774131450",  # ap-southeast-1
    "783225319266",  # ap-southeast-2
    "582318560864",  # ap-northeast-1
)

# Managed policies no role, user or group may hold: full administrator and every "*FullAccess" policy.
DENIED_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
DENIED_MANAGED_POLICY_PATTERN = r"FullAccess$"

# A person's break-glass role (components/break_glass): `candlefish-<environment>-bg-<person>`.
BREAK_GLASS_ROLE = r"candlefish-[a-z0-9-]+-bg-[a-z0-9_.@=,+-]+"
