"""Pass/violate cases for the Vault platform rules."""

import base64
import gzip

from tests.policies.cases_exposure import ASG, SUBNET
from tests.policies.support import DEV, PRODUCTION, Case, Res

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
VAULT_SEED = "pulumi-python:dynamic/candlefish:VaultKvSeed"
SECRETS_MANAGER_SEED = "pulumi-python:dynamic/candlefish:SecretsManagerSeed"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
VAULT_COMPONENT = Res("candlefish:secrets:VaultCluster", "vault")
TOPIC = ["arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"]


def asg_tags(extra: dict[str, str] | None = None) -> list[dict[str, object]]:
    tags = {**PRODUCTION, "VaultCluster": "candlefish-production", **(extra or {})}
    return [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags.items()]


def vault_group(size: int, zones: tuple[str, ...] = ("a", "b", "c"), **extra: object) -> list[Res]:
    subnets = [
        Res(SUBNET, f"private-{i}", {"availabilityZone": f"us-east-1{z}"}) for i, z in enumerate(zones)
    ]
    group = Res(
        ASG,
        "vault-nodes",
        {"minSize": size, "maxSize": size, "desiredCapacity": size, "tags": asg_tags(), **extra},
        {"vpcZoneIdentifiers": [s.name for s in subnets]},
    )
    return [*subnets, group]


def catalog_secret(name: str, kind: str, days: int) -> Res:
    tags = {**PRODUCTION, "SecretType": kind, "RotationDays": str(days)}
    return Res(SECRET, name, {"name": f"candlefish/production/{name}", "tags": tags})


def rotation(secret: str, days: int | None = None, schedule: str | None = None) -> Res:
    rules = {"automaticallyAfterDays": days} if days else {"scheduleExpression": schedule}
    return Res(ROTATION, f"{secret}-rotation", {"rotationRules": rules}, {"secretId": [secret]})


def seeds(secret: str, *, vault: bool = True) -> list[Res]:
    """The catalog's seeds for a secret: its children, one writing Secrets Manager and one Vault KV."""
    found = [
        Res(SECRETS_MANAGER_SEED, f"{secret}-sm-seed", {"secret_id": "arn", "value": "[secret]"}, {}, secret)
    ]
    if vault:
        kv = {"mount": "secret", "path": f"candlefish/{secret}", "token": "[secret]", "value": "[secret]"}
        found.append(Res(VAULT_SEED, f"{secret}-vault-seed", kv, {}, secret))
    return found


def guide_alarm(alarm_id: str, **props: object) -> Res:
    return Res(ALARM, f"alarm-{alarm_id}", {"alarmActions": TOPIC, "tags": {"GuideAlarm": alarm_id}, **props})


GUIDE_ALARMS = [
    guide_alarm("seal-status", threshold=0, period=60),
    guide_alarm("failed-auth", threshold=5, period=60, comparisonOperator="GreaterThanThreshold"),
    guide_alarm("off-hours-access", threshold=0, period=300),
    guide_alarm("audit-log-gap", period=300, evaluationPeriods=3, treatMissingData="breaching"),
    guide_alarm("node-failure", period=60),
]

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def vault_nodes(version: str, tags: dict[str, str] = PRODUCTION) -> list[Res]:
    """A Vault launch template whose gzipped, base64 user data installs `version`, as the cluster's does."""
    script = f'#cloud-config\nwrite_files:\n  - content: |\n      readonly VAULT_VERSION="{version}"\n'
    user_data = base64.b64encode(gzip.compress(script.encode())).decode()
    template = {"tags": {**tags, "VaultCluster": "candlefish"}, "userData": user_data}
    return [Res("aws:ec2/vpc:Vpc", "vpc", {"tags": tags}), Res(LAUNCH_TEMPLATE, "vault-lt", template)]


CASES = [
    Case(
        "vault-version-advisories",
        good=vault_nodes("2.2.2"),
        bad=vault_nodes("1.15.0"),
        expect="installs Vault 1.15.0, affected by 9 published advisories: HCSEC-2024-26 / CVE-2024-8185",
    ),
    Case(
        "vault-version-advisories-nonproduction",
        good=vault_nodes("2.2.2", DEV),
        bad=vault_nodes("2.1.0", DEV),
        expect="CVE-2026-89322 (ACL policies were not consistently evaluated, fixed in 2.1.2)",
    ),
    Case(
        "vault-cluster-quorum",
        good=vault_group(5),
        bad=vault_group(4),
        expect="runs 4 nodes: 4 raft voters tolerate 1 failure(s), no more than 3 do",
    ),
    Case(
        "vault-cluster-zones",
        good=vault_group(3),
        bad=vault_group(3, zones=("a", "a", "b")),
        expect="spans 2 zone(s) (us-east-1a, us-east-1b); at least 3",
    ),
    Case(
        "vault-no-dev-mode",
        good=[Res("aws:ec2/vpc:Vpc", "vpc", {"tags": PRODUCTION}), *vault_group(3)],
        bad=[
            Res("aws:ec2/vpc:Vpc", "vpc", {"tags": PRODUCTION}),
            Res("aws:ec2/instance:Instance", "vault-dev", {"tags": {**PRODUCTION, "VaultMode": "dev"}}),
        ],
        expect="vault-dev: vault-dev (aws:ec2/instance:Instance) is marked as a dev-mode Vault",
    ),
    Case(
        "catalog-secret-rotation",
        good=[catalog_secret("mongodb", "database", 90), rotation("mongodb", 90)],
        bad=[catalog_secret("mongodb", "database", 90), rotation("mongodb", 120)],
        expect="rotates every 120 days; mongodb (aws:secretsmanager/secret:Secret) must rotate within 90",
    ),
    Case(
        "catalog-secret-seeded",
        good=[
            catalog_secret("jwt-secret", "crypto", 180),
            *seeds("jwt-secret"),
            *vault_group(3),
            VAULT_COMPONENT,
        ],
        bad=[catalog_secret("jwt-secret", "crypto", 180), *seeds("jwt-secret", vault=False), VAULT_COMPONENT],
        expect="is seeded into Secrets Manager but not into Vault KV",
    ),
    Case(
        "guide-alarms",
        good=GUIDE_ALARMS,
        bad=[a for a in GUIDE_ALARMS if a.name != "alarm-audit-log-gap"],
        expect="alarm 'audit-log-gap' is missing",
    ),
]
