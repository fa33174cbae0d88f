"""The few Vault HTTP calls rotation needs, over the standard library, authenticated with AWS IAM auth.

The Lambda runtime ships boto3/botocore but not hvac or requests, so this speaks Vault's HTTP API with
urllib: log in with `auth/aws/login` (a SigV4-signed sts:GetCallerIdentity request, exactly what
`vault login -method=aws` sends), then read and write KV v2 with check-and-set.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
TIMEOUT_S = 10


class VaultError(RuntimeError):
    """Vault answered with an error; `status` is the HTTP status (0 when unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def signed_login_payload(role: str, region: str, credentials: Any, server_id: str = "") -> dict[str, str]:
    """The body of `auth/aws/login` for the given botocore credentials (iam auth type)."""
    from botocore.auth import SigV4Auth  # noqa: PLC0415 - botocore is in the Lambda runtime
    from botocore.awsrequest import AWSRequest  # noqa: PLC0415

    url = f"https://sts.{region}.amazonaws.com/"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if server_id:
        headers["X-Vault-AWS-IAM-Server-ID"] = server_id
    request = AWSRequest(method="POST", url=url, data=STS_BODY, headers=headers)
    SigV4Auth(credentials, "sts", region).add_auth(request)
    signed_headers = {key: [value] for key, value in request.headers.items()}

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "role": role,
        "iam_http_request_method": "POST",
        "iam_request_url": b64(url),
        "iam_request_body": b64(STS_BODY),
        "iam_request_headers": b64(json.dumps(signed_headers)),
    }


@dataclass
class VaultClient:
    """A Vault address, the CA that signed its certificate, and (after login) a token."""

    address: str
    ca_pem: str = ""
    token: str = ""

    def _context(self) -> ssl.SSLContext | None:
        if not self.address.startswith("https://"):
            return None
        context = ssl.create_default_context(cadata=self.ca_pem or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.address.rstrip('/')}/v1/{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("X-Vault-Token", self.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=self._context()) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            errors = _errors(error.read().decode(errors="replace"))
            raise VaultError(error.code, f"Vault {method} {path}: {error.code} {errors}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise VaultError(0, f"Vault at {self.address} unreachable: {error}") from None
        return json.loads(text) if text else {}

    def login_aws(self, role: str, region: str, credentials: Any, server_id: str = "") -> None:
        answer = self.call(
            "POST", "auth/aws/login", signed_login_payload(role, region, credentials, server_id)
        )
        self.token = answer["auth"]["client_token"]

    def kv_read(self, mount: str, path: str) -> tuple[dict[str, Any], int] | None:
        """The latest live version's data and number, or None if there is none."""
        try:
            answer = self.call("GET", f"{mount}/data/{path}")
        except VaultError as error:
            if error.status == 404:
                return None
            raise
        data = answer.get("data") or {}
        return data.get("data") or {}, int((data.get("metadata") or {}).get("version", 0))

    def kv_current_version(self, mount: str, path: str) -> int:
        """The current version number from metadata (0 when the path has never been written)."""
        try:
            answer = self.call("GET", f"{mount}/metadata/{path}")
        except VaultError as error:
            if error.status == 404:
                return 0
            raise
        return int((answer.get("data") or {}).get("current_version", 0))

    def kv_write(self, mount: str, path: str, data: dict[str, Any], cas: int) -> int:
        answer = self.call("POST", f"{mount}/data/{path}", {"options": {"cas": cas}, "data": data})
        return int((answer.get("data") or {}).get("version", 0))

    def kv_merge_metadata(self, mount: str, path: str, custom: dict[str, str]) -> None:
        """Add keys to the path's custom metadata, keeping the rest (a POST would replace the whole map)."""
        self.call(
            "PATCH", f"{mount}/metadata/{path}", {"custom_metadata": custom}, "application/merge-patch+json"
        )


def _errors(text: str) -> str:
    try:
        return "; ".join(json.loads(text).get("errors") or []) or text[:200]
    except ValueError:
        return text[:200]
