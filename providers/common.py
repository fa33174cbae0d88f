"""Helpers shared by the dynamic providers: fingerprints, deterministic tokens, clients, clear errors.

Clients are built per call from plain inputs (providers are pickled and hold none): `vault_client` for
hvac with a retrying, timed-out session that trusts only the cluster's CA, `aws_client` for boto3 with
adaptive retries and timeouts.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
import uuid
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

# Names the idempotency tokens: uuid5(SEED_NAMESPACE, "<secret>|<reseed>") is the same on every run.
SEED_NAMESPACE = uuid.UUID("8b0d6c55-2f8e-4d6a-9a57-3c1f0e7a1d42")
# Vault answers 412 from a performance standby not yet caught up, 429/5xx while overloaded or sealed.
VAULT_RETRY_STATUSES = (412, 429, 500, 502, 503, 504)
# AWS calls back off adaptively (throttling) and never hang.
AWS_RETRIES: dict[str, Any] = {"mode": "adaptive", "max_attempts": 8}
AWS_CONNECT_TIMEOUT_S = 5
AWS_READ_TIMEOUT_S = 20


class SeedError(RuntimeError):
    """A seeding step failed; the message says what happened and what to do next."""


class BootstrapError(RuntimeError):
    """A Vault bootstrap step failed; the message says what happened and what to do next."""


def fingerprint(value: str) -> str:
    """SHA-256 of a secret value: what state keeps instead of the value."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def request_token(secret_id: str, reseed: str) -> str:
    """A ClientRequestToken that repeats exactly for the same secret and reseed trigger."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{secret_id}|{reseed}"))


def plain(value: Any) -> Any:
    """Unwrap a Pulumi secret marker if the engine sent one; the providers never log or return values."""
    return rpc.unwrap_rpc_secret(value)


@contextlib.contextmanager
def vault_client(
    address: str,
    ca_pem: str,
    token: str | None,
    *,
    timeout: float,
    retry_total: int,
    backoff: float,
    retry_methods: Collection[str] | None = None,
) -> Iterator[Any]:
    """An hvac client for `address`, trusting only `ca_pem` (when given), with retries and timeouts.

    `retry_methods=None` retries every method (for idempotent writes); pass e.g. `("GET",)` for a client
    whose writes must never be repeated (`sys/init`: a repeat after a lost answer loses the keys).
    """
    import hvac  # noqa: PLC0415 - imported in the provider host, not when the program loads
    import requests  # noqa: PLC0415
    from requests.adapters import HTTPAdapter  # noqa: PLC0415
    from urllib3.util.retry import Retry  # noqa: PLC0415

    retry = Retry(
        total=retry_total,
        backoff_factor=backoff,
        status_forcelist=VAULT_RETRY_STATUSES,
        allowed_methods=frozenset(retry_methods) if retry_methods is not None else None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    with tempfile.TemporaryDirectory() as scratch:
        verify: str | bool = True
        if ca_pem:
            ca_file = Path(scratch) / "vault-ca.pem"
            ca_file.write_text(ca_pem)
            verify = str(ca_file)
        client = hvac.Client(url=address, token=token, verify=verify, timeout=timeout, session=session)
        try:
            yield client
        finally:
            session.close()


def timed_out(error: Exception) -> bool:
    """requests reports a read timeout that exhausted urllib3's retries as a ConnectionError; find it."""
    import requests  # noqa: PLC0415
    from urllib3.exceptions import NewConnectionError  # noqa: PLC0415
    from urllib3.exceptions import TimeoutError as Urllib3Timeout  # noqa: PLC0415

    if isinstance(error, requests.exceptions.Timeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    # urllib3 files a refused connection under its timeouts too; that one is "unreachable", not slow.
    return isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError)


def aws_client(
    service: str,
    region: str,
    *,
    retries: dict[str, Any] | None = None,
    connect_timeout: float = AWS_CONNECT_TIMEOUT_S,
    read_timeout: float = AWS_READ_TIMEOUT_S,
) -> Any:
    """A boto3 client with explicit retries and timeouts (credentials from the usual chain)."""
    import boto3  # noqa: PLC0415 - imported in the provider host, not when the program loads
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries=retries or AWS_RETRIES, connect_timeout=connect_timeout, read_timeout=read_timeout
    )
    return boto3.client(service, region_name=region, config=config)


def aws_error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def scheduled_for_deletion(error: Exception) -> bool:
    """Secrets Manager refused the call because the secret is scheduled for deletion.

    AWS words it "marked for deletion" or "currently marked deleted" depending on the operation.
    """
    return aws_error_code(error) == "InvalidRequestException" and bool(
        re.search(r"marked (for )?delet", str(error), re.IGNORECASE)
    )


AWS_UNREACHABLE = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
)


def explain_vault_error(
    error: Exception, *, address: str, doing: str, timeout: float, note: str = ""
) -> str | None:
    """The usual ways a call to Vault fails, as an instruction; None for anything else.

    `doing` completes "to ..." / "may not ..." (e.g. "write secret/x"); `note` is added where it helps the
    reader decide, e.g. "nothing was written".
    """
    import hvac.exceptions as vault_errors  # noqa: PLC0415 - imported in the provider host only
    import requests  # noqa: PLC0415

    after = f" ({note})" if note else ""
    if isinstance(error, vault_errors.VaultDown):
        return (
            f"Vault at {address} is sealed or unavailable (503) while trying to {doing}; unseal it or wait "
            f"for a leader, then re-run `pulumi up`{after}"
        )
    if isinstance(error, vault_errors.Forbidden):
        url = str(getattr(error, "url", "") or "")
        refused = (
            f"{str(getattr(error, 'method', '') or '').upper()} {url.partition('/v1/')[2] or url}".strip()
        )
        return (
            f"the provisioner token may not {doing} (403 permission denied); Vault refused {refused}: check "
            "the provisioner policy or re-run the bootstrap to issue a fresh token"
        )
    if isinstance(error, vault_errors.RateLimitExceeded):
        return f"Vault kept rate-limiting requests to {doing} (429); re-run `pulumi up`"
    if timed_out(error):
        return f"Vault at {address} did not answer in {timeout}s to {doing}; re-run"
    if isinstance(error, requests.exceptions.SSLError):
        return f"Vault at {address} presented a certificate the cluster CA does not sign ({doing})"
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"could not reach Vault at {address} to {doing}{after}; re-run `pulumi up`"
    return None
