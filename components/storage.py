"""The buckets around the Vault cluster: audit logs, raft snapshots (optionally replicated to a DR region),
and the load balancer's access logs.

Every bucket is private (public access block, ACLs disabled), versioned, encrypted by default and TLS-only.
S3 rejects concurrent changes to one bucket's configuration ("A conflicting conditional operation is
currently in progress"), so each bucket's settings are applied one after another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.keys import key_policy_json
from components.lib import bucket_policies as policies
from components.lib.bucket_lifecycles import (
    Lifecycle,
    access_log_lifecycle,
    audit_lifecycle,
    snapshot_lifecycle,
)
from components.lib.component import Component
from components.lib.iam import assume_role_policy, to_json

SNAPSHOT_PREFIX = "raft-snapshots/"
ACCESS_LOG_PREFIX = "vault-alb"
Statements = Callable[[pulumi.Output[str]], Sequence[Any]]


@dataclass(frozen=True)
class StorageArgs:
    """What the buckets need: keys, the Vault nodes' role (denied deletion by name), and retention."""

    deployment: Deployment
    data_key_arn: pulumi.Input[str]
    vault_node_role_arn: pulumi.Input[str]
    compliance_lock: bool
    audit_object_lock_days: int
    backup_retention_days: int
    access_log_retention_days: int
    key_deletion_window_days: int = 30
    dr_region: str | None = None


