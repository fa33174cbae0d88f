"""candlefish-secrets: read Candlefish secrets by reference, cached and rotation-aware.

Start with `SecretsClient.from_env()` and `client.get("vault://candlefish/mongodb/connection")`; the
quick start is in sdk/README.md.
"""

from candlefish_secrets.auth import AppRoleAuth, AwsIamAuth, TokenAuth
from candlefish_secrets.aws import Fallback
from candlefish_secrets.cache import CacheStats, RotationEvent, SecretCache
from candlefish_secrets.client import SecretsClient
from candlefish_secrets.errors import (
    AccessDenied,
    AuthenticationFailed,
    AwsUnavailable,
    ConfigurationError,
    InvalidReference,
    NotJson,
    RotationFailed,
    SecretNotFound,
    SecretsError,
    VaultUnavailable,
)
from candlefish_secrets.references import Reference, parse

__all__ = [
    "AccessDenied",
    "AppRoleAuth",
    "AuthenticationFailed",
    "AwsIamAuth",
    "AwsUnavailable",
    "CacheStats",
    "ConfigurationError",
    "Fallback",
    "InvalidReference",
    "NotJson",
    "Reference",
    "RotationEvent",
    "RotationFailed",
    "SecretCache",
    "SecretNotFound",
    "SecretsClient",
    "SecretsError",
    "TokenAuth",
    "VaultUnavailable",
    "parse",
]
