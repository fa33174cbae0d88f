"""StackConfig parsing and validation: the committed stacks parse, and every kind of mistake is named."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from components.config.monitoring import zone_file
from components.config.stack import ConfigError, StackConfig, check_zones, parse_stack_config
from tools import stackfile

NS = "candlefish-secrets"
FAKE_ANCHOR = "-----BEGIN CERTIFICATE-----\nZXhhbXBsZQ==\n-----END CERTIFICATE-----"


# Read once per stack: parsing the YAML is 98 % of a config test's time (50 ms against 3 ms to validate),
# and the mutation run (tests/MUTATION.md) runs these tests once per config-validation mutant.
# Callers copy `values`.
load_stack = cache(stackfile.load)


def parse(stack: str = "production", overrides: dict[str, Any] | None = None, secret_keys=()) -> StackConfig:
    loaded = load_stack(stack)
    values = dict(loaded.values)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{NS}:{key}"
        if value is None:
            values.pop(full, None)
        else:
            values[full] = stackfile.encode(value)
    return parse_stack_config(
        values, stack=stack, secret_keys=frozenset(loaded.secret_keys) | set(secret_keys)
    )


def problems(stack: str = "production", **overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(stack, overrides)
    return [str(problem) for problem in caught.value.problems]


def catalog(**changes: Any) -> dict[str, Any]:
    entry = {"description": "A test secret", "type": "crypto", "owner": "security-team", "rotationDays": 30}
    entry.update(changes)
    return {"test-secret": {key: value for key, value in entry.items() if value is not None}}


def test_production_stack_parses_to_the_deployment_guides_settings():
    config = parse("production")
    assert config.is_production
    assert config.region == "us-east-1"
    assert config.network.vpc_cidr == "10.0.0.0/16"
    assert config.network.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.network.private_subnet_cidrs == ("10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24")
    assert config.network.public_subnet_cidrs == ("10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24")
    assert config.network.nat_gateways == "one-per-az"
    assert (config.vault.version, config.vault.cluster_size, config.vault.instance_type) == (
        "2.2.2",
        5,
        "t3.large",
    )
    assert config.vault.dev_mode is False
    assert config.keys.enable_hsm is True
    assert config.keys.deletion_window_days == 30
    assert config.sealed_secrets_version == "0.18.0"
    assert config.alerting.email == "admin@candlefish.ai"
    assert {(s.name, s.type, s.owner, s.rotation_days) for s in config.catalog} == {
        ("mongodb", "database", "platform-team", 90),
        ("smithery-api", "api-key", "platform-team", 30),
        ("jwt-secret", "crypto", "security-team", 180),
        ("encryption-key", "crypto", "security-team", 365),
    }
    assert dict(config.tags) == {
        "Environment": "production",
        "Project": "Candlefish-AI",
        "Component": "Secrets-Management",
        "DeployedBy": "DevOps",
        "Philosophy": "Operational-Design-Atelier",
    }


def test_production_business_hours_are_new_york_weekdays():
    monitoring = parse("production").monitoring
    hours = monitoring.business_hours
    assert (hours.time_zone, hours.days, hours.start_hour, hours.end_hour) == (
        "America/New_York",
        ("Mon", "Tue", "Wed", "Thu", "Fri"),
        8,
        18,
    )
    assert hours.weekdays == (0, 1, 2, 3, 4)
    assert monitoring.alert_log_retention_days == 365
    assert monitoring.audit_read_prefixes == ("secret/data/candlefish/",)
    assert monitoring.off_hours_exempt_policies == ("rotation",)


def test_monitoring_defaults_apply_where_a_stack_sets_nothing():
    monitoring = parse("dev").monitoring
    assert monitoring.business_hours.time_zone == "UTC"
    assert monitoring.business_hours.days == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert monitoring.alert_log_retention_days == 30


def test_business_days_are_kept_in_week_order():
    hours = parse("dev", {"businessDays": ["Sat", "Mon"]}).monitoring.business_hours
    assert hours.days == ("Mon", "Sat")
    assert hours.weekdays == (0, 5)


def test_dev_stack_is_cheaper_and_still_valid():
    config = parse("dev")
    assert not config.is_production
    assert config.vault.cluster_size == 3
    assert config.network.nat_gateways == "single"
    assert config.keys.enable_hsm is False
    assert config.vault.instance_type == "t3.small"
    assert (config.vault.data_volume_gib, config.vault.audit_volume_gib) == (10, 10)
    assert config.vault.log_retention_days < 30 and config.vault.audit_log_retention_days < 365
    assert config.storage.dr_region is None
    assert config.storage.audit_object_lock_days == 1


def test_production_stack_sets_the_clusters_storage_and_load_balancer():
    config = parse("production")
    assert config.vault.server_name == "vault.production.candlefish.internal"
    assert config.vault.tls_validity_days == 365
    assert config.vault.audit_log_retention_days >= 365
    assert config.load_balancer.internal and config.load_balancer.allowed_cidrs == ("10.0.0.0/16",)
    assert config.load_balancer.acm_certificate_arn is None
    assert config.storage.audit_object_lock_days == 365
    assert config.storage.backup_retention_days == 90
    assert config.storage.dr_region == "us-west-2"


def test_a_brought_certificate_and_server_name_are_kept():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    config = parse("production", {"acmCertificateArn": arn, "vaultServerName": "vault.candlefish.ai"})
    assert config.load_balancer.acm_certificate_arn == arn
    assert config.vault.server_name == "vault.candlefish.ai"


def test_outside_production_only_an_internet_facing_balancer_refuses_the_whole_internet():
    assert parse("dev", {"allowedCidrs": ["0.0.0.0/0"]}).load_balancer.allowed_cidrs == ("0.0.0.0/0",)
    found = problems("dev", loadBalancerScheme="internet-facing", allowedCidrs=["0.0.0.0/0"])
    assert any("an internet-facing load balancer does not allow" in p for p in found), found
    public = parse("dev", {"loadBalancerScheme": "internet-facing", "allowedCidrs": ["198.51.100.0/24"]})
    assert public.load_balancer.scheme == "internet-facing"


def test_secure_values_are_references_not_values():
    config = parse(
        "production",
        {"slackWebhookUrl": "[secret]", "pagerdutyIntegrationKey": "[secret]"},
        secret_keys={f"{NS}:slackWebhookUrl", f"{NS}:pagerdutyIntegrationKey"},
    )
    assert config.alerting.slack_webhook_url is not None
    assert config.alerting.slack_webhook_url.key == "slackWebhookUrl"
    assert "[secret]" not in repr(config.alerting)


WEST_CERTIFICATE = "arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def glass(**changes: Any) -> dict[str, Any]:
    """A valid break-glass section (two approvers besides any requester) with `changes` applied."""
    section = {
        "requesters": {"ann": ["user/ann"]},
        "approvers": {"ben": ["user/ben"], "cho": ["user/cho"], "dee": ["user/dee"]},
    }
    return {"breakGlass": {**section, **changes}}


# (case id, overrides, the key the problem must name, words the message must contain)
BAD_CONFIGS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "break-glass approvers cannot reach the minimum without the requester",
        {
            "breakGlass": {
                "requesters": {"ann": ["user/ann"]},
                "approvers": {"ann": ["user/ann"], "ben": ["user/ben"]},
            }
        },
        "breakGlass.approvers",
        "cannot reach 2 approvals without the requester for ann",
    ),
    (
        "break-glass one approval in production",
        glass(minimumApprovals=1),
        "breakGlass.minimumApprovals",
        "is not allowed",
    ),
    (
        "break-glass max duration over 4h",
        glass(maxDuration="5h"),
        "breakGlass.maxDuration",
        "not allowed",
    ),
    (
        "break-glass someone else's IAM user",
        glass(requesters={"ann": ["user/ben"], "eve": ["user/eve"]}),
        "breakGlass.requesters.ann",
        "other people's IAM users",
    ),
    (
        "break-glass principal not an IAM ARN",
        glass(approvers={"ben": ["user/ben"], "cho": ["user/cho"], "ann": ["arn:aws:s3:::bucket"]}),
        "breakGlass.approvers.ann",
        "are not IAM users or roles",
    ),
    (
        "break-glass unknown field",
        glass(approverz={}),
        "breakGlass.approverz",
        "not a break-glass setting",
    ),
    ("db engine major unsupported", {"dbEngineVersion": "12"}, "dbEngineVersion", "not a major RDS supports"),
    ("db engine minor pinned", {"dbEngineVersion": "16.4"}, "dbEngineVersion", "pins a minor release"),
    ("db engine malformed", {"dbEngineVersion": "sixteen"}, "dbEngineVersion", "is not valid"),
    ("db instance class without prefix", {"dbInstanceClass": "r7g.large"}, "dbInstanceClass", "is not valid"),
    ("db storage below gp3 minimum", {"dbAllocatedStorageGb": 10}, "dbAllocatedStorageGb", "out of range"),
    (
        "db autoscaling ceiling too low",
        {"dbAllocatedStorageGb": 100, "dbMaxAllocatedStorageGb": 105},
        "dbMaxAllocatedStorageGb",
        "at least 10% above",
    ),
    ("db backups off", {"dbBackupRetentionDays": 0}, "dbBackupRetentionDays", "0 turns backups off"),
    (
        "db backups short in production",
        {"dbBackupRetentionDays": 14},
        "dbBackupRetentionDays",
        "too short for production",
    ),
    ("db backups beyond aws maximum", {"dbBackupRetentionDays": 40}, "dbBackupRetentionDays", "out of range"),
    ("db backup window malformed", {"dbBackupWindow": "3am-4am"}, "dbBackupWindow", "not a daily window"),
    ("db backup window too short", {"dbBackupWindow": "03:00-03:15"}, "dbBackupWindow", "lasts 15 minutes"),
    (
        "db maintenance window day malformed",
        {"dbMaintenanceWindow": "sunday:04:00-sunday:05:00"},
        "dbMaintenanceWindow",
        "not a weekly window",
    ),
    (
        "db backup inside maintenance window",
        {"dbBackupWindow": "04:30-05:00"},
        "dbBackupWindow",
        "overlaps the maintenance window",
    ),
    (
        "db backup window across midnight overlaps",
        {"dbBackupWindow": "23:45-00:15", "dbMaintenanceWindow": "mon:00:00-mon:01:00"},
        "dbBackupWindow",
        "overlaps the maintenance window",
    ),
    ("single-az database in production", {"dbMultiAz": False}, "dbMultiAz", "true in production"),
    (
        "deletable database in production",
        {"dbDeletionProtection": False},
        "dbDeletionProtection",
        "true in production",
    ),
    ("redis version unsupported", {"redisEngineVersion": "6.2"}, "redisEngineVersion", "needs 7.0 or later"),
    ("redis node type malformed", {"redisNodeType": "r7g.large"}, "redisNodeType", "is not valid"),
    ("one redis node in production", {"redisNodes": 1}, "redisNodes", "cannot fail over"),
    ("too many redis nodes", {"redisNodes": 7}, "redisNodes", "out of range"),
    (
        "redis snapshots off in production",
        {"redisSnapshotRetentionDays": 0},
        "redisSnapshotRetentionDays",
        "0 turns snapshots off",
    ),
    (
        "database log retention not a cloudwatch period",
        {"databaseLogRetentionDays": 500},
        "databaseLogRetentionDays",
        "not a CloudWatch retention period",
    ),
    (
        "database logs short in production",
        {"databaseLogRetentionDays": 90},
        "databaseLogRetentionDays",
        "too short for production",
    ),
    ("vpc cidr malformed", {"vpcCidr": "10.0.0/16"}, "vpcCidr", "not an IPv4 CIDR"),
    ("vpc cidr not a block", {"vpcCidr": "10.0.0.0"}, "vpcCidr", "a.b.c.d/n"),
    ("vpc cidr host bits", {"vpcCidr": "10.0.0.1/16"}, "vpcCidr", "host bits set"),
    ("vpc cidr too large for aws", {"vpcCidr": "10.0.0.0/8"}, "vpcCidr", "AWS allows /16 to /28"),
    (
        "subnet malformed",
        {"privateSubnetCidrs": ["10.0.1.0/24", "10.0.2.0/33", "10.0.3.0/24"]},
        "privateSubnetCidrs[1]",
        "not an IPv4 CIDR",
    ),
    (
        "subnet outside vpc",
        {"publicSubnetCidrs": ["10.0.101.0/24", "10.1.102.0/24", "10.0.103.0/24"]},
        "publicSubnetCidrs[1]",
        "outside the VPC block",
    ),
    (
        "subnets overlap across tiers",
        {"publicSubnetCidrs": ["10.0.101.0/24", "10.0.102.0/24", "10.0.3.128/25"]},
        "privateSubnetCidrs[2]",
        "overlaps publicSubnetCidrs[2]",
    ),
    (
        "subnets overlap within a tier",
        {"privateSubnetCidrs": ["10.0.1.0/24", "10.0.0.0/22", "10.0.8.0/24"]},
        "privateSubnetCidrs[0]",
        "overlaps privateSubnetCidrs[1]",
    ),
    (
        "too few private subnets",
        {"privateSubnetCidrs": ["10.0.1.0/24", "10.0.2.0/24"]},
        "privateSubnetCidrs",
        "2 block(s) for 3 zone(s)",
    ),
    (
        "too many public subnets",
        {"publicSubnetCidrs": ["10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24", "10.0.104.0/24"]},
        "publicSubnetCidrs",
        "4 block(s) for 3 zone(s)",
    ),
    (
        "production with two zones",
        {
            "availabilityZones": ["us-east-1a", "us-east-1b"],
            "privateSubnetCidrs": ["10.0.1.0/24", "10.0.2.0/24"],
            "publicSubnetCidrs": ["10.0.101.0/24", "10.0.102.0/24"],
        },
        "availabilityZones",
        "production needs 3 or more zones",
    ),
    (
        "duplicate zones",
        {
            "availabilityZones": ["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1c"],
            "privateSubnetCidrs": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"],
            "publicSubnetCidrs": ["10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24", "10.0.104.0/24"],
        },
        "availabilityZones",
        "more than once",
    ),
    (
        "zone of another region",
        {"availabilityZones": ["us-east-1a", "us-west-2b", "us-east-1c"]},
        "availabilityZones",
        "not a zone of region us-east-1",
    ),
    ("region malformed", {"aws:region": "useast1"}, "aws:region", "not an AWS region"),
    ("cluster size even", {"vaultClusterSize": 4}, "vaultClusterSize", "is even"),
    ("cluster size below three", {"vaultClusterSize": 1}, "vaultClusterSize", "outside 3 to 7"),
    ("cluster size above seven", {"vaultClusterSize": 9}, "vaultClusterSize", "outside 3 to 7"),
    ("cluster size not a number", {"vaultClusterSize": "five"}, "vaultClusterSize", "is not an integer"),
    ("vault version malformed", {"vaultVersion": "1.15"}, "vaultVersion", "'1.15' is not valid"),
    ("vault version with v prefix", {"vaultVersion": "v1.15.0"}, "vaultVersion", "is not valid"),
    (
        "deploy address not https",
        {"vaultDeployAddress": "http://localhost:8443"},
        "vaultDeployAddress",
        "an https URL",
    ),
    ("ami id malformed", {"vaultAmiId": "ami-12345"}, "vaultAmiId", "is not valid"),
    ("instance type malformed", {"vaultInstanceType": "large"}, "vaultInstanceType", "is not valid"),
    ("dev mode in production", {"enableDevMode": True}, "enableDevMode", "false in production"),
    ("boolean malformed", {"enableDevMode": "yes"}, "enableDevMode", "is not a boolean"),
    ("single nat in production", {"natGateways": "single"}, "natGateways", "one NAT gateway per zone"),
    ("nat mode unknown", {"natGateways": "none"}, "natGateways", "one of one-per-az, single"),
    ("code signing only warns in production", {"lambdaCodeSigning": "warn"}, "lambdaCodeSigning", "enforce"),
    ("code signing off in production", {"lambdaCodeSigning": "off"}, "lambdaCodeSigning", "signed function"),
    (
        "code signing mode unknown",
        {"lambdaCodeSigning": "strict"},
        "lambdaCodeSigning",
        "one of enforce, warn, off",
    ),
    ("short kms window in production", {"kmsDeletionWindowDays": 7}, "kmsDeletionWindowDays", "too short"),
    ("kms window out of range", {"kmsDeletionWindowDays": 45}, "kmsDeletionWindowDays", "out of range"),
    (
        "flow log retention not a cloudwatch period",
        {"flowLogRetentionDays": 500},
        "flowLogRetentionDays",
        "not a CloudWatch retention period",
    ),
    (
        "flow log retention short in production",
        {"flowLogRetentionDays": 90},
        "flowLogRetentionDays",
        "too short for production",
    ),
    (
        "vault server logs kept too briefly in production",
        {"vaultLogRetentionDays": 90},
        "vaultLogRetentionDays",
        "90 days is too short for production",
    ),
    (
        "a deployer principal that admits every role",
        {"deployerPrincipals": ["*"]},
        "deployerPrincipals[0]",
        "'*' is not an IAM role name, name pattern or ARN",
    ),
    (
        "a validator principal that admits every role",
        {"validatorPrincipals": ["/*"]},
        "validatorPrincipals[0]",
        "'/*' is not an IAM role name, name pattern or ARN",
    ),
    (
        "production without a Redis AUTH rotation schedule",
        {"redisAuthRotationDays": 0},
        "redisAuthRotationDays",
        "0 does not rotate the Redis AUTH token at least monthly",
    ),
    (
        "production rotating the Redis AUTH token less than monthly",
        {"redisAuthRotationDays": 45},
        "redisAuthRotationDays",
        "45 does not rotate the Redis AUTH token at least monthly",
    ),
    (
        "two entries share a vault path",
        {
            "catalog": {
                **catalog(vaultPath="candlefish/shared"),
                "other": catalog(vaultPath="candlefish/shared")["test-secret"],
            }
        },
        "catalog.test-secret.vaultPath",
        "'candlefish/shared' is also the path of catalog.other",
    ),
    (
        "an explicit vault path equals another entry's default",
        {"catalog": {**catalog(vaultPath="candlefish/other"), "other": catalog()["test-secret"]}},
        "catalog.test-secret.vaultPath",
        "'candlefish/other' is also the path of catalog.other",
    ),
    (
        "unknown secret type",
        {"catalog": catalog(type="password", configKey="testSecret")},
        "catalog.test-secret.type",
        "'password' is not a secret type",
    ),
    (
        "crypto rotation over a year",
        {"catalog": catalog(type="crypto", rotationDays=400)},
        "catalog.test-secret.rotationDays",
        "out of range for type crypto",
    ),
    (
        "api key rotation over 90 days",
        {"catalog": catalog(type="api-key", rotationDays=91, configKey="testSecret")},
        "catalog.test-secret.rotationDays",
        "1 to 90",
    ),
    (
        "database rotation over 90 days",
        {"catalog": catalog(type="database", rotationDays=120, configKey="testSecret")},
        "catalog.test-secret.rotationDays",
        "out of range for type database",
    ),
    (
        "rotation of zero days",
        {"catalog": catalog(rotationDays=0)},
        "catalog.test-secret.rotationDays",
        "out of range",
    ),
    (
        "rotation not a number",
        {"catalog": catalog(rotationDays="30")},
        "catalog.test-secret.rotationDays",
        "not a whole number",
    ),
    (
        "secret name with a slash",
        {"catalog": {"mongo/db": catalog()["test-secret"]}},
        "catalog.mongo/db",
        "not a valid secret name",
    ),
    (
        "secret name in capitals",
        {"catalog": {"MongoDB": catalog(vaultPath="candlefish/mongodb")["test-secret"]}},
        "catalog.MongoDB",
        "not a valid secret name",
    ),
    (
        "secret name with a trailing hyphen",
        {"catalog": {"jwt-": catalog()["test-secret"]}},
        "catalog.jwt-",
        "not a valid secret name",
    ),
    (
        "secret without owner",
        {"catalog": catalog(owner=None)},
        "catalog.test-secret.owner",
        "missing or not a team name",
    ),
    (
        "secret without description",
        {"catalog": catalog(description="  ")},
        "catalog.test-secret.description",
        "missing or empty",
    ),
    (
        "secret with an unknown field",
        {"catalog": catalog(rotation_days=30)},
        "catalog.test-secret.rotation_days",
        "not a field of a catalog entry",
    ),
    ("catalog not an object", {"catalog": ["mongodb"]}, "catalog", "must be an object"),
    (
        "catalog entry not an object",
        {"catalog": {"test-secret": "text"}},
        "catalog.test-secret",
        "must be an object",
    ),
    (
        "vault path with a dot segment",
        {"catalog": catalog(vaultPath="candlefish/../root")},
        "catalog.test-secret.vaultPath",
        "is not a KV path",
    ),
    (
        "vault path with a leading slash",
        {"catalog": catalog(vaultPath="/candlefish/x")},
        "catalog.test-secret.vaultPath",
        "is not a KV path",
    ),
    (
        "unknown value source",
        {"catalog": catalog(source="vault")},
        "catalog.test-secret.source",
        "generate or config",
    ),
    (
        "supplied value without a config key",
        {"catalog": catalog(type="api-key", source="config")},
        "catalog.test-secret.configKey",
        "is not a config key name",
    ),
    (
        "config key on a generated value",
        {"catalog": catalog(configKey="jwtSecret")},
        "catalog.test-secret.configKey",
        "only applies to supplied values",
    ),
    (
        "weak generated value",
        {"catalog": catalog(valueFormat="chars-16")},
        "catalog.test-secret.valueFormat",
        "too weak",
    ),
    (
        "unknown value format",
        {"catalog": catalog(valueFormat="hex-32")},
        "catalog.test-secret.valueFormat",
        "is not a value format",
    ),
    (
        "value format on a supplied value",
        {"catalog": catalog(source="config", configKey="someKey", valueFormat="chars-64")},
        "catalog.test-secret.valueFormat",
        "only applies to generated values",
    ),
    (
        "reseed not text",
        {"catalog": catalog(reseed=3)},
        "catalog.test-secret.reseed",
        "must be a string",
    ),
    (
        "destroy on delete in production",
        {"catalog": catalog(destroyOnDelete=True)},
        "catalog.test-secret.destroyOnDelete",
        "false in production",
    ),
    (
        "owner without a team role in production",
        {"teamRoles": {"platform-team": "PlatformTeam"}},
        "teamRoles",
        "no role for owner 'security-team'",
    ),
    (
        "team role malformed",
        {"teamRoles": {"platform-team": "Platform Team!", "security-team": "SecurityTeam"}},
        "teamRoles.platform-team",
        "is not an IAM role name or ARN",
    ),
    (
        "supplied value in plaintext",
        {"mongodbUri": "example-not-a-secret"},
        "mongodbUri",
        "pulumi config set --secret mongodbUri",
    ),
    ("email malformed", {"alertEmail": "admin-at-candlefish"}, "alertEmail", "is not valid"),
    (
        "required tag missing",
        {
            "tags": {
                "Environment": "production",
                "Project": "Candlefish-AI",
                "Component": "Secrets-Management",
            }
        },
        "tags.DeployedBy",
        "is required",
    ),
    (
        "environment tag disagrees",
        {
            "tags": {
                "Environment": "staging",
                "Project": "Candlefish-AI",
                "Component": "Secrets-Management",
                "DeployedBy": "DevOps",
            }
        },
        "tags.Environment",
        "differs from environment",
    ),
    (
        "deploy time hard-coded",
        {
            "tags": {
                "Environment": "production",
                "Project": "Candlefish-AI",
                "Component": "Secrets-Management",
                "DeployedBy": "DevOps",
                "DeployedAt": "2025-09-04",
            }
        },
        "tags.DeployedAt",
        "deploy time",
    ),
    (
        "reserved tag prefix",
        {
            "tags": {
                "Environment": "production",
                "Project": "Candlefish-AI",
                "Component": "Secrets-Management",
                "DeployedBy": "DevOps",
                "aws:owner": "x",
            }
        },
        "tags.aws:owner",
        "not a usable tag key",
    ),
    (
        "tag key not allowed in instance metadata",
        {
            "tags": {
                "Environment": "production",
                "Project": "Candlefish-AI",
                "Component": "Secrets-Management",
                "DeployedBy": "DevOps",
                "Cost Center": "x",
            }
        },
        "tags.Cost Center",
        "cannot be an instance-metadata tag key",
    ),
    ("vault server name malformed", {"vaultServerName": "Vault_Server"}, "vaultServerName", "is not valid"),
    (
        "tls validity inside the renewal window",
        {"tlsValidityDays": 45},
        "tlsValidityDays",
        "an integer from 60 to 825",
    ),
    (
        "vault log retention not a cloudwatch period",
        {"vaultLogRetentionDays": 366},
        "vaultLogRetentionDays",
        "not a CloudWatch retention period",
    ),
    (
        "audit log retention short in production",
        {"auditLogRetentionDays": 90},
        "auditLogRetentionDays",
        "too short for production",
    ),
    ("data volume too small", {"vaultDataVolumeGiB": 5}, "vaultDataVolumeGiB", "an integer from 10"),
    ("audit volume not a number", {"vaultAuditVolumeGiB": "big"}, "vaultAuditVolumeGiB", "is not an integer"),
    (
        "load balancer scheme unknown",
        {"loadBalancerScheme": "public"},
        "loadBalancerScheme",
        "one of internal, internet-facing",
    ),
    ("allow-list empty", {"allowedCidrs": []}, "allowedCidrs", "is empty"),
    ("allow-list block malformed", {"allowedCidrs": ["10.0.0.0/33"]}, "allowedCidrs[0]", "not an IPv4 CIDR"),
    (
        "allow-list block with host bits",
        {"allowedCidrs": ["10.0.0.0/16", "192.168.1.1/24"]},
        "allowedCidrs[1]",
        "host bits set",
    ),
    (
        "whole internet allowed in production",
        {"allowedCidrs": ["0.0.0.0/0"]},
        "allowedCidrs[0]",
        "admits every address, which production does not allow",
    ),
    (
        "acm arn malformed",
        {"acmCertificateArn": "arn:aws:acm:us-east-1:123:cert"},
        "acmCertificateArn",
        "is not valid",
    ),
    (
        "acm certificate of another region",
        {"acmCertificateArn": WEST_CERTIFICATE},
        "acmCertificateArn",
        "certificates of its own region",
    ),
    (
        "audit object lock short in production",
        {"auditObjectLockDays": 30},
        "auditObjectLockDays",
        "too short for production",
    ),
    (
        "backup expiry before the infrequent-access move",
        {"backupRetentionDays": 30},
        "backupRetentionDays",
        "an integer from 31",
    ),
    # drAcceptNoCrossRegionUnseal applies only with an HSM and a DR region: cleared where a case drops either.
    (
        "dr region malformed",
        {"drRegion": "west", "drAcceptNoCrossRegionUnseal": None},
        "drRegion",
        "is not valid",
    ),
    ("dr region is the stack region", {"drRegion": "us-east-1"}, "drRegion", "the stack's own region"),
    (
        "application named like a platform role",
        {"vaultApplications": {"rotation": {"role": "x", "paths": ["a"]}}},
        "vaultApplications.rotation",
        "not snapshot, rotation or db",
    ),
    (
        "application named like the database policy",
        {"vaultApplications": {"db": {"role": "x", "paths": ["a"]}}},
        "vaultApplications.db",
        "not a usable application name",
    ),
    (
        "application role malformed",
        {"vaultApplications": {"billing": {"role": "bad role!", "paths": ["a"]}}},
        "vaultApplications.billing.role",
        "is not an IAM role name or ARN",
    ),
    (
        "application without paths",
        {"vaultApplications": {"billing": {"role": "billing", "paths": []}}},
        "vaultApplications.billing.paths",
        "must list the KV paths",
    ),
    (
        "application path malformed",
        {"vaultApplications": {"billing": {"role": "billing", "paths": ["/abs"]}}},
        "vaultApplications.billing.paths",
        "are not KV paths",
    ),
    (
        "application with an unknown field",
        {"vaultApplications": {"billing": {"role": "b", "paths": ["a"], "x": 1}}},
        "vaultApplications.billing",
        "must be an object with role and paths",
    ),
    (
        "recovery keys not one per share",
        {"vaultRecoveryPgpKeys": ["ZXhhbXBsZQ=="] * 3},
        "vaultRecoveryPgpKeys",
        "has 3 keys for 5 recovery shares",
    ),
    (
        "recovery key not base64",
        {"vaultRecoveryPgpKeys": ["ZXhhbXBsZQ=="] * 4 + ["not base64!"]},
        "vaultRecoveryPgpKeys[4]",
        "is not base64",
    ),
    ("ci network malformed", {"ciBoundCidrs": ["10.0.0.1/8"]}, "ciBoundCidrs[0]", "host bits set"),
    (
        "adopt token in plaintext",
        {"vaultAdoptToken": "example-not-a-token"},
        "vaultAdoptToken",
        "pulumi config set --secret vaultAdoptToken",
    ),
    ("unknown key", {"vaultClusterSzie": 5}, "vaultClusterSzie", "did you mean 'vaultClusterSize'"),
    ("required key missing", {"vpcCidr": None}, "vpcCidr", "is required but not set"),
    (
        "webhook in plaintext",
        {"slackWebhookUrl": "example-not-a-secret"},
        "slackWebhookUrl",
        "pulumi config set --secret slackWebhookUrl",
    ),
    (
        "trust anchor without hsm",
        {
            "enableHsm": False,
            "drAcceptNoCrossRegionUnseal": None,
            "hsmTrustAnchorCertificate": FAKE_ANCHOR,
        },
        "hsmTrustAnchorCertificate",
        "enableHsm is false",
    ),
    (
        "key store connected without trust anchor",
        {"hsmKeyStoreConnected": True},
        "hsmKeyStoreConnected",
        "no hsmTrustAnchorCertificate",
    ),
    ("environment malformed", {"environment": "Prod!"}, "environment", "is not valid"),
    (
        "list given as a string",
        {"auditReadPrefixes": "candlefish/"},
        "auditReadPrefixes",
        "must be a list of strings",
    ),
    (
        "business hours zone unknown",
        {"businessHoursTimeZone": "Mars/Olympus_Mons"},
        "businessHoursTimeZone",
        "not an IANA time zone",
    ),
    (
        "business hours zone as a path",
        {"businessHoursTimeZone": "/etc/localtime"},
        "businessHoursTimeZone",
        "not an IANA time zone",
    ),
    ("business day misspelt", {"businessDays": ["Mon", "Tues"]}, "businessDays", "'Tues' not a day name"),
    ("business day repeated", {"businessDays": ["Mon", "Mon"]}, "businessDays", "more than once"),
    ("no business days", {"businessDays": []}, "businessDays", "every read would be out of hours"),
    ("business hours start out of range", {"businessHoursStart": 24}, "businessHoursStart", "0 to 23"),
    (
        "business hours end before start",
        {"businessHoursStart": 18, "businessHoursEnd": 8},
        "businessHoursEnd",
        "cross midnight are not supported",
    ),
    (
        "alert log retention not a cloudwatch period",
        {"alertLogRetentionDays": 500},
        "alertLogRetentionDays",
        "not a CloudWatch retention period",
    ),
    (
        "alert log retention short in production",
        {"alertLogRetentionDays": 180},
        "alertLogRetentionDays",
        "365 or more",
    ),
    (
        "audit read prefix not kv v2",
        {"auditReadPrefixes": ["secret/candlefish/"]},
        "auditReadPrefixes[0]",
        "not a KV v2 read prefix",
    ),
    (
        "audit read prefix without trailing slash",
        {"auditReadPrefixes": ["secret/data/candlefish"]},
        "auditReadPrefixes[0]",
        "ending in '/'",
    ),
    ("no audit read prefixes", {"auditReadPrefixes": []}, "auditReadPrefixes", "1 to 10"),
    (
        "root exempt from out-of-hours reads",
        {"offHoursExemptPolicies": ["rotation", "root"]},
        "offHoursExemptPolicies[1]",
        "never root or break-glass",
    ),
    (
        "break-glass exempt from out-of-hours reads",
        {"offHoursExemptPolicies": ["break-glass"]},
        "offHoursExemptPolicies[0]",
        "would hide the reads",
    ),
    (
        "exempt policy malformed",
        {"offHoursExemptPolicies": ["Rotation Bot"]},
        "offHoursExemptPolicies[0]",
        "is not a policy name",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "key", "words"), [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS]
)
def test_bad_config_is_named_with_what_is_allowed(overrides, key, words):
    found = problems(**overrides)
    full_key = key if key.startswith("aws:") else f"{NS}:{key}"
    matching = [p for p in found if p.startswith(f"{full_key}: ") and words in p]
    # Each case breaks one rule, so that rule's problem is the only one: a case that trips several could
    # pass with the rule it is named after deleted.
    assert matching == found, f"want only {full_key} mentioning {words!r}, got:\n" + "\n".join(found)
    # Every line says what is allowed (the parenthesised part), not only what is wrong.
    assert all(p.endswith(")") for p in matching), matching


def test_a_key_set_under_its_old_name_is_reported_with_its_new_name():
    stack = parse("dev")
    catalog = {entry.name: {"description": entry.description} for entry in stack.catalog}
    found = problems("dev", catalog=None, initialSecrets=catalog)
    assert f"{NS}:initialSecrets: is not a setting of this project (renamed: set it as 'catalog')" in found


def test_every_problem_is_reported_together():
    found = problems(vaultClusterSize=4, vaultVersion="latest", alertEmail="nobody", vpcCidr="10.0.0.0/8")
    keys = {p.split(": ")[0] for p in found}
    assert {f"{NS}:vaultClusterSize", f"{NS}:vaultVersion", f"{NS}:alertEmail", f"{NS}:vpcCidr"} <= keys


def test_config_error_message_lists_each_problem_on_its_own_line():
    with pytest.raises(ConfigError) as caught:
        parse("production", {"vaultClusterSize": 4, "enableDevMode": True})
    message = str(caught.value)
    assert message.startswith("the stack config has 2 problem(s):")
    assert f"\n  - {NS}:vaultClusterSize: 4 is even" in message
    assert f"\n  - {NS}:enableDevMode: " in message


def test_dev_mode_and_small_stacks_are_allowed_outside_production():
    config = parse("dev", {"enableDevMode": True, "kmsDeletionWindowDays": 7, "flowLogRetentionDays": 7})
    assert config.vault.dev_mode is True


def test_database_section_in_production_is_highly_available_and_kept():
    database = parse("production").database
    postgres, redis = database.postgres, database.redis
    assert (postgres.engine_version, postgres.parameter_group_family) == ("17", "postgres17")
    assert (postgres.instance_class, postgres.multi_az, postgres.deletion_protection) == (
        "db.r7g.large",
        True,
        True,
    )
    assert (postgres.allocated_storage_gb, postgres.max_allocated_storage_gb) == (100, 1000)
    assert (postgres.backup_retention_days, postgres.backup_window, postgres.maintenance_window) == (
        30,
        "03:00-03:30",
        "sun:04:00-sun:05:00",
    )
    assert (redis.engine_version, redis.node_type, redis.nodes, redis.multi_az) == (
        "7.1",
        "cache.r7g.large",
        3,
        True,
    )
    assert (redis.snapshot_retention_days, database.log_retention_days) == (14, 365)


def test_dev_may_run_one_small_deletable_database_and_one_redis_node():
    database = parse("dev").database
    assert (database.postgres.instance_class, database.postgres.multi_az) == ("db.t4g.micro", False)
    assert database.postgres.deletion_protection is False
    assert (database.redis.nodes, database.redis.multi_az, database.redis.snapshot_retention_days) == (
        1,
        False,
        1,
    )
    # Zero snapshots and a short backup period are fine outside production, zero backups are not.
    assert parse("dev", {"redisSnapshotRetentionDays": 0}).database.redis.snapshot_retention_days == 0
    assert any("0 turns backups off" in p for p in problems("dev", dbBackupRetentionDays=0))


def test_break_glass_people_and_their_parts():
    config = parse("production").break_glass
    assert config.enabled and config.minimum_approvals == 2 and config.max_duration_s == 3600
    assert config.people["marcus"] == frozenset({"requester", "approver"})
    assert config.people["elena"] == frozenset({"approver"})
    assert config.principals("marcus") == (
        "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformTeam_0a1b2c3d4e5f6a7b",
    )
    assert parse("dev").break_glass.enabled is False


def test_the_ci_network_restriction_is_kept_as_listed():
    # README: ciBoundCidrs are the IPv4 blocks the CI AppRole may log in from; unset means anywhere.
    blocks = ["203.0.113.0/24", "198.51.100.16/28"]
    assert parse(overrides={"ciBoundCidrs": blocks}).access.ci_bound_cidrs == tuple(blocks)
    assert parse(overrides={"ciBoundCidrs": None}).access.ci_bound_cidrs == ()


def test_a_zone_file_is_found_only_by_an_iana_key_never_by_a_path():
    # The audit watcher is shipped the file zone_file names: an absolute path or a climb out of the tz
    # database must not pick an arbitrary file of the deployer's machine, even one that exists.
    assert zone_file("America/New_York") is not None
    assert zone_file(str(zone_file("America/New_York"))) is None
    assert zone_file("America/../America/New_York") is None


def test_a_configured_zone_the_account_lacks_is_named_with_the_zones_it_has():
    # What `aws.get_availability_zones` returns for an account without us-east-1c (the program checks it).
    with pytest.raises(ConfigError) as caught:
        check_zones(parse("production"), ["us-east-1b", "us-east-1a", "us-east-1d"])
    assert [str(problem) for problem in caught.value.problems] == [
        f"{NS}:availabilityZones: us-east-1c not available to this account in us-east-1 "
        "(one of us-east-1a, us-east-1b, us-east-1d)"
    ]
    check_zones(parse("production"), ["us-east-1c", "us-east-1b", "us-east-1a"])  # all there: no problem
