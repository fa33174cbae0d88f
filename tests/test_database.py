"""The Database component under the mocks: production with Vault's engine, and the cheaper dev stack."""

import json

import pulumi
import pytest

from components.catalog.secrets import VaultAccess
from components.config.stack import load_stack_config
from components.database import access
from components.database.datastores import Database, DatabaseArgs
from components.database.parameters import postgres_parameters
from components.deployment import AwsContext, Deployment
from components.vault.userdata import RDS_CA_BUNDLE
from tests.support.iam_lint import trust_findings
from tests.support.mocks import run_program

pytestmark = pytest.mark.slow
DATA_KEY = "arn:aws:kms:us-east-1:123456789012:key/data"
SECRETS_KEY = "arn:aws:kms:us-east-1:123456789012:key/secrets"
LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/logs"
VAULT_SG = "sg-0vaultnodes000001"
APPS_SG = "sg-0applications0001"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
INSTANCE = "aws:rds/instance:Instance"
GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def database_program(*, with_vault):
    """Build the component as __main__ will, and export what __main__ will export from it."""

    def program():
        config = load_stack_config()
        database = Database(
            "database",
            DatabaseArgs(
                deployment=Deployment.from_config(config, AwsContext("123456789012", "aws", "us-east-1")),
                vpc_id="vpc-0example",
                private_subnet_ids=SUBNETS,
                data_key_arn=DATA_KEY,
                secrets_key_arn=SECRETS_KEY,
                logs_key_arn=LOGS_KEY,
                vault_security_group_id=VAULT_SG,
                application_security_group_id=APPS_SG,
                config=config.database,
                vault=VaultAccess(
                    "https://vault.internal.example", "example-ca", pulumi.Output.secret("example-token")
                )
                if with_vault
                else None,
            ),
        )
        pulumi.export("postgresAddress", database.postgres.address)
        pulumi.export("postgresMasterSecretArn", database.master_user_secret_arn)
        pulumi.export("redisPrimaryEndpoint", database.redis.primary_endpoint_address)
        pulumi.export("redisAuthSecretArn", database.redis_auth_secret.arn)
        pulumi.export("vaultEngine", database.vault_engine is not None)

    return program


@pytest.fixture(scope="module")
def production():
    return run_program("production", program=database_program(with_vault=True))


@pytest.fixture(scope="module")
def dev():
    return run_program("dev", program=database_program(with_vault=False))


def instance(recording):
    return recording.one(INSTANCE, "database-postgres")


def replication_group(recording):
    return recording.one(GROUP, "database-redis")


def test_every_resource_belongs_to_the_component_and_nothing_is_deprecated(production, dev):
    for recording in (production, dev):
        component = recording.one("candlefish:secrets:Database", "database")
        assert {r.urn for r in recording.descendants_of(component)} == {
            r.urn for r in recording.resources if r is not component
        }
        assert all(r.name.startswith("database-") for r in recording.resources if r is not component)
        assert not [w for w in recording.warnings if "deprecat" in w.lower()]


def test_postgres_engine_class_and_storage_come_from_config(production):
    inputs = instance(production).inputs
    assert (inputs["identifier"], inputs["engine"], inputs["engineVersion"]) == (
        "candlefish-production-postgres",
        "postgres",
        "17",
    )
    assert inputs["instanceClass"] == "db.r7g.large"
    assert (inputs["storageType"], inputs["allocatedStorage"], inputs["maxAllocatedStorage"]) == (
        "gp3",
        100,
        1000,
    )
    assert (inputs["storageEncrypted"], inputs["kmsKeyId"]) == (True, DATA_KEY)
    assert (inputs["autoMinorVersionUpgrade"], inputs["applyImmediately"]) == (True, False)
    assert inputs["caCertIdentifier"] == "rds-ca-rsa2048-g1"


def test_postgres_is_multi_az_private_and_reachable_only_through_its_group(production):
    inputs = instance(production).inputs
    assert inputs["multiAz"] is True
    assert inputs["publiclyAccessible"] is False
    subnets = production.one("aws:rds/subnetGroup:SubnetGroup", "database-postgres-subnets")
    assert subnets.inputs["subnetIds"] == SUBNETS
    assert inputs["dbSubnetGroupName"] == subnets.outputs["name"]
    group = production.one("aws:ec2/securityGroup:SecurityGroup", "database-postgres-sg")
    assert inputs["vpcSecurityGroupIds"] == [group.outputs["id"]]
    assert inputs["port"] == 5432


