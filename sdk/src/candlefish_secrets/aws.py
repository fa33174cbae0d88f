"""AWS Secrets Manager reads, version checks, and where the catalog keeps the copy of a Vault secret.

The catalog names each secret `candlefish/<environment>/<name>` and tags it `VaultPath=<kv path>`. An
entry's KV path defaults to `candlefish/<name>`, so that path maps to its secret by name alone; other
paths are mapped explicitly (`names`) or found once by their `VaultPath` tag (needs
`secretsmanager:ListSecrets`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from candlefish_secrets.errors import (
    AccessDenied,
    AwsUnavailable,
    ConfigurationError,
    InvalidReference,
    SecretNotFound,
)

CATALOG_PREFIX = "candlefish"
_NOT_FOUND = {"ResourceNotFoundException"}
_DENIED = {"AccessDeniedException", "AccessDenied", "DecryptionFailure", "UnrecognizedClientException"}


@dataclass(frozen=True)
class SmRead:
    """One GetSecretValue answer: the string, its version id and when that version was created (epoch s)."""

    secret_string: str = field(repr=False)
    version_id: str
    created_epoch: float | None


class SecretsManagerReader:
    """A lazily created Secrets Manager client with short timeouts, and error translation."""

    def __init__(self, *, session: Any = None, region: str | None = None, client: Any = None) -> None:
        self._session = session
        self._region = region
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3  # noqa: PLC0415 - only applications that read aws-sm:// pay for boto3
                    from botocore.config import Config  # noqa: PLC0415

                    session = self._session or boto3.session.Session()
                    config = Config(
                        connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
                    )
                    self._client = session.client("secretsmanager", region_name=self._region, config=config)
        return self._client

    def _call(self, where: str, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code in _NOT_FOUND:
                raise SecretNotFound(f"{where}: not found ({message})") from None
            if code in _DENIED:
                raise AccessDenied(f"{where}: {code} ({message})") from None
            if code == "InvalidRequestException":
                raise SecretNotFound(f"{where}: {message}") from None
            raise AwsUnavailable(f"{where}: Secrets Manager answered {code or 'an error'}") from None
        except BotoCoreError as error:
            raise AwsUnavailable(f"{where}: Secrets Manager unreachable ({type(error).__name__})") from None

    def read(
        self, secret_id: str, *, stage: str | None = None, version_id: str | None = None, where: str = ""
    ) -> SmRead:
        """GetSecretValue for a stage (AWSCURRENT by default) or a version id."""
        where = where or f"aws-sm://{secret_id}"
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if version_id:
            kwargs["VersionId"] = version_id
        elif stage:
            kwargs["VersionStage"] = stage
        answer = self._call(where, "get_secret_value", **kwargs)
        if "SecretString" not in answer:
            raise InvalidReference(f"{where}: the secret holds binary data; references read strings only")
        created = answer.get("CreatedDate")
        return SmRead(
            str(answer["SecretString"]),
            str(answer.get("VersionId", "")),
            created.timestamp() if isinstance(created, datetime) else None,
        )

    def version_for_stage(self, secret_id: str, stage: str = "AWSCURRENT") -> str | None:
        """The version id holding `stage`, from DescribeSecret's `VersionIdsToStages` (no value is read)."""
        answer = self._call(f"aws-sm://{secret_id} (describe)", "describe_secret", SecretId=secret_id)
        for version, stages in (answer.get("VersionIdsToStages") or {}).items():
            if stage in stages:
                return str(version)
        return None

    def find_by_tag(self, prefix: str, key: str, value: str) -> str | None:
        """The name of the one secret under `prefix` tagged `key=value`, or None."""
        filters = [
            {"Key": "name", "Values": [prefix]},
            {"Key": "tag-key", "Values": [key]},
            {"Key": "tag-value", "Values": [value]},
        ]
        answer = self._call(f"secrets tagged {key}={value}", "list_secrets", Filters=filters, MaxResults=10)
        names = [
            str(entry["Name"])
            for entry in answer.get("SecretList", [])
            if str(entry.get("Name", "")).startswith(prefix)
            and {t.get("Key"): t.get("Value") for t in entry.get("Tags") or []}.get(key) == value
        ]
        return names[0] if len(names) == 1 else None


@dataclass(frozen=True)
class Fallback:
    """Opt-in: read the catalog's Secrets Manager copy of a `vault://` secret while Vault is unavailable.

    `names` maps a KV path to a catalog entry name (`mongodb`) or a full secret name or ARN.
    """

    environment: str
    names: Mapping[str, str] = field(default_factory=dict)
    discover_by_tag: bool = True

    def name_for(self, vault_path: str) -> str | None:
        """The secret id by mapping or naming convention alone (None when a tag lookup is needed)."""
        mapped = self.names.get(vault_path)
        if mapped:
            return mapped if "/" in mapped or mapped.startswith("arn:") else self.secret_name(mapped)
        head, _, rest = vault_path.partition("/")
        if head == CATALOG_PREFIX and rest and "/" not in rest:
            return self.secret_name(rest)
        return None

    def secret_name(self, entry_name: str) -> str:
        return f"{CATALOG_PREFIX}/{self.environment}/{entry_name}"

    @property
    def prefix(self) -> str:
        return f"{CATALOG_PREFIX}/{self.environment}/"


def parse_names(text: str) -> dict[str, str]:
    """`path=name,path=name` (CANDLEFISH_FALLBACK_NAMES) as a mapping; a malformed item is an error."""
    names: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        path, sep, name = item.partition("=")
        if not sep or not path.strip() or not name.strip():
            raise ConfigurationError(
                f"CANDLEFISH_FALLBACK_NAMES item {item!r} is not <kv path>=<catalog name or secret name>"
            )
        names[path.strip().strip("/")] = name.strip()
    return names