@dataclass(frozen=True)
class ManagedBucket:
    """A bucket with the settings other resources may have to wait for."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    policy: aws.s3.BucketPolicy


class Storage(Component):
    """Audit-log, snapshot and access-log buckets; a replica snapshot bucket when a DR region is set."""

    audit: ManagedBucket
    snapshots: ManagedBucket
    access_logs: ManagedBucket
    replica: ManagedBucket | None = None
    replica_key: aws.kms.Key | None = None
    outputs: dict[str, pulumi.Output[Any]]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Storage", name, None, opts)
        self._base = name
        self._args = args
        ctx = args.deployment.aws

        def guarded(arn: pulumi.Output[str]) -> list[Any]:
            """TLS only, the data key only, and nothing the Vault nodes could delete or reconfigure."""
            return [
                policies.tls_only(arn),
                *policies.kms_only(arn, args.data_key_arn),
                policies.deny_tampering_by(args.vault_node_role_arn, arn),
            ]

        lock_mode = "COMPLIANCE" if args.compliance_lock else "GOVERNANCE"
        self.audit = self._bucket(
            "audit",
            kms_key_arn=args.data_key_arn,
            statements=guarded,
            lifecycle=audit_lifecycle(args.audit_object_lock_days),
            object_lock=(lock_mode, args.audit_object_lock_days),
        )
        self.snapshots = self._bucket(
            "snapshots",
            kms_key_arn=args.data_key_arn,
            statements=guarded,
            lifecycle=snapshot_lifecycle(args.backup_retention_days),
        )
        # ALB access logs support only SSE-S3, and need the regional ELB account (or, in regions opened
        # since August 2022, the log-delivery service principal) allowed to write under the prefix.
        elb_principal = self._elb_log_principal()
        self.access_logs = self._bucket(
            "alb-logs",
            kms_key_arn=None,
            statements=lambda arn: [
                policies.tls_only(arn),
                policies.elb_log_delivery(arn, ACCESS_LOG_PREFIX, ctx.account_id, elb_principal),
            ],
            lifecycle=access_log_lifecycle(args.access_log_retention_days),
        )
        if args.dr_region:
            self._replicate_snapshots(args.dr_region)

        self.outputs = {
            "auditBucketName": self.audit.bucket.bucket,
            "snapshotBucketName": self.snapshots.bucket.bucket,
            "accessLogBucketName": self.access_logs.bucket.bucket,
        }
        if self.replica is not None:
            self.outputs["snapshotReplicaBucketName"] = self.replica.bucket.bucket
        self.register_outputs(self.outputs)

    def _elb_log_principal(self) -> dict[str, Any]:
        region = self._args.deployment.aws.region
        if region in policies.ELB_SERVICE_PRINCIPAL_REGIONS:
            return {"Service": policies.ELB_LOG_DELIVERY_SERVICE}
        account = aws.elb.get_service_account_output(
            region=region, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        return {"AWS": account.arn}

    def _bucket(
        self,
        role: str,
        *,
        kms_key_arn: pulumi.Input[str] | None,
        statements: Statements,
        lifecycle: list[Lifecycle],
        object_lock: tuple[str, int] | None = None,
        region: str | None = None,
    ) -> ManagedBucket:
        """A private, versioned, encrypted bucket; SSE-KMS with a bucket key, or SSE-S3 without a key."""
        label = f"{self._base}-{role}"
        names = self._args.deployment.names
        bucket = aws.s3.Bucket(
            label,
            bucket=pulumi.Output.concat(names.resource(f"{role}-"), self._args.deployment.aws.account_id),
            # Object lock can only be turned on when a bucket is created (and S3 then requires versioning).
            object_lock_enabled=object_lock is not None,
            force_destroy=False,
            region=region,
            tags={"Name": names.resource(role), "DataClass": role},
            opts=pulumi.ResourceOptions(parent=self),
        )
        chain: list[pulumi.Resource] = []

        def after(previous: list[pulumi.Resource]) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=bucket, depends_on=previous[-1:])

        ownership = aws.s3.BucketOwnershipControls(
            f"{label}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            region=region,
            opts=after(chain),
        )
        chain.append(ownership)
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{label}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            region=region,
            opts=after(chain),
        )
        chain.append(public_access)
        policy = aws.s3.BucketPolicy(
            f"{label}-policy",
            bucket=bucket.id,
            policy=to_json(policies.bucket_policy(*statements(bucket.arn))),
            region=region,
            opts=after(chain),
        )
        chain.append(policy)
        versioning = aws.s3.BucketVersioning(
            f"{label}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            region=region,
            opts=after(chain),
        )
        chain.append(versioning)
        chain.append(self._encryption(label, bucket, kms_key_arn, region, after(chain)))
        if object_lock is not None:
            mode, days = object_lock
            chain.append(
                aws.s3.BucketObjectLockConfiguration(
                    f"{label}-object-lock",
                    bucket=bucket.id,
                    rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                        default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                            mode=mode, days=days
                        )
                    ),
                    region=region,
                    opts=after(chain),
                )
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{label}-lifecycle", bucket=bucket.id, rules=lifecycle, region=region, opts=after(chain)
        )
        return ManagedBucket(bucket=bucket, versioning=versioning, policy=policy)

    @staticmethod
    def _encryption(
        label: str,
        bucket: aws.s3.Bucket,
        kms_key_arn: pulumi.Input[str] | None,
        region: str | None,
        opts: pulumi.ResourceOptions,
    ) -> aws.s3.BucketServerSideEncryptionConfiguration:
        if kms_key_arn is None:
            default = (
                aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default
            )
        else:
            default = (
                aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                )
            )
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default,
                # A bucket key cuts KMS requests (and cost) by deriving object keys from one data key.
                bucket_key_enabled=True,
                # Customer-provided keys would put objects beyond the data key's policy and rotation.
                blocked_encryption_types=["SSE-C"],
            )
        return aws.s3.BucketServerSideEncryptionConfiguration(
            f"{label}-encryption", bucket=bucket.id, rules=[rule], region=region, opts=opts
        )

    def _replicate_snapshots(self, dr_region: str) -> None:
        """A replica bucket and key in `dr_region`, and the role S3 replicates SSE-KMS snapshots with."""
        args = self._args
        names = args.deployment.names
        dr_context = dataclasses.replace(args.deployment.aws, region=dr_region)
        self.replica_key = aws.kms.Key(
            f"{self._base}-replica-key",
            description=f"{names.prefix}: raft snapshot replicas in {dr_region}",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=key_policy_json("data", dr_context),
            region=dr_region,
            tags={"Name": names.resource("snapshot-replicas"), "KeyPurpose": "data", "Replica": "true"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{self._base}-replica-key-alias",
            name=names.kms_alias("snapshot-replicas"),
            target_key_id=self.replica_key.key_id,
            region=dr_region,
            opts=pulumi.ResourceOptions(parent=self.replica_key),
        )
        self.replica = self._bucket(
            "snapshots-dr",
            kms_key_arn=self.replica_key.arn,
            statements=lambda arn: [policies.tls_only(arn)],
            lifecycle=snapshot_lifecycle(args.backup_retention_days),
            region=dr_region,
        )
        source, replica = self.snapshots.bucket, self.replica.bucket
        role = aws.iam.Role(
            f"{self._base}-replication-role",
            description="Lets S3 replicate raft snapshots to the DR region",
            assume_role_policy=assume_role_policy(
                "s3.amazonaws.com",
                condition={
                    "StringEquals": {"aws:SourceAccount": args.deployment.aws.account_id},
                    "ArnLike": {"aws:SourceArn": source.arn},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._base}-replication-policy",
            role=role.id,
            policy=to_json(
                policies.replication_policy(
                    source_arn=source.arn,
                    destination_arn=replica.arn,
                    source_key_arn=args.data_key_arn,
                    replica_key_arn=self.replica_key.arn,
                    source_region=args.deployment.aws.region,
                    destination_region=dr_region,
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        # Replication needs versioning on both buckets first.
        aws.s3.BucketReplicationConfig(
            f"{self._base}-snapshots-replication",
            bucket=source.id,
            role=role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id="snapshots-to-dr",
                    status="Enabled",
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=SNAPSHOT_PREFIX),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Disabled"
                    ),
                    # SSE-KMS objects are only replicated when asked for, re-encrypted with a key there.
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=(
                            aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                status="Enabled"
                            )
                        )
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=replica.arn,
                        encryption_configuration=(
                            aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                                replica_kms_key_id=self.replica_key.arn
                            )
                        ),
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=source,
                depends_on=[self.snapshots.versioning, self.replica.versioning, role_policy],
            ),
        )
