"""The deployment context every component receives: where it deploys, its names, per-environment defaults.

`Deployment` carries the environment, whether it is production, the AWS account/partition/region
(`AwsContext`, for building ARNs), the stack's tags, the `Names` every AWS resource name comes from, and the
values that differ between production and other environments. `__main__.py` builds it once and passes it to
every component, so a component never re-derives a name or a default another component must agree with.

A leaf module: it imports nothing from `components`, so `lib/` and `config/` may use its types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    from components.config.stack import StackConfig

PROJECT = "candlefish"
# Where the Vault nodes' CloudWatch agent publishes telemetry: the node role may write only here, and the
# alarms and dashboards read from here.
VAULT_METRICS_NAMESPACE = "Candlefish/Vault"


@dataclass(frozen=True)
class AwsContext:
    """Where the stack is deploying: account, partition and region, for building ARNs."""

    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: str

    def arn(
        self, service: str, resource: str, *, region: bool = True, account: bool = True
    ) -> pulumi.Output[str]:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`; region/account may be left empty."""
        return pulumi.Output.concat(
            "arn:",
            self.partition,
            f":{service}:{self.region if region else ''}:",
            self.account_id if account else "",
            f":{resource}",
        )

    def service_name(self, service: str) -> str:
        """`com.amazonaws.<region>.<service>`: a VPC endpoint service, or its managed prefix list."""
        return f"com.amazonaws.{self.region}.{service}"

    def account_root(self) -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", self.partition, ":iam::", self.account_id, ":root")


@dataclass(frozen=True)
class Names:
    """Every AWS resource name of one environment, and every name two pieces of code must agree on.

    Conventions: resources are `candlefish-<env>-<what>`, secrets `candlefish/<env>/<what>`, the project's
    log groups `/candlefish/<env>/<what>`, KMS aliases `alias/candlefish-<env>-<purpose>`.
    """

    environment: str

    @property
    def prefix(self) -> str:
        """`candlefish-<env>`: the stack-wide name (VPC, telemetry cluster, Raft join tag)."""
        return f"{PROJECT}-{self.environment}"

    def resource(self, what: str) -> str:
        """`candlefish-<env>-<what>`: a named AWS resource (role, topic, function, Name tag)."""
        return f"{self.prefix}-{what}"

    def bucket(self, role: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
        """`candlefish-<env>-<role>-<account>`: an S3 bucket (bucket names are global; the account keeps
        them unique, and lets a policy name a bucket before it exists)."""
        return pulumi.Output.concat(self.resource(f"{role}-"), account_id)

    def secret(self, what: str) -> str:
        """`candlefish/<env>/<what>`: a Secrets Manager secret."""
        return f"{PROJECT}/{self.environment}/{what}"

    def log_group(self, what: str) -> str:
        """`/candlefish/<env>/<what>`: a log group of the project's own (not one AWS names for a service)."""
        return f"/{PROJECT}/{self.environment}/{what}"

    def saved_query(self, key: str) -> str:
        """`candlefish-<env>/<key>`: a saved Logs Insights query, in the environment's folder."""
        return f"{self.prefix}/{key}"

    def kms_alias(self, purpose: str) -> str:
        return f"alias/{self.resource(purpose)}"

    @property
    def telemetry_cluster(self) -> str:
        """The `cluster` label Vault's telemetry carries, which the dashboards and alarms filter on."""
        return self.prefix

    @property
    def raft_join_tag(self) -> str:
        """The tag value Vault nodes find each other by (retry_join auto_join)."""
        return self.prefix

    @property
    def vault_node_role(self) -> str:
        """The Vault nodes' IAM role: fixed, so key and bucket policies can name it before it exists."""
        return self.resource("vault-node")

    @property
    def break_glass_role(self) -> str:
        """The role that may read the break-glass secret when no security-team role is configured."""
        return self.resource("break-glass")

    @property
    def break_glass_person_prefix(self) -> str:
        """`candlefish-<env>-bg-`: each break-glass person's role is this plus their name; the broker
        identifies its callers by it."""
        return self.resource("bg-")

    def break_glass_person_role(self, person: str) -> str:
        """The role one person assumes to reach the break-glass broker."""
        return f"{self.break_glass_person_prefix}{person}"

    @property
    def audit_metrics_namespace(self) -> str:
        """Where audit-derived metrics live; per environment, since metric filters cannot add dimensions."""
        return f"Candlefish/VaultAudit/{self.environment}"

    @property
    def signing_profile_prefix(self) -> str:
        """`candlefish_<env>_`: AWS Signer profile names allow letters, digits and underscores only."""
        return re.sub(r"[^A-Za-z0-9]", "_", f"{self.prefix}_")

    @staticmethod
    def lambda_log_group(function_name: str) -> str:
        """The log group Lambda writes a function's logs to (AWS fixes this name)."""
        return f"/aws/lambda/{function_name}"

    @staticmethod
    def firehose_log_group(stream_name: str) -> str:
        """The log group Firehose's console and docs expect a stream's delivery errors in."""
        return f"/aws/kinesisfirehose/{stream_name}"

    @staticmethod
    def dead_letter_queue(function_name: str) -> str:
        """The SQS queue an asynchronous function's failed events go to."""
        return f"{function_name}-dlq"

    @staticmethod
    def rds_log_group(instance_identifier: str, log: str) -> str:
        """The log group RDS exports one of an instance's logs to (AWS fixes this name)."""
        return f"/aws/rds/instance/{instance_identifier}/{log}"


@dataclass(frozen=True)
class Deployment:
    """One environment's deployment: built once in `__main__.py`, passed to every component."""

    environment: str
    production: bool
    aws: AwsContext
    vault_nodes: int
    """How many Vault nodes run: the configured cluster size, or 1 in dev mode (one in-memory server)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: StackConfig, aws: AwsContext) -> Deployment:
        """The context of a validated stack config, in the account/partition the deploying caller sees."""
        return cls(
            environment=config.environment,
            production=config.is_production,
            aws=aws,
            vault_nodes=1 if config.vault.dev_mode else config.vault.cluster_size,
            tags=config.tags,
        )

    @property
    def names(self) -> Names:
        return Names(self.environment)

    @property
    def region(self) -> str:
        return self.aws.region

    @property
    def recovery_window_days(self) -> int:
        """Days a deleted secret stays recoverable: AWS's longest in production, its shortest elsewhere."""
        return 30 if self.production else 7

    @property
    def deletion_protection(self) -> bool:
        """Whether stateful resources (load balancer, databases) refuse deletion and keep a final snapshot."""
        return self.production
