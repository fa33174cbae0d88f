"""Secrets Manager rotation for the catalog: the four-step protocol, with Vault KV kept in step.

Secrets Manager calls this function with `Step` = createSecret, setSecret, testSecret, finishSecret and
the version's `ClientRequestToken`. Every step is idempotent on that token, and the new value stays
staged as AWSPENDING until finishSecret makes it AWSCURRENT, so readers never see a half-rotated secret.

- Generated entries (tag `Source=generate`): createSecret makes a new value in the entry's `ValueFormat`;
  setSecret writes it to the entry's Vault KV path (check-and-set against the version it read);
  testSecret reads it back from Vault; finishSecret moves AWSCURRENT. Both stores end on the same value.
- Externally issued entries (`Source=config`, e.g. a MongoDB Atlas URI): the function cannot mint a new
  credential, so it does not pretend to. It publishes a rotation-due notice to the alerts topic, records
  the `ManualRotationDue` metric, tags the secret `RotationStatus=manual-rotation-required`, and leaves
  the current value in place.
- The Redis AUTH token (tag `RotationTarget=elasticache-auth-token`, served by its own function whose role
  may change that one replication group): `lambdas/rotation/redis_auth.py`.

Every log line is one JSON object (`event`, `secret`, `step`, ...) and never contains a secret value.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from lambdas.rotation import METRIC_NAMESPACE, redis_auth
from lambdas.rotation.values import new_value
from lambdas.rotation.vault import VaultClient, VaultError

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
VALUE_KEY = "value"


class RotationError(RuntimeError):
    """A rotation step could not complete; Secrets Manager keeps AWSCURRENT unchanged."""


def log(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True))


@dataclass(frozen=True)
class Entry:
    """The catalog entry a secret belongs to, read from the secret's tags."""

    name: str
    source: str
    value_format: str
    vault_path: str
    owner: str

    @classmethod
    def from_tags(cls, name: str, tags: list[dict[str, str]]) -> Entry:
        values = {tag["Key"]: tag["Value"] for tag in tags}
        missing = [key for key in ("Source", "VaultPath") if not values.get(key)]
        if missing:
            raise RotationError(
                f"secret {name} lacks the catalog tags {', '.join(missing)}; cannot rotate it"
            )
        return cls(
            name=name,
            source=values["Source"],
            value_format=values.get("ValueFormat", "chars-64"),
            vault_path=values["VaultPath"],
            owner=values.get("Owner", ""),
        )


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in STEPS:
        raise RotationError(f"unknown rotation step {step!r}")
    secrets_manager = boto3.client("secretsmanager")
    described = secrets_manager.describe_secret(SecretId=arn)
    name = described["Name"]
    try:
        if not described.get("RotationEnabled"):
            raise RotationError(f"secret {name} does not have rotation enabled")
        stages = (described.get("VersionIdsToStages") or {}).get(token)
        if stages is None:
            raise RotationError(f"version {token} of {name} is not staged for rotation")
        if "AWSCURRENT" in stages:
            log("rotation_step_skipped", secret=name, step=step, reason="version already current")
            return
        if "AWSPENDING" not in stages:
            raise RotationError(f"version {token} of {name} is not AWSPENDING")
        tags = described.get("Tags") or []
        if redis_auth.tag_value(tags, "RotationTarget") == redis_auth.TARGET:
            redis_auth.RedisAuthRotation(
                secrets_manager,
                boto3.client("elasticache"),
                arn,
                token,
                group_id=redis_auth.tag_value(tags, "ReplicationGroupId"),
                remaining_ms=getattr(context, "get_remaining_time_in_millis", None),
            ).run(step)
        else:
            Rotation(secrets_manager, arn, token, Entry.from_tags(name, tags)).run(step)
    except Exception as error:
        log("rotation_failed", secret=name, step=step, error=type(error).__name__, detail=str(error)[:300])
        raise
    log("rotation_step_ok", secret=name, step=step)


