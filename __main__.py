"""candlefish-secrets: the stack's entry point. Reads the config, composes the components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components import tagging
from components.config import ConfigError, check_zones, load_stack_config
from components.iam import AwsContext
from components.keys import Keys, KeysArgs, UnsealKey, UnsealKeyArgs
from components.network import Network, NetworkArgs

try:
    config = load_stack_config()
    check_zones(config, aws.get_availability_zones(state="available").names)
except ConfigError as error:
    # RunError ends the program with the message alone: a config mistake is not a crash.
    raise pulumi.RunError(str(error)) from None

tagging.register(config.tags)
context = AwsContext(
    account_id=aws.get_caller_identity_output().account_id,
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