def test_postgres_backups_windows_and_deletion_safeguards(production):
    inputs = instance(production).inputs
    assert inputs["backupRetentionPeriod"] == 30
    assert (inputs["backupWindow"], inputs["maintenanceWindow"]) == ("03:00-03:30", "sun:04:00-sun:05:00")
    assert inputs["copyTagsToSnapshot"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "candlefish-production-postgres-final"
    assert inputs["deleteAutomatedBackups"] is False


def test_postgres_master_password_is_generated_and_kept_by_rds(production, dev):
    recorded = instance(production)
    inputs = recorded.inputs
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["masterUserSecretKmsKeyId"] == SECRETS_KEY
    assert inputs["username"] == "candlefish_admin"
    assert not {"password", "passwordWo"} & set(inputs)
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    secret_arn = recorded.outputs["masterUserSecrets"][0]["secretArn"]
    assert production.outputs["postgresMasterSecretArn"] == secret_arn
    assert production.outputs["postgresAddress"] == recorded.outputs["address"]
    assert "password" not in instance(dev).inputs


def test_performance_insights_and_enhanced_monitoring(production):
    inputs = instance(production).inputs
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsKmsKeyId"] == DATA_KEY
    assert inputs["performanceInsightsRetentionPeriod"] == 7
    assert inputs["databaseInsightsMode"] == "standard"
    assert inputs["monitoringInterval"] == 60
    role = production.one("aws:iam/role:Role", "database-postgres-monitoring-role")
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]


