"""Logging in to Vault: a token, AppRole (optionally a response-wrapped secret id) or AWS IAM.

Each method turns into a `Login` (the token and how long it lives). The session in `vault.py` decides when
to renew it and when to log in again; a method that cannot log in again (a bare token) says so with
`can_relogin`. Credentials are kept in fields excluded from `repr`, and no message names them.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import hvac
import hvac.exceptions
import requests

from candlefish_secrets.errors import AuthenticationFailed, ConfigurationError, VaultUnavailable

STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
IAM_SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"


@dataclass(frozen=True)
class Login:
    """A Vault token and its lifetime as the server granted it."""

    token: str = field(repr=False)
    ttl_s: int  # 0: the token never expires (root or a non-expiring token)
    renewable: bool
    policies: tuple[str, ...] = ()
    display_name: str = ""


class VaultAuth(Protocol):
    """One way of obtaining a Vault token."""

    method: str  # "token", "approle" or "aws": shown by `status`

    @property
    def can_relogin(self) -> bool:
        """Whether `login` can be called again for a fresh token (after a 403 or a lease at its max TTL)."""
        ...

    def login(self, client: hvac.Client) -> Login:
        """Obtain a token. `client` is a token-less client for the Vault address."""
        ...


def _auth_login(client: hvac.Client, path: str, payload: Mapping[str, Any], what: str) -> Login:
    """POST a login and read its `auth` block; errors become AuthenticationFailed or VaultUnavailable."""
    try:
        answer = client.adapter.post(f"/v1/{path}", json=dict(payload))
    except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden, hvac.exceptions.InvalidPath) as error:
        raise AuthenticationFailed(f"{what} login at {path} was refused: {_server_message(error)}") from None
    except (
        requests.RequestException,
        hvac.exceptions.VaultDown,
        hvac.exceptions.InternalServerError,
    ) as error:
        raise VaultUnavailable(
            f"{what} login at {path}: Vault unreachable ({_server_message(error)})"
        ) from None
    return login_from_auth(answer.get("auth") if isinstance(answer, dict) else None, what)


def login_from_auth(auth: Any, what: str) -> Login:
    """A `Login` from the `auth` block of a Vault response."""
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise AuthenticationFailed(f"{what} login returned no token")
    return Login(
        token=str(auth["client_token"]),
        ttl_s=int(auth.get("lease_duration") or 0),
        renewable=bool(auth.get("renewable")),
        policies=tuple(auth.get("policies") or ()),
        display_name=str((auth.get("metadata") or {}).get("role_name") or auth.get("display_name") or ""),
    )


def _server_message(error: BaseException) -> str:
    """Vault's error text (or the transport error's class): never a request body, so never a credential."""
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(str(e) for e in errors)
    return type(error).__name__


class TokenAuth:
    """A token given to the process (`VAULT_TOKEN`). It can be renewed but not re-acquired."""

    method = "token"
    can_relogin = False

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigurationError("VAULT_TOKEN is empty; set it or use AppRole or AWS IAM auth")
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"

    def login(self, client: hvac.Client) -> Login:
        try:
            answer = client.adapter.get("/v1/auth/token/lookup-self", headers={"X-Vault-Token": self._token})
        except hvac.exceptions.Forbidden:
            raise AuthenticationFailed("the Vault token was refused (revoked or expired)") from None
        except (requests.RequestException, hvac.exceptions.VaultDown) as error:
            raise VaultUnavailable(f"token lookup: Vault unreachable ({_server_message(error)})") from None
        data = answer.get("data") or {}
        return Login(
            token=self._token,
            ttl_s=int(data.get("ttl") or 0),
            renewable=bool(data.get("renewable")),
            policies=tuple(data.get("policies") or ()),
            display_name=str(data.get("display_name") or ""),
        )


class AppRoleAuth:
    """AppRole: a role id and a secret id, or a response-wrapped secret id unwrapped on first login.

    A wrapping token can be unwrapped once; the secret id inside is kept for later logins, so a secret id
    issued with several uses (or unlimited) lets the SDK log in again after a 403.
    """

    method = "approle"
    can_relogin = True

    def __init__(
        self,
        role_id: str,
        secret_id: str | None = None,
        *,
        wrapped_secret_id: str | None = None,
        mount: str = "approle",
    ) -> None:
        if not role_id:
            raise ConfigurationError("AppRole auth needs a role id (VAULT_ROLE_ID)")
        if bool(secret_id) == bool(wrapped_secret_id):
            raise ConfigurationError(
                "AppRole auth needs exactly one of a secret id (VAULT_SECRET_ID) or a response-wrapped "
                "secret id (VAULT_WRAPPED_SECRET_ID)"
            )
        self._role_id = role_id
        self._secret_id = secret_id
        self._wrapped = wrapped_secret_id
        self._mount = mount.strip("/")
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AppRoleAuth(mount={self._mount!r}, role_id=***, secret_id=***)"

    def _unwrap(self, client: hvac.Client, wrapping_token: str) -> str:
        try:
            answer = client.adapter.post(
                "/v1/sys/wrapping/unwrap", headers={"X-Vault-Token": wrapping_token}, json={}
            )
        except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest) as error:
            raise AuthenticationFailed(
                "the wrapped secret id could not be unwrapped (already used, expired or not a wrapping "
                f"token: {_server_message(error)}); ask for a new one"
            ) from None
        secret_id = (answer.get("data") or {}).get("secret_id")
        if not secret_id:
            raise AuthenticationFailed("the wrapping token did not wrap an AppRole secret id")
        return str(secret_id)

    def login(self, client: hvac.Client) -> Login:
        with self._lock:
            if self._secret_id is None and self._wrapped is not None:
                self._secret_id = self._unwrap(client, self._wrapped)
                self._wrapped = None
            secret_id = self._secret_id
        payload = {"role_id": self._role_id, "secret_id": secret_id}
        return _auth_login(client, f"auth/{self._mount}/login", payload, "AppRole")


class AwsIamAuth:
    """AWS IAM auth: a SigV4-signed `sts:GetCallerIdentity` request, signed by botocore, replayed by Vault.

    Signs for the regional STS endpoint (the platform configures Vault's `sts_endpoint` that way) and, when
    the server requires it, includes the `X-Vault-AWS-IAM-Server-ID` header in the signature.
    """

    method = "aws"
    can_relogin = True

    def __init__(
        self,
        role: str,
        *,
        region: str | None = None,
        mount: str = "aws",
        server_id: str | None = None,
        session: Any = None,
    ) -> None:
        if not role:
            raise ConfigurationError("AWS IAM auth needs a Vault role name (CANDLEFISH_VAULT_AWS_ROLE)")
        self._role = role
        self._region = region
        self._mount = mount.strip("/")
        self._server_id = server_id
        self._session = session

    def __repr__(self) -> str:
        return f"AwsIamAuth(role={self._role!r}, mount={self._mount!r})"

    def signed_payload(self) -> dict[str, str]:
        """The body of `auth/<mount>/login` for the current AWS credentials."""
        import boto3  # noqa: PLC0415 - boto3 is imported only by the methods that use it
        from botocore.auth import SigV4Auth  # noqa: PLC0415
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415

        session = self._session or boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise AuthenticationFailed("AWS IAM auth found no AWS credentials to sign the login with")
        region = self._region or session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
        url = f"https://sts.{region}.amazonaws.com/"
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if self._server_id:
            headers[IAM_SERVER_ID_HEADER] = self._server_id
        request = AWSRequest(method="POST", url=url, data=STS_BODY, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "sts", region).add_auth(request)

        def encoded(text: str) -> str:
            return base64.b64encode(text.encode()).decode()

        return {
            "role": self._role,
            "iam_http_request_method": "POST",
            "iam_request_url": encoded(url),
            "iam_request_body": encoded(STS_BODY),
            "iam_request_headers": encoded(json.dumps({k: [v] for k, v in request.headers.items()})),
        }

    def login(self, client: hvac.Client) -> Login:
        return _auth_login(client, f"auth/{self._mount}/login", self.signed_payload(), "AWS IAM")


def auth_from_env(environ: Mapping[str, str]) -> VaultAuth:
    """The auth method the environment configures.

    `CANDLEFISH_VAULT_AUTH` picks one (`token`, `approle`, `aws`); without it the first present of
    `VAULT_TOKEN`, `VAULT_ROLE_ID`, `CANDLEFISH_VAULT_AWS_ROLE` decides.
    """
    method = environ.get("CANDLEFISH_VAULT_AUTH", "").strip().lower()
    if not method:
        if environ.get("VAULT_TOKEN"):
            method = "token"
        elif environ.get("VAULT_ROLE_ID"):
            method = "approle"
        elif environ.get("CANDLEFISH_VAULT_AWS_ROLE"):
            method = "aws"
        else:
            raise ConfigurationError(
                "no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID with VAULT_SECRET_ID or "
                "VAULT_WRAPPED_SECRET_ID, or CANDLEFISH_VAULT_AWS_ROLE (or choose with CANDLEFISH_VAULT_AUTH)"
            )
    if method == "token":
        return TokenAuth(environ.get("VAULT_TOKEN", ""))
    if method == "approle":
        return AppRoleAuth(
            environ.get("VAULT_ROLE_ID", ""),
            environ.get("VAULT_SECRET_ID") or None,
            wrapped_secret_id=environ.get("VAULT_WRAPPED_SECRET_ID") or None,
            mount=environ.get("CANDLEFISH_VAULT_APPROLE_MOUNT", "approle"),
        )
    if method == "aws":
        return AwsIamAuth(
            environ.get("CANDLEFISH_VAULT_AWS_ROLE", ""),
            region=environ.get("CANDLEFISH_VAULT_AWS_REGION") or None,
            mount=environ.get("CANDLEFISH_VAULT_AWS_MOUNT", "aws"),
            server_id=environ.get("CANDLEFISH_VAULT_IAM_SERVER_ID") or None,
        )
    raise ConfigurationError(
        f"CANDLEFISH_VAULT_AUTH={method!r} is not an auth method; allowed: token, approle, aws"
    )
