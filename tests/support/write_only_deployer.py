"""A deployer's Secrets Manager client that AWS would refuse what the write-only shares policies deny.

moto's server stores secrets faithfully but enforces neither resource policies nor KMS key policies, so
for the write-only recovery shares (components/vault/recovery_shares.py) this client, talking to moto,
refuses what AWS would refuse the deployer on the break-glass secret:

- GetSecretValue (the resource policy's explicit Deny);
- a PutSecretValue repeating a version's ClientRequestToken: Secrets Manager would decrypt that version to
  compare the values, and the key denies the deployer kms:Decrypt.

Everything else reaches moto unchanged. `calls` records (operation, SecretId) of every call, so a test can
show the provider never even tried a read. `fail_after` makes a named operation's answer get lost after
moto has done it (the request landed, the caller sees a connection error), and `refuse_puts_to` refuses
every PutSecretValue to another secret (to make the resume copy fail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from providers import common

DENIED = "AccessDeniedException"


def _denied(operation: str, why: str) -> ClientError:
    return ClientError({"Error": {"Code": DENIED, "Message": why}}, operation)


@dataclass
class WriteOnlyDeployer:
    """Builds the provider's clients (`factory`, for `providers.break_glass.client`) and records them."""

    shares_secret: str
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_after: dict[str, int] = field(default_factory=dict)  # operation -> answers still to lose
    refuse_puts_to: str = ""
    _tokens: set[str] = field(default_factory=set)

    def _check(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation, secret = model.name, str(params.get("SecretId", ""))
        self.calls.append((operation, secret))
        if secret == self.shares_secret and operation == "GetSecretValue":
            raise _denied(operation, "explicit deny in a resource-based policy (write-only shares)")
        if operation == "PutSecretValue":
            if secret == self.refuse_puts_to:
                raise _denied(operation, "explicit deny in a resource-based policy")
            token = str(params.get("ClientRequestToken", ""))
            if secret == self.shares_secret and token in self._tokens:
                raise _denied(operation, "kms:Decrypt denied: comparing with the existing version")
            self._tokens.add(token)

    def _lose(self, model: Any, **_: Any) -> None:
        if self.fail_after.get(model.name, 0) > 0:
            self.fail_after[model.name] -= 1
            raise EndpointConnectionError(endpoint_url="the moto server (answer dropped by the test)")

    def factory(self) -> Callable[[str], Any]:
        def client(region: str) -> Any:
            made = common.aws_client(
                "secretsmanager", region, retries={"mode": "standard", "max_attempts": 1}
            )
            made.meta.events.register("provide-client-params.secrets-manager", self._check)
            made.meta.events.register("after-call.secrets-manager", self._lose)
            return made

        return client

    def operations_on(self, secret: str) -> list[str]:
        return [operation for operation, target in self.calls if target == secret]
