"""candlefish-secrets: the stack's entry point. Reads the config, composes the components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components import tagging
from components.config import ConfigError, check_zones, load_stack_config
from components.iam import AwsContext
from components.keys import Keys, KeysArgs, UnsealKey, UnsealKeyArgs
from components.network import Network, NetworkArgs
from components.storage import ACCESS_LOG_PREFIX, SNAPSHOT_PREFIX, Storage, StorageArgs
from components.vault_cluster import VaultCluster, VaultClusterArgs
from components.vault_iam import node_role_name

try:
    config = load_stack_config()
    check_zones(config, aws.get_availability_zones(state="available").names)
except ConfigError as error:
    # RunError ends the program with the message alone: a config mistake is not a crash.
    raise pulumi.RunError(str(error)) from None

tagging.register(config.tags)
caller = aws.get_caller_identity_output()
context = AwsContext(
    account_id=caller.account_id,
    partition=aws.get_partition_output().partition,
    region=config.region,
)

keys = Keys(
    "keys",
    KeysArgs(
        environment=config.environment,
        context=context,
        deletion_window_days=config.keys.deletion_window_days,
    ),
)
network = Network(
    "network",
    NetworkArgs(
        environment=config.environment,
        context=context,
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
        environment=config.environment,
        context=context,
        deletion_window_days=config.keys.deletion_window_days,
        enable_hsm=config.keys.enable_hsm,
        hsm_subnet_ids=network.private_subnet_ids,
        hsm_trust_anchor_certificate=config.keys.hsm_trust_anchor_certificate,
        hsm_key_store_connected=config.keys.hsm_key_store_connected,
        secrets_key_arn=keys.secrets.arn,
    ),
)
storage = Storage(
    "storage",
    StorageArgs(
        environment=config.environment,
        context=context,
        data_key_arn=keys.data.arn,
        vault_node_role_arn=context.arn("iam", f"role/{node_role_name(config.environment)}", region=False),
        compliance_lock=config.is_production,
        audit_object_lock_days=config.storage.audit_object_lock_days,
        backup_retention_days=config.storage.backup_retention_days,
        access_log_retention_days=config.vault.log_retention_days,
        key_deletion_window_days=config.keys.deletion_window_days,
        dr_region=config.storage.dr_region,
    ),
)
vault = VaultCluster(
    "vault",
    VaultClusterArgs(
        environment=config.environment,
        context=context,
        production=config.is_production,
        vault=config.vault,
        load_balancer=config.load_balancer,
        vpc_id=network.vpc.id,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        load_balancer_subnet_cidrs=config.load_balancer_subnet_cidrs,
        endpoint_security_group_id=network.endpoint_security_group.id,
        unseal_key_arn=unseal.key.arn,
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
        # The role behind the deploying session (IAM paths resolved), kept able to read the TLS secret.
        deployer_role_arn=aws.iam.get_session_context_output(arn=caller.arn).issuer_arn,
        volume_tags=config.tags,
        boot_dependencies=[network, *network.default_routes],
    ),
)

pulumi.export("vpcId", network.vpc.id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("natGatewayIds", [nat.id for nat in network.nat_gateways])
pulumi.export("endpointSecurityGroupId", network.endpoint_security_group.id)
pulumi.export("applicationSecurityGroupId", network.application_security_group.id)
pulumi.export("unsealKeyArn", unseal.key.arn)
pulumi.export("unsealKeyBacking", unseal.backing)
pulumi.export("dataKeyArn", keys.data.arn)
pulumi.export("logsKeyArn", keys.logs.arn)
pulumi.export("secretsKeyArn", keys.secrets.arn)
pulumi.export("notificationsKeyArn", keys.notifications.arn)
pulumi.export("sealedSecretsVersion", config.sealed_secrets_version)
for outputs in (storage.outputs, vault.outputs):
    for key, value in outputs.items():
        pulumi.export(key, value)
