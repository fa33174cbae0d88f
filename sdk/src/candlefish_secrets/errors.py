"""The SDK's typed errors.

Every error names what failed (a reference, a path, a setting) and never the secret value: messages are
built only from references, paths, HTTP statuses and the servers' error texts, and exceptions raised while
a value was in hand are raised `from None` so no chained exception can carry it into a traceback.
"""

from __future__ import annotations


class SecretsError(Exception):
    """Base class of every error the SDK raises. `exit_code` is what the CLI exits with for it."""

    exit_code = 1

    def __init__(self, message: str, *, reference: str | None = None) -> None:
        super().__init__(message)
        self.reference = reference


class InvalidReference(SecretsError, ValueError):
    """A `vault://` or `aws-sm://` reference that cannot be parsed, or a field the secret does not have."""

    exit_code = 2


class ConfigurationError(SecretsError, ValueError):
    """A setting (argument or environment variable) is missing or not allowed."""

    exit_code = 2


class SecretNotFound(SecretsError):
    """No secret (or no such version, stage or field) at the reference."""

    exit_code = 4


class AccessDenied(SecretsError):
    """The caller is authenticated but not allowed to read the secret."""

    exit_code = 5


class AuthenticationFailed(AccessDenied):
    """Logging in to Vault failed (bad credentials, an unwrapped or expired secret id, an unbound role)."""


class VaultUnavailable(SecretsError):
    """Vault could not be reached, is sealed, is in standby without a leader, or timed out."""

    exit_code = 6


class AwsUnavailable(SecretsError):
    """AWS Secrets Manager could not be reached or throttled the call past its retries."""

    exit_code = 6


class RotationFailed(SecretsError):
    """A manual rotation could not be started or did not finish in time."""

    exit_code = 1


class NotJson(SecretsError, ValueError):
    """`get_json` on a value that is not a JSON document (the value itself is not repeated)."""

    exit_code = 2