def test_the_monitoring_role_trusts_rds_monitoring_for_this_instance_only(production):
    role = production.one("aws:iam/role:Role", "database-postgres-monitoring-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:rds:us-east-1:123456789012:db:candlefish-production-postgres"},
    }
    assert trust_findings(trust, role.outputs["arn"]) == []
    attachment = production.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert (
        attachment.inputs["policyArn"]
        == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert attachment.inputs["role"] == role.outputs["name"]
    assert attachment.urn in instance(production).dependencies


def test_the_parameter_group_forces_tls_scram_and_logs_connections(production):
    group = production.one("aws:rds/parameterGroup:ParameterGroup", "database-postgres-params")
    assert group.inputs["family"] == "postgres17"
    assert group.inputs["name"] == "candlefish-production-postgres-postgres17"
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {
        "rds.force_ssl": "1",
        "password_encryption": "scram-sha-256",
        "log_connections": "1",
        "log_disconnections": "1",
    }
    assert instance(production).inputs["parameterGroupName"] == group.outputs["name"]


def test_postgres_18_logs_connections_with_the_list_form():
    assert {p["name"]: p["value"] for p in postgres_parameters(18)}["log_connections"] == (
        "receipt,authentication,authorization"
    )


def test_postgres_logs_go_to_pre_created_encrypted_groups(production):
    inputs = instance(production).inputs
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    for kind in ("postgresql", "upgrade"):
        group = production.one(LOG_GROUP, f"database-postgres-{kind}-logs")
        assert group.inputs["name"] == f"/aws/rds/instance/candlefish-production-postgres/{kind}"
        assert (group.inputs["kmsKeyId"], group.inputs["retentionInDays"]) == (LOGS_KEY, 365)
        assert group.urn in instance(production).dependencies


@pytest.mark.parametrize(("label", "port"), [("postgres", 5432), ("redis", 6379)])
def test_each_store_admits_its_port_from_the_vault_nodes_and_applications_only(production, label, port):
    group = production.one("aws:ec2/securityGroup:SecurityGroup", f"database-{label}-sg")
    assert group.inputs["vpcId"] == "vpc-0example"
    rules = [r for r in production.of_type(INGRESS) if r.inputs["securityGroupId"] == group.outputs["id"]]
    assert sorted(
        (
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs["referencedSecurityGroupId"],
        )
        for r in rules
    ) == sorted([("tcp", port, port, VAULT_SG), ("tcp", port, port, APPS_SG)])
    assert not [r for r in rules if {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(r.inputs)]
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    # The stores open no connections: no egress rule belongs to their groups.
    egress = production.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert not [r for r in egress if r.inputs["securityGroupId"] == group.outputs["id"]]


def test_the_vault_nodes_may_open_connections_to_postgres_only(production):
    postgres = production.one("aws:ec2/securityGroup:SecurityGroup", "database-postgres-sg")
    (rule,) = production.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert (rule.inputs["securityGroupId"], rule.inputs["referencedSecurityGroupId"]) == (
        VAULT_SG,
        postgres.outputs["id"],
    )
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 5432, 5432)


def test_redis_is_multi_az_with_failover_and_encrypted_everywhere(production):
    inputs = replication_group(production).inputs
    assert (inputs["replicationGroupId"], inputs["engine"], inputs["engineVersion"]) == (
        "candlefish-production-redis",
        "redis",
        "7.1",
    )
    assert (inputs["nodeType"], inputs["numCacheClusters"], inputs["port"]) == ("cache.r7g.large", 3, 6379)
    assert inputs["multiAzEnabled"] is True and inputs["automaticFailoverEnabled"] is True
    assert (inputs["atRestEncryptionEnabled"], inputs["kmsKeyId"]) == (True, DATA_KEY)
    assert (inputs["transitEncryptionEnabled"], inputs["transitEncryptionMode"]) == (True, "required")
    assert inputs["snapshotRetentionLimit"] == 14
    assert inputs["finalSnapshotIdentifier"] == "candlefish-production-redis-final"
    subnets = production.one("aws:elasticache/subnetGroup:SubnetGroup", "database-redis-subnets")
    assert subnets.inputs["subnetIds"] == SUBNETS
    assert inputs["subnetGroupName"] == subnets.outputs["name"]
    sg = production.one("aws:ec2/securityGroup:SecurityGroup", "database-redis-sg")
    assert inputs["securityGroupIds"] == [sg.outputs["id"]]


def test_redis_slow_and_engine_logs_go_to_encrypted_groups_as_json(production):
    deliveries = replication_group(production).inputs["logDeliveryConfigurations"]
    by_type = {d["logType"]: d for d in deliveries}
    assert sorted(by_type) == ["engine-log", "slow-log"]
    for kind, delivery in by_type.items():
        group = production.one(LOG_GROUP, f"database-redis-{kind}s")
        assert (delivery["destinationType"], delivery["logFormat"]) == ("cloudwatch-logs", "json")
        assert delivery["destination"] == group.outputs["name"] == f"/candlefish/production/redis/{kind}"
        assert (group.inputs["kmsKeyId"], group.inputs["retentionInDays"]) == (LOGS_KEY, 365)


def test_the_redis_auth_token_is_generated_within_awss_rules_and_kept_secret(production):
    token = production.one("random:index/randomPassword:RandomPassword", "database-redis-auth-token")
    assert 16 <= token.inputs["length"] <= 128
    assert token.inputs["special"] is True
    assert set(token.inputs["overrideSpecial"]) <= set("!&#$^<>-")
    assert min(token.inputs[k] for k in ("minUpper", "minLower", "minNumeric", "minSpecial")) >= 1
    group = replication_group(production)
    assert group.is_secret("authToken")
    assert group.inputs["authToken"] == token.outputs["result"]


def test_the_redis_auth_token_is_kept_in_secrets_manager_under_the_secrets_key(production):
    secret = production.one("aws:secretsmanager/secret:Secret", "database-redis-auth")
    assert secret.inputs["name"] == "candlefish/production/redis/auth"
    assert (secret.inputs["kmsKeyId"], secret.inputs["recoveryWindowInDays"]) == (SECRETS_KEY, 30)
    version = production.one("aws:secretsmanager/secretVersion:SecretVersion", "database-redis-auth-value")
    assert version.is_secret("secretString")
    assert version.inputs["secretId"] == secret.id
    stored = json.loads(version.inputs["secretString"])
    group = replication_group(production)
    assert stored == {
        "auth_token": group.inputs["authToken"],
        "auth_token_generation": 1,
        "primary_endpoint": group.outputs["primaryEndpointAddress"],
        "reader_endpoint": group.outputs["readerEndpointAddress"],
        "port": 6379,
        "tls": True,
    }
    assert production.outputs["redisAuthSecretArn"] == secret.outputs["arn"]


def test_vault_engine_is_pointed_at_the_instance_with_the_master_secret_and_roles(production):
    engine = production.named("database-vault-engine")
    recorded = instance(production)
    assert engine.inputs["host"] == recorded.outputs["address"]
    assert engine.inputs["port"] == 5432
    assert engine.inputs["master_secret_arn"] == recorded.outputs["masterUserSecrets"][0]["secretArn"]
    assert (engine.inputs["database"], engine.inputs["management_user"]) == ("candlefish", "vault_admin")
    assert (engine.inputs["mount"], engine.inputs["connection"]) == ("database", "candlefish-postgres")
    assert (engine.inputs["ssl_mode"], engine.inputs["ssl_root_cert"]) == (
        "verify-full",
        RDS_CA_BUNDLE,
    )
    assert engine.inputs["bootstrap_statements"] == access.bootstrap_statements()
    assert engine.inputs["roles"] == access.vault_roles()
    assert engine.is_secret("token")
    assert recorded.urn in engine.dependencies
    assert production.outputs["vaultEngine"] is True


def test_dev_is_single_az_small_deletable_and_has_one_redis_node(dev):
    inputs = instance(dev).inputs
    assert (inputs["instanceClass"], inputs["multiAz"], inputs["deletionProtection"]) == (
        "db.t4g.micro",
        False,
        False,
    )
    assert (inputs["allocatedStorage"], inputs["maxAllocatedStorage"], inputs["backupRetentionPeriod"]) == (
        20,
        50,
        7,
    )
    assert inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in inputs
    assert inputs["deleteAutomatedBackups"] is True
    # Performance Insights has no instance-class limit on RDS for PostgreSQL, micro classes included.
    assert inputs["performanceInsightsEnabled"] is True
    group = replication_group(dev).inputs
    assert (group["nodeType"], group["numCacheClusters"]) == ("cache.t4g.micro", 1)
    assert group["multiAzEnabled"] is False and group["automaticFailoverEnabled"] is False
    assert "finalSnapshotIdentifier" not in group
    assert dev.one("aws:secretsmanager/secret:Secret").inputs["recoveryWindowInDays"] == 7
    assert dev.one(LOG_GROUP, "database-postgres-postgresql-logs").inputs["retentionInDays"] == 30


def test_without_vault_access_no_engine_is_configured(dev):
    assert [r for r in dev.resources if r.name == "database-vault-engine"] == []
    assert dev.outputs["vaultEngine"] is False