class Rotation:
    """One rotation of one secret, step by step."""

    def __init__(self, secrets_manager: Any, arn: str, token: str, entry: Entry) -> None:
        self.sm = secrets_manager
        self.arn = arn
        self.token = token
        self.entry = entry

    def run(self, step: str) -> None:
        if self.entry.source == "config":
            if step == "createSecret":
                self.announce_manual_rotation()
            elif step == "finishSecret":
                # Nothing new was staged: release AWSPENDING so the next scheduled rotation can start.
                self.sm.update_secret_version_stage(
                    SecretId=self.arn, VersionStage="AWSPENDING", RemoveFromVersionId=self.token
                )
            return
        {
            "createSecret": self.create,
            "setSecret": self.set,
            "testSecret": self.test,
            "finishSecret": self.finish,
        }[step]()

    def pending_value(self) -> str | None:
        try:
            answer = self.sm.get_secret_value(
                SecretId=self.arn, VersionId=self.token, VersionStage="AWSPENDING"
            )
        except self.sm.exceptions.ResourceNotFoundException:
            return None
        return str(answer["SecretString"])

    def create(self) -> None:
        if self.pending_value() is not None:
            return  # a retried createSecret: the pending value already exists
        self.sm.put_secret_value(
            SecretId=self.arn,
            ClientRequestToken=self.token,
            SecretString=new_value(self.entry.value_format),
            VersionStages=["AWSPENDING"],
        )

    def set(self) -> None:
        value = self._require_pending()
        vault, mount, path = self._vault()
        current = vault.kv_read(mount, path)
        if current is not None and current[0].get(VALUE_KEY) == value:
            return  # a retried setSecret: Vault already has the pending value
        version = vault.kv_current_version(mount, path)
        try:
            vault.kv_write(mount, path, {VALUE_KEY: value}, cas=version)
        except VaultError as error:
            if error.status == 400 and "check-and-set" in str(error):
                raise RotationError(
                    f"{mount}/{path} changed while rotating; Secrets Manager will retry"
                ) from None
            raise
        vault.kv_merge_metadata(mount, path, {"rotated_by": "secrets-manager", "sm_version": self.token})

    def test(self) -> None:
        value = self.pending_value()
        if value is None:
            # Secrets Manager checks a new rotation schedule (rotate_immediately false) by calling testSecret
            # on a pending version that holds no value yet: there is nothing to compare.
            log("rotation_test_skipped", secret=self.entry.name, reason="no pending value to test")
            return
        vault, mount, path = self._vault()
        current = vault.kv_read(mount, path)
        if current is None or current[0].get(VALUE_KEY) != value:
            raise RotationError(
                f"{mount}/{path} does not hold the pending value; Vault and Secrets Manager differ"
            )

    def finish(self) -> None:
        described = self.sm.describe_secret(SecretId=self.arn)
        current = next(
            (
                version
                for version, stages in described["VersionIdsToStages"].items()
                if "AWSCURRENT" in stages
            ),
            None,
        )
        if current == self.token:
            return
        self.sm.update_secret_version_stage(
            SecretId=self.arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=self.token,
            RemoveFromVersionId=current,
        )
        self.sm.untag_resource(SecretId=self.arn, TagKeys=["RotationStatus"])

    def announce_manual_rotation(self) -> None:
        """Externally issued credentials: say rotation is due, record it, and change nothing."""
        message = (
            f"Secret {self.entry.name} (owner {self.entry.owner or 'unknown'}) is due for rotation. It is "
            "issued outside this platform, so it must be rotated by hand: issue a new credential at its "
            "provider, store it with `pulumi config set --secret`, and bump the entry's reseed trigger."
        )
        topic = os.environ.get("ALERTS_TOPIC_ARN", "")
        if topic:
            boto3.client("sns").publish(
                TopicArn=topic, Subject=f"Manual rotation due: {self.entry.name}"[:100], Message=message
            )
        boto3.client("cloudwatch").put_metric_data(
            Namespace=METRIC_NAMESPACE,
            MetricData=[
                {
                    "MetricName": "ManualRotationDue",
                    "Value": 1,
                    "Unit": "Count",
                    "Dimensions": [{"Name": "Secret", "Value": self.entry.name}],
                },
            ],
        )
        self.sm.tag_resource(
            SecretId=self.arn, Tags=[{"Key": "RotationStatus", "Value": "manual-rotation-required"}]
        )
        log("manual_rotation_due", secret=self.entry.name, owner=self.entry.owner)

    def _require_pending(self) -> str:
        value = self.pending_value()
        if value is None:
            raise RotationError(f"{self.entry.name} has no AWSPENDING value for version {self.token}")
        return value

    def _vault(self) -> tuple[VaultClient, str, str]:
        address = os.environ["VAULT_ADDR"]
        vault = VaultClient(address=address, ca_pem=os.environ.get("VAULT_CA_PEM", ""))
        session = boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise RotationError("no AWS credentials to sign the Vault login with")
        region = session.region_name or os.environ.get("AWS_REGION", "us-east-1")
        vault.login_aws(
            os.environ.get("VAULT_AUTH_ROLE", "rotation"),
            region,
            credentials.get_frozen_credentials(),
            os.environ.get("VAULT_IAM_SERVER_ID", ""),
        )
        mount = os.environ.get("VAULT_KV_MOUNT", "secret")
        return vault, mount, self.entry.vault_path
