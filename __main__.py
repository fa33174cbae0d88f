"""candlefish-secrets: the stack's entry point. Reads the config, composes the components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components.alerting import Alerting, AlertingArgs
from components.audit_delivery import AuditDelivery, AuditDeliveryArgs
from components.break_glass.component import BreakGlassAccess, BreakGlassAccessArgs
from components.catalog.canary import ValidationCanary, ValidationCanaryArgs
from components.catalog.rotation import SecretRotationFunction, SecretRotationFunctionArgs
from components.catalog.secrets import SecretsCatalog, SecretsCatalogArgs, VaultAccess, role_arn_pattern
from components.code_signing import FunctionCodeSigning, FunctionCodeSigningArgs
from components.config.stack import ConfigError, check_zones, load_stack_config
from components.database.datastores import Database, DatabaseArgs
from components.database.parameters import default_max_connections
from components.database.redis_rotation import RedisAuthRotation, RedisAuthRotationArgs
from components.deployment import AwsContext, Deployment, Names
from components.keys import DR_ENVIRONMENT_SUFFIX, Keys, KeysArgs, UnsealKey, UnsealKeyArgs
from components.lib import tagging
from components.monitoring.component import Monitoring, MonitoringArgs
from components.monitoring.targets import DatabaseTargets, StorageTargets, VaultTargets
from components.network import Network, NetworkArgs
from components.storage import ACCESS_LOG_PREFIX, SNAPSHOT_PREFIX, Storage, StorageArgs
from components.vault.bootstrap import AppRole, VaultBootstrap, VaultBootstrapArgs
from components.vault.cluster import VaultCluster, VaultClusterArgs
from components.vault.userdata import AUDIT_LOG_PATH
from providers.bootstrap_inputs import CiAppRole

SECURITY_TEAM = "security-team"

try:
    config = load_stack_config()
    check_zones(config, aws.get_availability_zones(state="available").names)
except ConfigError as error:
    # RunError ends the program with the message alone: a config mistake is not a crash.
    raise pulumi.RunError(str(error)) from None

tagging.register(config.tags)
project_config = pulumi.Config()
caller = aws.get_caller_identity_output()
# The role behind the deploying session (IAM path resolved): it seeds secrets and may read what it wrote.
deployer_role_arn = aws.iam.get_session_context_output(arn=caller.arn).issuer_arn
deployment = Deployment.from_config(
    config,
    AwsContext(
        account_id=caller.account_id,
        partition=aws.get_partition_output().partition,
        region=config.region,
    ),
)
names = deployment.names
# Every other role that deploys this stack (CI's, operators' SSO roles), as ARN patterns.
other_deployers = [role_arn_pattern(role, deployment.aws) for role in config.access.deployer_principals]

# The Vault nodes' role has a fixed name, so the unseal key and bucket policies can name it before it exists.
node_role_arn = deployment.aws.arn("iam", f"role/{names.vault_node_role}", region=False)
keys = Keys(
    "keys",
    KeysArgs(
        deployment=deployment,
        deletion_window_days=config.keys.deletion_window_days,
        dr_region=config.storage.dr_region if config.dr.multi_region_keys else None,
    ),
)
network = Network(
    "network",
    NetworkArgs(
        deployment=deployment,
        vpc_cidr=config.network.vpc_cidr,
        availability_zones=config.network.availability_zones,
        private_subnet_cidrs=config.network.private_subnet_cidrs,
        public_subnet_cidrs=config.network.public_subnet_cidrs,
        single_nat_gateway=config.network.nat_gateways == "single",
        flow_log_retention_days=config.network.flow_log_retention_days,
        logs_key_arn=keys.logs.arn,
    ),
)
unseal = UnsealKey(
    "unseal",
    UnsealKeyArgs(
        deployment=deployment,
        deletion_window_days=config.keys.deletion_window_days,
        enable_hsm=config.keys.enable_hsm,
        hsm_subnet_ids=network.private_subnet_ids,
        hsm_trust_anchor_certificate=config.keys.hsm_trust_anchor_certificate,
        hsm_key_store_connected=config.keys.hsm_key_store_connected,
        secrets_key_arn=keys.secrets.arn,
        protect=deployment.deletion_protection,
        node_role_arn=node_role_arn,
        dr_region=config.storage.dr_region if config.dr.multi_region_keys else None,
        dr_node_role_arn=deployment.aws.arn(
            "iam", f"role/{Names(config.environment + DR_ENVIRONMENT_SUFFIX).vault_node_role}", region=False
        ),
        existing_key_arn=config.dr.unseal_key_replica_arn,
    ),
)
storage = Storage(
    "storage",
    StorageArgs(
        deployment=deployment,
        data_key_arn=keys.data.arn,
        vault_node_role_arn=node_role_arn,
        compliance_lock=deployment.production,
        audit_object_lock_days=config.storage.audit_object_lock_days,
        backup_retention_days=config.storage.backup_retention_days,
        access_log_retention_days=config.vault.log_retention_days,
        key_deletion_window_days=config.keys.deletion_window_days,
        dr_region=config.storage.dr_region,
        function_artifacts=config.code_signing != "off",
    ),
)
# Every Lambda function is deployed from a package signed by the stack's Signer profile (lambdaCodeSigning).
code_signing = (
    FunctionCodeSigning(
        "code-signing",
        FunctionCodeSigningArgs(
            deployment=deployment,
            mode="enforce" if config.code_signing == "enforce" else "warn",
            artifacts_bucket=storage.artifacts.bucket.bucket,
            artifacts_ready=[storage.artifacts.versioning, storage.artifacts.policy],
        ),
    ).signing
    if storage.artifacts is not None
    else None
)
vault = VaultCluster(
    "vault",
    VaultClusterArgs(
        deployment=deployment,
        vault=config.vault,
        load_balancer=config.load_balancer,
        vpc_id=network.vpc.id,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        load_balancer_subnet_cidrs=config.load_balancer_subnet_cidrs,
        endpoint_security_group_id=network.endpoint_security_group.id,
        unseal_key_arn=unseal.key_arn,
        data_key_arn=keys.data.arn,
        secrets_key_arn=keys.secrets.arn,
        logs_key_arn=keys.logs.arn,
        autoscaling_role_arn=keys.autoscaling_role.arn,
        snapshot_bucket=storage.snapshots.bucket.bucket,
        snapshot_bucket_arn=storage.snapshots.bucket.arn,
        snapshot_prefix=SNAPSHOT_PREFIX,
        access_log_bucket=storage.access_logs.bucket.bucket,
        access_log_prefix=ACCESS_LOG_PREFIX,
        access_log_policy=storage.access_logs.policy,
        deployer_role_arn=deployer_role_arn,
        other_deployers=other_deployers,
        depends_on=network.ready,
    ),
)
# Vault's audit log, from CloudWatch Logs through a staging bucket into the object-locked audit bucket.
audit_delivery = AuditDelivery(
    "audit-delivery",
    AuditDeliveryArgs(
        deployment=deployment,
        audit_log_group_name=vault.audit_log_group.name,
        staging_bucket_arn=storage.audit_staging.bucket.arn,
        staging_bucket_policy=storage.audit_staging.policy,
        data_key_arn=keys.data.arn,
        logs_key_arn=keys.logs.arn,
        log_retention_days=config.vault.log_retention_days,
    ),
)
alerting = Alerting(
    "alerting",
    AlertingArgs(
        functions_key_arn=keys.functions.arn,
        code_signing=code_signing,
        deployment=deployment,
        notifications_key_arn=keys.notifications.arn,
        secrets_key_arn=keys.secrets.arn,
        logs_key_arn=keys.logs.arn,
        deployer_role_arn=deployer_role_arn,
        alert_email=config.alerting.email,
        log_retention_days=config.monitoring.alert_log_retention_days,
        slack_webhook_url=project_config.get_secret("slackWebhookUrl")
        if config.alerting.slack_webhook_url
        else None,
        pagerduty_integration_key=(
            project_config.get_secret("pagerdutyIntegrationKey")
            if config.alerting.pagerduty_integration_key
            else None
        ),
    ),
)
rotation = SecretRotationFunction(
    "rotation",
    SecretRotationFunctionArgs(
        functions_key_arn=keys.functions.arn,
        code_signing=code_signing,
        deployment=deployment,
        vpc_id=network.vpc.id,
        vpc_cidr=config.network.vpc_cidr,
        private_subnet_ids=network.private_subnet_ids,
        logs_key_arn=keys.logs.arn,
        log_retention_days=config.vault.log_retention_days,
        vault_address=vault.address,
        vault_ca_pem=vault.ca_certificate_pem,
        vault_server_name=config.vault.server_name,
        alerts_topic_arn=alerting.alerts_topic.arn,
        notifications_key_arn=keys.notifications.arn,
    ),
)
# Emergency access: a justified request, two approvals, a short-lived wrapped token
# (docs/runbooks/break-glass.md).
break_glass = (
    BreakGlassAccess(
        "break-glass",
        BreakGlassAccessArgs(
            deployment=deployment,
            functions_key_arn=keys.functions.arn,
            code_signing=code_signing,
            settings=config.break_glass,
            vpc_id=network.vpc.id,
            vpc_cidr=config.network.vpc_cidr,
            private_subnet_ids=network.private_subnet_ids,
            dynamodb_prefix_list_id=network.dynamodb_endpoint.prefix_list_id,
            logs_key_arn=keys.logs.arn,
            log_retention_days=config.monitoring.alert_log_retention_days,
            vault_address=vault.address,
            vault_ca_pem=vault.ca_certificate_pem,
            vault_server_name=config.vault.server_name,
            pages_topic_arn=alerting.pages_topic.arn,
            notifications_key_arn=keys.notifications.arn,
            deployer_role_arn=deployer_role_arn,
        ),
    )
    if config.break_glass.enabled
    else None
)
applications = [
    AppRole(name=app.name, bound_arn=role_arn_pattern(app.role, deployment.aws), paths=app.paths)
    for app in config.access.applications
]
# The deploying machine reaches Vault at the load balancer's bootstrap listener, or through a port forward
# (README: deploying).
deploy_vault_address = config.vault.deploy_address or vault.bootstrap_address
bootstrap = VaultBootstrap(
    "bootstrap",
    VaultBootstrapArgs(
        deployment=deployment,
        vault_address=deploy_vault_address,
        ca_pem=vault.ca_certificate_pem,
        secrets_key_arn=keys.secrets.arn,
        node_role_arn=vault.node_role.arn,
        # CI manages the catalog's structure (the platform-team policy), never reads values.
        ci_approle=CiAppRole(token_policies=["platform-team"], bound_cidrs=config.access.ci_bound_cidrs),
        rotation_role_arn=rotation.role.arn,
        app_roles=applications,
        recovery_pgp_keys=config.access.recovery_pgp_keys,
        # Write-only shares: only these people's MFA-guarded break-glass roles may read them.
        recovery_share_readers=[
            break_glass.person_roles[person].arn for person in config.access.recovery_share_readers
        ]
        if break_glass
        else [],
        adopt_token=project_config.get_secret("vaultAdoptToken") if config.access.adopt_token else None,
        deployer_role_arn=deployer_role_arn,
        other_deployers=other_deployers,
        # The security team holds the break-glass material; without a team role, a dedicated role name.
        break_glass_principal_patterns=(
            [role_arn_pattern(config.team_roles[SECURITY_TEAM], deployment.aws)]
            if SECURITY_TEAM in config.team_roles
            else None
        ),
        audit_file_path=AUDIT_LOG_PATH,
        iam_server_id=config.vault.server_name,
        break_glass_broker_role_arn=break_glass.broker_role.arn if break_glass else None,
        break_glass_max_ttl=f"{config.break_glass.max_duration_s}s",
        depends_on=vault.ready,
    ),
    opts=pulumi.ResourceOptions(depends_on=[vault]),
)
# In restore mode (the DR stack) nothing is seeded into Vault: a restored snapshot brings the catalog's
# values and the database engine's configuration, and seeds would write over them.
vault_access = (
    None
    if config.dr.restore_mode
    else VaultAccess(deploy_vault_address, vault.ca_certificate_pem, bootstrap.provisioner_token)
)
catalog = SecretsCatalog(
    "catalog",
    SecretsCatalogArgs(
        deployment=deployment,
        catalog=config.catalog,
        secrets_key_arn=keys.secrets.arn,
        deployer_role_arn=deployer_role_arn,
        rotation=rotation,
        supplied_values={
            entry.name: project_config.require_secret(entry.config_value.key)
            for entry in config.catalog
            if entry.config_value is not None and entry.config_value.present
        },
        team_roles=config.team_roles,
        reader_role_arns=[app.bound_arn for app in applications],
        vault=vault_access,
    ),
)
# The Secrets Manager canary `tools.validate` writes and reads back (deployers and validators only).
canary = ValidationCanary(
    "canary",
    ValidationCanaryArgs(
        deployment=deployment,
        secrets_key_arn=keys.secrets.arn,
        deployer_role_arn=deployer_role_arn,
        other_deployers=other_deployers,
        validators=[role_arn_pattern(role, deployment.aws) for role in config.access.validator_principals],
    ),
)
database = Database(
    "database",
    DatabaseArgs(
        deployment=deployment,
        vpc_id=network.vpc.id,
        private_subnet_ids=network.private_subnet_ids,
        data_key_arn=keys.data.arn,
        secrets_key_arn=keys.secrets.arn,
        logs_key_arn=keys.logs.arn,
        vault_security_group_id=vault.node_security_group.id,
        application_security_group_id=network.application_security_group.id,
        config=config.database,
        vault=vault_access,
    ),
)
# The Redis AUTH token rotates on a schedule (ROTATE, then SET one period later); 0 days: manual only.
redis_auth_rotation = (
    RedisAuthRotation(
        "redis-auth-rotation",
        RedisAuthRotationArgs(
            deployment=deployment,
            secret=database.redis_auth_secret,
            replication_group_id=database.redis_group_id,
            rotation_days=config.database.redis.auth_rotation_days,
            vpc_id=network.vpc.id,
            vpc_cidr=config.network.vpc_cidr,
            private_subnet_ids=network.private_subnet_ids,
            secrets_key_arn=keys.secrets.arn,
            logs_key_arn=keys.logs.arn,
            log_retention_days=config.database.log_retention_days,
            functions_key_arn=keys.functions.arn,
            code_signing=code_signing,
            depends_on=[database.redis, database.redis_auth_value],
        ),
    )
    if config.database.redis.auth_rotation_days
    else None
)
monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(
        functions_key_arn=keys.functions.arn,
        code_signing=code_signing,
        deployment=deployment,
        settings=config.monitoring,
        logs_key_arn=keys.logs.arn,
        alerts_topic_arn=alerting.alerts_topic.arn,
        pages_topic_arn=alerting.pages_topic.arn,
        vault=VaultTargets(
            auto_scaling_group_name=vault.auto_scaling_group.name,
            load_balancer_arn_suffix=vault.load_balancer.arn_suffix,
            target_group_arn_suffix=vault.target_group.arn_suffix,
            server_log_group_name=vault.server_log_group.name,
            audit_log_group_name=vault.audit_log_group.name,
            certificate_arn=vault.certificate_arn,
            snapshots=not config.vault.dev_mode,
            node_certificate_arn=(
                vault.node_certificate_arn if config.load_balancer.acm_certificate_arn else None
            ),
        ),
        database=DatabaseTargets(
            rds_instance_identifier=database.postgres_identifier,
            rds_allocated_storage_gib=config.database.postgres.allocated_storage_gb,
            rds_max_connections=default_max_connections(config.database.postgres.instance_class),
            redis_replication_group_id=database.redis_group_id,
            redis_node_count=config.database.redis.nodes,
        ),
        storage=StorageTargets(
            audit_delivery_stream_name=audit_delivery.stream.name,
            audit_replication=storage.audit_replication,
            snapshot_replication=storage.snapshot_replication,
        ),
        rotation_log_group_name=rotation.log_group.name,
        vpc_id=network.vpc.id,
        vpc_cidr=config.network.vpc_cidr,
        private_subnet_ids=network.private_subnet_ids,
        slack_forwarder_function_name=alerting.slack_forwarder.function.name
        if alerting.slack_forwarder
        else None,
        redis_auth_rotation_function_name=redis_auth_rotation.function.name if redis_auth_rotation else None,
        after=[bootstrap],
    ),
)

pulumi.export("vpcId", network.vpc.id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("natGatewayIds", [nat.id for nat in network.nat_gateways])
pulumi.export("endpointSecurityGroupId", network.endpoint_security_group.id)
pulumi.export("applicationSecurityGroupId", network.application_security_group.id)
pulumi.export("unsealKeyArn", unseal.key_arn)
if unseal.replica is not None:
    pulumi.export("unsealKeyReplicaArn", unseal.replica.arn)
if keys.data_replica is not None:
    pulumi.export("dataKeyReplicaArn", keys.data_replica.arn)
pulumi.export("unsealKeyBacking", unseal.backing)
pulumi.export("dataKeyArn", keys.data.arn)
pulumi.export("logsKeyArn", keys.logs.arn)
pulumi.export("secretsKeyArn", keys.secrets.arn)
pulumi.export("notificationsKeyArn", keys.notifications.arn)
pulumi.export("sealedSecretsVersion", config.sealed_secrets_version)
pulumi.export("alertsTopicArn", alerting.alerts_topic.arn)
pulumi.export("pagesTopicArn", alerting.pages_topic.arn)
pulumi.export("breakGlassSecretArn", bootstrap.break_glass_secret.arn)
if break_glass:
    pulumi.export("breakGlassBrokerUrl", break_glass.url.function_url)
    pulumi.export("breakGlassRequestsTable", break_glass.table.name)
pulumi.export("canarySecretArn", canary.secret.arn)
pulumi.export("vaultProvisionerAccessor", bootstrap.provisioner_accessor)
pulumi.export("catalog", catalog.status)
pulumi.export("dashboards", {key: board.dashboard_name for key, board in monitoring.dashboards.items()})
for outputs in (storage.outputs, vault.outputs, database.outputs):
    for key, value in outputs.items():
        pulumi.export(key, value)
