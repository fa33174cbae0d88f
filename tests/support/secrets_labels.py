"""Secrets Manager's staging-label rule on PutSecretValue, which moto's server does not follow.

AWS moves only AWSCURRENT (to the new version) and AWSPREVIOUS (to the version that was current) when a
value is put; any other label stays on its version until someone moves or removes it. moto instead
replaces all labels of the version that was current with AWSPREVIOUS, so a custom label (the bootstrap's
init marker, `CANDLEFISH_INIT_PENDING`) disappears by itself and code that must remove it is never tested.
`keep_custom_labels(client)` puts such labels back after each PutSecretValue, as AWS would have kept them.
"""

from __future__ import annotations

from typing import Any

AWS_LABELS = ("AWSCURRENT", "AWSPREVIOUS", "AWSPENDING")


def _custom(client: Any, secret_id: str) -> dict[str, list[str]]:
    stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
    return {
        version: [label for label in labels if label not in AWS_LABELS] for version, labels in stages.items()
    }


def keep_custom_labels(client: Any) -> Any:
    """`client` (a boto3 Secrets Manager client talking to moto), keeping custom labels as AWS does."""
    before: dict[str, dict[str, list[str]]] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        secret_id = str(params["SecretId"])
        before[secret_id] = _custom(client, secret_id)

    def restore(model: Any, context: Any, **_: Any) -> None:
        for secret_id, labels in list(before.items()):
            del before[secret_id]
            now = _custom(client, secret_id)
            for version, kept in labels.items():
                for label in kept:
                    if label not in now.get(version, []):
                        client.update_secret_version_stage(
                            SecretId=secret_id, VersionStage=label, MoveToVersionId=version
                        )

    client.meta.events.register("provide-client-params.secrets-manager.PutSecretValue", remember)
    client.meta.events.register("after-call.secrets-manager.PutSecretValue", restore)
    return client
