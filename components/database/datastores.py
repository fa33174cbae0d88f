"""PostgreSQL (RDS) and Redis (ElastiCache) for platform applications, and Vault's database engine over them.

Both stores sit in the private subnets behind their own security groups, which admit their port only from
the Vault nodes and the application security group. Everything at rest is encrypted with the data key,
every secret with the secrets key, every log group with the logs key. PostgreSQL's master password is
generated and rotated by RDS in Secrets Manager; applications get short-lived logins from Vault instead
(components/database/access.py). Redis requires TLS and an AUTH token kept in Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.catalog.secrets import VaultAccess
from components.config.database import DatabaseConfig
from components.database import access
from components.database.parameters import postgres_parameters
from components.deployment import Deployment, Names
from components.lib.component import Component
from components.lib.iam import assume_role_policy, from_source
from components.vault.security_groups import Rule, create_rules
from components.vault.userdata import RDS_CA_BUNDLE
from lambdas.rotation.redis_auth import TARGET as REDIS_ROTATION_TARGET
from providers.vault_database import VaultDatabaseEngine

POSTGRES_PORT = 5432
REDIS_PORT = 6379
MASTER_USERNAME = "candlefish_admin"
# The RSA 2048 CA RDS signs server certificates with by default (valid to 2061); the Vault nodes and
# clients verify against AWS's RDS CA bundle.
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
RDS_CA_BUNDLE_ON_VAULT_NODES = RDS_CA_BUNDLE  # fetched by the Vault nodes' install script
POSTGRES_LOG_EXPORTS = ("postgresql", "upgrade")
MONITORING_INTERVAL_S = 60  # Enhanced Monitoring: 1, 5, 10, 15, 30 or 60
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier; 31-day multiples up to 731 cost extra
ENHANCED_MONITORING_POLICY = "policy/service-role/AmazonRDSEnhancedMonitoringRole"
REDIS_LOGS = ("slow-log", "engine-log")
# ElastiCache AUTH tokens: 16-128 printable characters whose only specials are these.
ELASTICACHE_AUTH_LENGTH = 64
ELASTICACHE_AUTH_SPECIALS = "!&#$^<>-"


@dataclass(frozen=True)
class DatabaseArgs:
    """What the databases need from the rest of the stack; `vault` set once the cluster is reachable."""

    deployment: Deployment
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    data_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    vault_security_group_id: pulumi.Input[str]
    application_security_group_id: pulumi.Input[str]
    config: DatabaseConfig
    vault: VaultAccess | None = None
    rds_ca_bundle_path: str = RDS_CA_BUNDLE_ON_VAULT_NODES


class Database(Component):
    """The RDS PostgreSQL instance, the ElastiCache Redis replication group, and Vault's database engine."""

    postgres: aws.rds.Instance
    postgres_security_group: aws.ec2.SecurityGroup
    postgres_log_groups: dict[str, aws.cloudwatch.LogGroup]
    monitoring_role: aws.iam.Role
    master_user_secret_arn: pulumi.Output[str]
    redis: aws.elasticache.ReplicationGroup
    redis_security_group: aws.ec2.SecurityGroup
    redis_log_groups: dict[str, aws.cloudwatch.LogGroup]
    redis_auth_secret: aws.secretsmanager.Secret
    redis_auth_value: aws.secretsmanager.SecretVersion
    vault_engine: VaultDatabaseEngine | None = None

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Database", name, None, opts)
        self._base = name
        self._args = args
        self._names = args.deployment.names
        self._postgres()
        self._redis()
        if args.vault is not None:
            self._vault_engine(args.vault)
        self.outputs: dict[str, Any] = {
            "postgresAddress": self.postgres.address,
            "postgresPort": self.postgres.port,
            "postgresMasterSecretArn": self.master_user_secret_arn,
            "postgresSecurityGroupId": self.postgres_security_group.id,
            "redisPrimaryEndpoint": self.redis.primary_endpoint_address,
            "redisReaderEndpoint": self.redis.reader_endpoint_address,
            "redisAuthSecretArn": self.redis_auth_secret.arn,
            "redisSecurityGroupId": self.redis_security_group.id,
        }
        self.register_outputs(self.outputs)

    # --- shared pieces ------------------------------------------------------------------------------------

    def _security_group(self, label: str, port: int, purpose: str) -> aws.ec2.SecurityGroup:
        """A group admitting `port` from the Vault nodes and the applications only; no egress."""
        args = self._args
        group = aws.ec2.SecurityGroup(
            f"{self._base}-{label}-sg",
            vpc_id=args.vpc_id,
            description=f"{purpose}: {port} from the Vault nodes and applications only",
            tags={"Name": self._names.resource(label)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        sources = {"vault": args.vault_security_group_id, "applications": args.application_security_group_id}
        create_rules(
            f"{self._base}-{label}",
            group,
            [
                Rule(
                    "ingress",
                    port,
                    f"from-{source}",
                    f"{purpose} from the {source} security group",
                    security_group=peer,
                )
                for source, peer in sources.items()
            ],
        )
        return group

    def _log_group(self, label: str, log_name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self._base}-{label}",
            name=log_name,
            retention_in_days=self._args.config.log_retention_days,
            kms_key_id=self._args.logs_key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

    # --- PostgreSQL ---------------------------------------------------------------------------------------

    def _postgres(self) -> None:
        args, config = self._args, self._args.config.postgres
        child = pulumi.ResourceOptions(parent=self)
        identifier = self._names.resource("postgres")
        self.postgres_identifier = identifier
        self.postgres_security_group = self._security_group("postgres", POSTGRES_PORT, "PostgreSQL")
        # Vault's database engine connects out from the nodes, whose group allows only the egress it
        # names: this is the one path from the Vault nodes to the database.
        aws.vpc.SecurityGroupEgressRule(
            f"{self._base}-vault-to-postgres",
            security_group_id=args.vault_security_group_id,
            description="Vault database secrets engine to PostgreSQL",
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            referenced_security_group_id=self.postgres_security_group.id,
            opts=pulumi.ResourceOptions(parent=self.postgres_security_group),
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{self._base}-postgres-subnets",
            name=identifier,
            description="PostgreSQL in the private subnets",
            subnet_ids=list(args.private_subnet_ids),
            opts=child,
        )
        parameters = aws.rds.ParameterGroup(
            f"{self._base}-postgres-params",
            # The family is part of the name, so a major upgrade creates the new group before the old goes.
            name=self._names.resource(f"postgres-{config.parameter_group_family}"),
            family=config.parameter_group_family,
            description="TLS only, SCRAM passwords, connections logged",
            parameters=postgres_parameters(config.engine_major),
            opts=child,
        )
        # RDS would create these itself on first export, unencrypted and kept forever.
        self.postgres_log_groups = {
            kind: self._log_group(f"postgres-{kind}-logs", Names.rds_log_group(identifier, kind))
            for kind in POSTGRES_LOG_EXPORTS
        }
        self.monitoring_role, monitoring_policy = self._monitoring_role(identifier)
        self.postgres = aws.rds.Instance(
            f"{self._base}-postgres",
            identifier=identifier,
            engine="postgres",
            engine_version=config.engine_version,
            # A major upgrade happens only when dbEngineVersion changes, which is reviewed like code.
            allow_major_version_upgrade=True,
            auto_minor_version_upgrade=True,
            instance_class=config.instance_class,
            db_name=access.DATABASE_NAME,
            port=POSTGRES_PORT,
            username=MASTER_USERNAME,
            # RDS generates the master password, keeps it in Secrets Manager and rotates it; no
            # `password` is ever set here (AWS refuses both together).
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secrets_key_arn,
            iam_database_authentication_enabled=True,
            storage_type="gp3",
            allocated_storage=config.allocated_storage_gb,
            max_allocated_storage=config.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=args.data_key_arn,
            multi_az=config.multi_az,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self.postgres_security_group.id],
            publicly_accessible=False,
            network_type="IPV4",
            parameter_group_name=parameters.name,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            backup_retention_period=config.backup_retention_days,
            backup_window=config.backup_window,
            maintenance_window=config.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=config.deletion_protection,
            skip_final_snapshot=not args.deployment.deletion_protection,
            final_snapshot_identifier=self._names.resource("postgres-final")
            if args.deployment.deletion_protection
            else None,
            delete_automated_backups=not args.deployment.deletion_protection,
            # Performance Insights (now the Standard mode of CloudWatch Database Insights). Its KMS key
            # cannot be changed once set, so it is the data key from the start.
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.data_key_arn,
            performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            database_insights_mode="standard",
            monitoring_interval=MONITORING_INTERVAL_S,
            monitoring_role_arn=self.monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(POSTGRES_LOG_EXPORTS),
            apply_immediately=False,
            tags={"Name": identifier},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*self.postgres_log_groups.values(), monitoring_policy]
            ),
        )
        self.master_user_secret_arn = self.postgres.master_user_secrets.apply(_first_secret_arn)

    def _monitoring_role(self, identifier: str) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """The role Enhanced Monitoring publishes OS metrics with, usable only for this instance."""
        ctx = self._args.deployment.aws
        role = aws.iam.Role(
            f"{self._base}-postgres-monitoring-role",
            description=f"RDS Enhanced Monitoring for {identifier}",
            assume_role_policy=assume_role_policy(
                "monitoring.rds.amazonaws.com",
                condition=from_source(ctx.account_id, ctx.arn("rds", f"db:{identifier}")),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._base}-postgres-monitoring-policy",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", ctx.partition, ":iam::aws:", ENHANCED_MONITORING_POLICY),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role, attachment

    # --- Redis --------------------------------------------------------------------------------------------

    def _redis(self) -> None:
        args, config = self._args, self._args.config.redis
        child = pulumi.ResourceOptions(parent=self)
        group_id = self._names.resource("redis")
        self.redis_group_id = group_id
        self.redis_security_group = self._security_group("redis", REDIS_PORT, "Redis")
        subnet_group = aws.elasticache.SubnetGroup(
            f"{self._base}-redis-subnets",
            name=group_id,
            description="Redis in the private subnets",
            subnet_ids=list(args.private_subnet_ids),
            opts=child,
        )
        self.redis_log_groups = {
            kind: self._log_group(f"redis-{kind}s", args.deployment.names.log_group(f"redis/{kind}"))
            for kind in REDIS_LOGS
        }
        auth_token = random.RandomPassword(
            f"{self._base}-redis-auth-token",
            length=ELASTICACHE_AUTH_LENGTH,
            special=True,
            override_special=ELASTICACHE_AUTH_SPECIALS,
            min_upper=4,
            min_lower=4,
            min_numeric=4,
            min_special=2,
            # A new generation is a new token (README: "Rotating the Redis AUTH token"); the first keeps
            # no keepers, so stacks created before them keep their token.
            keepers=(
                {"generation": str(config.auth_token_generation)}
                if config.auth_token_generation > 1
                else None
            ),
            opts=child,
        )
        self.redis = aws.elasticache.ReplicationGroup(
            f"{self._base}-redis",
            replication_group_id=group_id,
            description=f"{self._names.prefix}: Redis for platform applications (TLS and AUTH required)",
            engine="redis",
            engine_version=config.engine_version,
            node_type=config.node_type,
            num_cache_clusters=config.nodes,
            port=REDIS_PORT,
            # Multi-AZ needs automatic failover, and both need a replica (two or more nodes).
            automatic_failover_enabled=config.multi_az,
            multi_az_enabled=config.multi_az,
            at_rest_encryption_enabled=True,
            kms_key_id=args.data_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=auth_token.result,
            # ROTATE adds a changed token beside the old one, so clients can move before SET drops the old.
            auth_token_update_strategy=config.auth_token_update_strategy,
            subnet_group_name=subnet_group.name,
            security_group_ids=[self.redis_security_group.id],
            snapshot_retention_limit=config.snapshot_retention_days,
            final_snapshot_identifier=self._names.resource("redis-final")
            if args.deployment.deletion_protection
            else None,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=kind,
                )
                for kind, group in self.redis_log_groups.items()
            ],
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            tags={"Name": group_id},
            opts=child,
        )
        self.redis_auth_secret = aws.secretsmanager.Secret(
            f"{self._base}-redis-auth",
            name=args.deployment.names.secret("redis/auth"),
            description="Redis AUTH token and endpoints for platform applications (TLS required)",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=args.deployment.recovery_window_days,
            # The rotation function finds the Redis steps and the group by these (redis_rotation.py).
            tags={"RotationTarget": REDIS_ROTATION_TARGET, "ReplicationGroupId": group_id},
            opts=child,
        )
        self.redis_auth_value = aws.secretsmanager.SecretVersion(
            f"{self._base}-redis-auth-value",
            secret_id=self.redis_auth_secret.id,
            secret_string=pulumi.Output.json_dumps(
                {
                    "auth_token": auth_token.result,
                    "auth_token_generation": config.auth_token_generation,
                    "primary_endpoint": self.redis.primary_endpoint_address,
                    "reader_endpoint": self.redis.reader_endpoint_address,
                    "port": REDIS_PORT,
                    "tls": True,
                }
            ),
            # Scheduled rotations move AWSCURRENT to newer versions; this one keeps its value.
            opts=pulumi.ResourceOptions(parent=self.redis_auth_secret, ignore_changes=["versionStages"]),
        )

    # --- Vault --------------------------------------------------------------------------------------------

    def _vault_engine(self, vault: VaultAccess) -> None:
        self.vault_engine = VaultDatabaseEngine(
            f"{self._base}-vault-engine",
            address=vault.address,
            ca_pem=vault.ca_pem,
            token=vault.token,
            host=self.postgres.address,
            port=self.postgres.port,
            database=access.DATABASE_NAME,
            master_secret_arn=self.master_user_secret_arn,
            region=self._args.deployment.aws.region,
            bootstrap_statements=access.bootstrap_statements(),
            roles=access.vault_roles(),
            management_user=access.MANAGEMENT_USER,
            mount=access.MOUNT,
            connection=access.CONNECTION,
            ssl_mode="verify-full",
            ssl_root_cert=self._args.rds_ca_bundle_path,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.postgres]),
        )


def _first_secret_arn(secrets: Sequence[Any] | None) -> str:
    """The ARN of the secret RDS manages for the master user (RDS keeps exactly one)."""
    if not secrets:
        return ""
    first = secrets[0]
    return str(first["secret_arn"] if isinstance(first, dict) else first.secret_arn)
