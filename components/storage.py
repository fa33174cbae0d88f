"""The buckets around the Vault cluster: audit logs, raft snapshots (optionally replicated to a DR region),
the load balancer's access logs, and the server access logs of those three.

Every bucket is a `private_bucket` (components/private_bucket.py: private, versioned, encrypted by default,
its settings applied one after another); this module decides which buckets exist, what their policies
allow, how long they keep objects, and how the snapshots and audit log reach the DR region.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.audit_staging import (
    STAGING_DAYS,
    LockedDestination,
    ReplicatedRule,
    kms_replication_rule,
    replicate_audit_staging,
)
from components.deployment import Deployment
from components.keys import key_policy_json
from components.lib import bucket_policies as policies
from components.lib.bucket_lifecycles import (
    access_log_lifecycle,
    artifact_lifecycle,
    audit_lifecycle,
    snapshot_lifecycle,
    staging_lifecycle,
)
from components.lib.component import Component
from components.lib.iam import assume_role_policy, from_source, to_json
from components.private_bucket import ManagedBucket, private_bucket

SNAPSHOT_PREFIX = "raft-snapshots/"
ACCESS_LOG_PREFIX = "vault-alb"
# Server access logs of each bucket land under `<prefix><bucket role>/` in the server-access-log bucket.
SERVER_ACCESS_LOG_PREFIX = "s3-access/"
# Buckets whose every request is logged (same region and account as the log bucket, as S3 requires).
LOGGED_BUCKETS = ("audit", "snapshots", "alb-logs", "audit-staging")
# The tag that marks the load balancer's access-log bucket (policies/rules/settings.py reads the same).
ELB_LOG_BUCKET_TAG = ("BucketPurpose", "elb-access-logs")


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
    # A versioned bucket for Lambda packages and what AWS Signer signs (lambdaCodeSigning enforce/warn).
    function_artifacts: bool = False


class Storage(Component):
    """Audit-log, snapshot and access-log buckets; a replica snapshot bucket when a DR region is set."""

    audit: ManagedBucket
    audit_staging: ManagedBucket
    snapshots: ManagedBucket
    access_logs: ManagedBucket
    server_access_logs: ManagedBucket
    replica: ManagedBucket | None = None
    audit_replica: ManagedBucket | None = None
    artifacts: ManagedBucket | None = None
    replica_key: aws.kms.Key | None = None
    # The replication rules, as their S3 Replication metrics name them (monitoring alarms on failures).
    audit_replication: tuple[ReplicatedRule, ...] = ()
    snapshot_replication: tuple[ReplicatedRule, ...] = ()
    outputs: dict[str, pulumi.Output[Any]]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("candlefish:secrets:Storage", name, None, opts)
        self._base = name
        self._args = args
        # Every bucket is `<name>-<role>`, a child of this component.
        self._bucket = functools.partial(private_bucket, name, deployment=args.deployment, parent=self)
        ctx = args.deployment.aws

        def guarded(arn: pulumi.Output[str]) -> list[Any]:
            """TLS only, the data key only, and nothing the Vault nodes could delete or reconfigure."""
            return [
                policies.tls_only(arn),
                *policies.kms_only(arn, args.data_key_arn),
                policies.deny_tampering_by(args.vault_node_role_arn, arn),
            ]

        # S3 delivers server access logs only to a bucket encrypted with SSE-S3 (not SSE-KMS), in the same
        # account and region, granted to logging.s3.amazonaws.com by bucket policy (ACLs are disabled).
        # Its bucket names are derived, so the grant names the logged buckets before they exist.
        logged = [
            pulumi.Output.concat(
                "arn:", ctx.partition, ":s3:::", args.deployment.names.bucket(role, ctx.account_id)
            )
            for role in self._logged_roles()
        ]
        self.server_access_logs = self._bucket(
            "s3-access-logs",
            kms_key_arn=None,
            statements=lambda arn: [
                policies.tls_only(arn),
                policies.server_access_log_delivery(arn, SERVER_ACCESS_LOG_PREFIX, ctx.account_id, logged),
            ],
            lifecycle=access_log_lifecycle(args.access_log_retention_days),
        )
        lock_mode = "COMPLIANCE" if args.compliance_lock else "GOVERNANCE"
        self.audit = self._bucket(
            "audit",
            kms_key_arn=args.data_key_arn,
            statements=guarded,
            lifecycle=audit_lifecycle(args.audit_object_lock_days),
            object_lock=(lock_mode, args.audit_object_lock_days),
        )
        # Firehose writes here; S3 replication copies every object into the locked audit bucket(s).
        self.audit_staging = self._bucket(
            "audit-staging",
            kms_key_arn=args.data_key_arn,
            statements=guarded,
            lifecycle=staging_lifecycle(STAGING_DAYS),
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
            # The policy pack lets this bucket use SSE-S3 because its policy grants ELB log delivery; on
            # a first preview that policy is still unknown, and this tag is what the rule decides by.
            tags={ELB_LOG_BUCKET_TAG[0]: ELB_LOG_BUCKET_TAG[1]},
        )
        if args.function_artifacts:
            # Signer reads the uploaded version and writes the signed package here (same region as the
            # signing profile); Lambda deploys from it. No encryption-header conditions: AWS does not document
            # the headers Signer writes with; the bucket's default (SSE-KMS, data key) applies to all.
            self.artifacts = self._bucket(
                "artifacts",
                kms_key_arn=args.data_key_arn,
                statements=lambda arn: [
                    policies.tls_only(arn),
                    policies.deny_tampering_by(args.vault_node_role_arn, arn),
                ],
                lifecycle=artifact_lifecycle(),
            )
        managed_logged = (self.audit, self.snapshots, self.access_logs, self.audit_staging)
        for role, managed in zip(LOGGED_BUCKETS, managed_logged, strict=True):
            self._log_requests(role, managed)
        if self.artifacts is not None:
            self._log_requests("artifacts", self.artifacts)
        if args.dr_region:
            self._replicate_snapshots(args.dr_region)
        self._replicate_audit_staging(args.dr_region)

        self.outputs = {
            "auditBucketName": self.audit.bucket.bucket,
            "auditStagingBucketName": self.audit_staging.bucket.bucket,
            "snapshotBucketName": self.snapshots.bucket.bucket,
            "accessLogBucketName": self.access_logs.bucket.bucket,
            "serverAccessLogBucketName": self.server_access_logs.bucket.bucket,
        }
        if self.replica is not None:
            self.outputs["snapshotReplicaBucketName"] = self.replica.bucket.bucket
        if self.audit_replica is not None:
            self.outputs["auditReplicaBucketName"] = self.audit_replica.bucket.bucket
        if self.artifacts is not None:
            self.outputs["functionArtifactsBucketName"] = self.artifacts.bucket.bucket
        self.register_outputs(self.outputs)

    def _logged_roles(self) -> tuple[str, ...]:
        """The buckets whose requests are logged: the fixed ones, and the artifacts bucket if any."""
        return (*LOGGED_BUCKETS, "artifacts") if self._args.function_artifacts else LOGGED_BUCKETS

    def _log_requests(self, role: str, source: ManagedBucket) -> None:
        """Server access logging for `source`, once the log bucket's policy lets S3 deliver there."""
        aws.s3.BucketLogging(
            f"{self._base}-{role}-logging",
            bucket=source.bucket.id,
            target_bucket=self.server_access_logs.bucket.id,
            target_prefix=f"{SERVER_ACCESS_LOG_PREFIX}{role}/",
            opts=pulumi.ResourceOptions(
                parent=source.bucket, depends_on=[self.server_access_logs.policy, source.versioning]
            ),
        )

    def _elb_log_principal(self) -> dict[str, Any]:
        region = self._args.deployment.aws.region
        if region in policies.ELB_SERVICE_PRINCIPAL_REGIONS:
            return {"Service": policies.ELB_LOG_DELIVERY_SERVICE}
        account = aws.elb.get_service_account_output(
            region=region, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        return {"AWS": account.arn}

    def _replica_key(self, dr_region: str) -> aws.kms.Key:
        """One key in `dr_region` for every replica bucket."""
        args = self._args
        names = args.deployment.names
        dr_context = dataclasses.replace(args.deployment.aws, region=dr_region)
        key = aws.kms.Key(
            f"{self._base}-replica-key",
            description=f"{names.prefix}: raft snapshot and audit-log replicas in {dr_region}",
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
            target_key_id=key.key_id,
            region=dr_region,
            opts=pulumi.ResourceOptions(parent=key),
        )
        return key

    def _replicate_snapshots(self, dr_region: str) -> None:
        """Replica buckets in `dr_region` for the snapshots and the audit log, under a key there.

        The audit replica is object-locked like its source (S3 replicates an object's retention only into
        a bucket with object lock enabled), so the DR copy of the evidence is as immutable as the original.
        """
        args = self._args
        self.replica_key = self._replica_key(dr_region)
        lock_mode = "COMPLIANCE" if args.compliance_lock else "GOVERNANCE"
        self.replica = self._bucket(
            "snapshots-dr",
            kms_key_arn=self.replica_key.arn,
            statements=lambda arn: [policies.tls_only(arn)],
            lifecycle=snapshot_lifecycle(args.backup_retention_days),
            region=dr_region,
        )
        self.audit_replica = self._bucket(
            "audit-dr",
            kms_key_arn=self.replica_key.arn,
            statements=lambda arn: [policies.tls_only(arn)],
            lifecycle=audit_lifecycle(args.audit_object_lock_days),
            object_lock=(lock_mode, args.audit_object_lock_days),
            region=dr_region,
        )
        key = self.replica_key
        self.snapshot_replication = (
            self._replicate(
                "snapshots", self.snapshots, self.replica, SNAPSHOT_PREFIX, dr_region=dr_region, key=key
            ),
        )
        # The audit replica is filled from the staging bucket (components/audit_staging.py).

    def _replicate_audit_staging(self, dr_region: str | None) -> None:
        """Staged audit objects into the locked audit bucket here and, with a DR region, the replica there."""
        args = self._args
        region = args.deployment.aws.region
        destinations = [
            LockedDestination("audit", self.audit.bucket, self.audit.versioning, args.data_key_arn, region)
        ]
        if dr_region and self.audit_replica is not None and self.replica_key is not None:
            replica = self.audit_replica
            destinations.append(
                LockedDestination(
                    "audit-dr", replica.bucket, replica.versioning, self.replica_key.arn, dr_region
                )
            )
        self.audit_replication = replicate_audit_staging(
            f"{self._base}-audit-staging-replication",
            staging=self.audit_staging.bucket,
            staging_versioning=self.audit_staging.versioning,
            staging_key_arn=args.data_key_arn,
            region=region,
            account_id=args.deployment.aws.account_id,
            destinations=destinations,
            parent=self,
        )

    def _replicate(
        self,
        role_name: str,
        source_bucket: ManagedBucket,
        replica_bucket: ManagedBucket,
        prefix: str,
        *,
        dr_region: str,
        key: aws.kms.Key,
    ) -> ReplicatedRule:
        """The role S3 replicates SSE-KMS objects of `source_bucket` with, and the replication rule."""
        args = self._args
        source, replica = source_bucket.bucket, replica_bucket.bucket
        # The snapshot role keeps its original name so existing stacks do not replace it.
        base = (
            f"{self._base}-replication"
            if role_name == "snapshots"
            else f"{self._base}-{role_name}-replication"
        )
        role = aws.iam.Role(
            f"{base}-role",
            description=f"Lets S3 replicate the {role_name} bucket to the DR region",
            assume_role_policy=assume_role_policy(
                "s3.amazonaws.com",
                condition=from_source(args.deployment.aws.account_id, source.arn),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{base}-policy",
            role=role.id,
            policy=to_json(
                policies.replication_policy(
                    source_arn=source.arn,
                    destination_arn=replica.arn,
                    source_key_arn=args.data_key_arn,
                    replica_key_arn=key.arn,
                    source_region=args.deployment.aws.region,
                    destination_region=dr_region,
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        rule_id = f"{role_name}-to-dr"
        # Replication needs versioning on both buckets first.
        aws.s3.BucketReplicationConfig(
            f"{self._base}-{role_name}-replication",
            bucket=source.id,
            role=role.arn,
            rules=[
                kms_replication_rule(
                    rule_id, prefix=prefix, destination_arn=replica.arn, replica_key_arn=key.arn
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=source,
                depends_on=[source_bucket.versioning, replica_bucket.versioning, role_policy],
            ),
        )
        return ReplicatedRule(source.bucket, replica.bucket, rule_id)
