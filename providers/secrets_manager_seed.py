"""`SecretsManagerSeed`: put a catalog entry's first value into its Secrets Manager secret, once.

Create writes the value with `PutSecretValue` and a ClientRequestToken derived from the secret and the
reseed trigger, so a retried create is idempotent. After that, `pulumi up` never writes again: rotation
owns the value. Only a changed `reseed` trigger overwrites, and only on purpose. State keeps the value's
SHA-256 fingerprint and the version id, never the value; `read` (pulumi refresh) reports drift.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from providers.common import (
    AWS_RETRIES,
    AWS_UNREACHABLE,
    SeedError,
    aws_client,
    aws_error_code,
    fingerprint,
    plain,
    request_token,
    scheduled_for_deletion,
)

RETRIES = AWS_RETRIES


def _client(region: str) -> Any:
    return aws_client("secretsmanager", region, retries=RETRIES)


def _explain(error: Exception, secret_id: str) -> SeedError:
    """Turn a boto error into a message that says what to do."""
    code = aws_error_code(error)
    if code == "ResourceNotFoundException":
        return SeedError(f"secret {secret_id} does not exist; run `pulumi up` again once it has been created")
    if scheduled_for_deletion(error):
        return SeedError(
            f"secret {secret_id} is scheduled for deletion; restore it with "
            f"`aws secretsmanager restore-secret --secret-id {secret_id}` or wait out its recovery window"
        )
    if code in {"AccessDeniedException", "AccessDenied"}:
        return SeedError(
            f"not allowed to write secret {secret_id}: the deployer role needs "
            "secretsmanager:PutSecretValue on it and kms:GenerateDataKey on the secrets key"
        )
    if code in {"ThrottlingException", "TooManyRequestsException"}:
        return SeedError(f"Secrets Manager kept throttling writes to {secret_id}; re-run `pulumi up`")
    if code == "ResourceExistsException":
        return SeedError(
            f"secret {secret_id} already holds a different value under this seed's request token; "
            "change the entry's `reseed` trigger to overwrite it deliberately"
        )
    name = type(error).__name__
    if name in AWS_UNREACHABLE:
        return SeedError(
            f"could not reach Secrets Manager for {secret_id} ({name}); nothing was written, re-run"
        )
    return SeedError(f"seeding {secret_id} failed: {code or name}")


class SecretsManagerSeedProvider(ResourceProvider):
    """CRUD for a seed. Holds no clients: each call makes its own (the provider is pickled)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        secret_id, region, reseed = props["secret_id"], props["region"], props.get("reseed", "")
        value = plain(props["value"])
        client = _client(region)
        try:
            outs = self._seed(client, secret_id, region, value, reseed, adopt_equal=True)
        except SeedError:
            raise
        except Exception as error:
            raise _explain(error, secret_id) from None
        return CreateResult(id_=secret_id, outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("secret_id", "region") if olds.get(key) != news.get(key)]
        # A new value alone never overwrites what rotation may have changed; only a new trigger does.
        changes = bool(replaces) or olds.get("reseed", "") != news.get("reseed", "")
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        secret_id, region = news["secret_id"], news["region"]
        client = _client(region)
        try:
            outs = self._seed(
                client, secret_id, region, plain(news["value"]), news.get("reseed", ""), adopt_equal=False
            )
        except SeedError:
            raise
        except Exception as error:
            raise _explain(error, secret_id) from None
        return UpdateResult(outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report the live state; never writes. Drift is described in `drift`, not corrected."""
        client = _client(props["region"])
        outs = dict(props)
        outs.pop("value", None)
        try:
            current = client.get_secret_value(SecretId=id_, VersionStage="AWSCURRENT")
        except Exception as error:
            code = aws_error_code(error)
            if code == "ResourceNotFoundException":
                outs["drift"] = "secret deleted outside Pulumi"
                return ReadResult(id_=id_, outs=outs)
            if code == "InvalidRequestException":
                outs["drift"] = "secret is scheduled for deletion"
                return ReadResult(id_=id_, outs=outs)
            raise _explain(error, id_) from None
        live = fingerprint(current.get("SecretString", ""))
        outs["drift"] = (
            "" if live == props.get("fingerprint") else "value changed outside this seed (rotated?)"
        )
        outs["current_version_id"] = current.get("VersionId", "")
        return ReadResult(id_=id_, outs=outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the secret resource itself goes to its recovery window when it is deleted."""

    @staticmethod
    def _seed(
        client: Any, secret_id: str, region: str, value: str, reseed: str, *, adopt_equal: bool
    ) -> dict[str, Any]:
        described = client.describe_secret(SecretId=secret_id)
        if described.get("DeletedDate"):
            raise SeedError(
                f"secret {secret_id} is scheduled for deletion; restore it with "
                f"`aws secretsmanager restore-secret --secret-id {secret_id}` or wait out its recovery window"
            )
        wanted = fingerprint(value)
        has_current = any(
            "AWSCURRENT" in stages for stages in (described.get("VersionIdsToStages") or {}).values()
        )
        if has_current and adopt_equal:
            current = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
            if fingerprint(current.get("SecretString", "")) == wanted:
                # Seeded before (perhaps by a run that failed to record it): adopt, do not write again.
                return _outs(secret_id, region, reseed, wanted, current["VersionId"])
            raise SeedError(
                f"secret {secret_id} already holds a different value (set outside Pulumi, or rotated); "
                "it was left unchanged. Import it as-is by changing nothing, or overwrite it on purpose by "
                "changing the entry's `reseed` trigger"
            )
        token = request_token(secret_id, reseed)
        written = client.put_secret_value(SecretId=secret_id, SecretString=value, ClientRequestToken=token)
        return _outs(secret_id, region, reseed, wanted, written["VersionId"])


def _outs(
    secret_id: str, region: str, reseed: str, value_fingerprint: str, version_id: str
) -> dict[str, Any]:
    """State: what refresh and delete need (they get the state alone), the fingerprint, never the value."""
    return {
        "secret_id": secret_id,
        "region": region,
        "reseed": reseed,
        "fingerprint": value_fingerprint,
        "version_id": version_id,
        "drift": "",
    }


class SecretsManagerSeed(pulumi.dynamic.Resource, module="candlefish", name="SecretsManagerSeed"):
    """Seeds a Secrets Manager secret once with `value` (a Pulumi secret)."""

    fingerprint: pulumi.Output[str]
    version_id: pulumi.Output[str]
    drift: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        secret_id: pulumi.Input[str],
        value: pulumi.Input[str],
        region: str,
        reseed: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "secret_id": secret_id,
            "value": pulumi.Output.secret(value),
            "region": region,
            "reseed": reseed,
            "fingerprint": None,
            "version_id": None,
            "drift": None,
        }
        super().__init__(SecretsManagerSeedProvider(), name, props, opts)
