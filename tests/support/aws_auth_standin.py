"""A stand-in for Vault's AWS auth method, served by the fault proxy in front of a real OpenBao server.

OpenBao ships no AWS auth method, so the bootstrap's AWS part (enable `aws/`, its client configuration,
its roles) would fail there. The proxy answers exactly those paths from this small store; everything
else stays the real server's. Access is still decided by the real server: before answering, the stand-in
sends the same request (method, path, body, token) to it. OpenBao checks the ACL, `allowed_parameters`
and `denied_parameters` included, before it looks for a handler, so a 403 there is the real answer and
anything else (404 "no handler for route", 400 for the unknown plugin) means the policy let it through.

Role writes resolve each non-wildcard `bound_iam_principal_arn` as Vault does with iam:GetRole/GetUser;
`iam_lookups_allowed = False` makes that fail with Vault's words (a node role without IAM rights).
Logins (`auth/aws/login`) are checked as Vault checks them: a SigV4-signed sts:GetCallerIdentity for an
STS endpoint, the server ID header present and signed when one is configured, the signing key's
principal bound to the role. When the test registered the secret key too, the signature is recomputed
with botocore (STS's own check). The token returned is a real token of the real server with the role's
policies, minted with `minter_token`. Differences from Vault are listed in tests/support/README.md.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/sts/aws4_request, *"
    r"SignedHeaders=(?P<signed>[^,\s]+), *Signature=(?P<signature>[0-9a-f]+)"
)
STS_URL = re.compile(r"https://sts(\.[a-z0-9-]+)?\.amazonaws\.com/?")
SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
DENIED_LOGIN = (400, {"errors": ["error making upstream request: ...the caller is not recognised"]})
SIGNATURE_MISMATCH = (
    "error making upstream request: received error code 403 from STS: <ErrorResponse><Error>"
    "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the "
    "signature you provided.</Message></Error></ErrorResponse>"
)
LEGACY_ROLE_FIELDS = {"policies": "token_policies", "ttl": "token_ttl", "max_ttl": "token_max_ttl"}
ROLE_FIELDS_DEFAULTS: dict[str, Any] = {
    "auth_type": "iam",
    "bound_iam_principal_arn": [],
    "resolve_aws_unique_ids": True,
    "token_policies": [],
    "token_ttl": 0,
    "token_max_ttl": 0,
    "token_no_default_policy": False,
}


class AwsAuthStandIn:
    """The state of one stand-in AWS auth mount, and the answers for its paths."""

    def __init__(self, upstream: str, minter_token: str | None, verify: str | bool) -> None:
        self.upstream = upstream
        self.minter_token = minter_token
        self.verify = verify
        self.enabled = False
        self.iam_lookups_allowed = True
        self.client_config: dict[str, Any] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.identities: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def register_identity(self, access_key_id: str, arn: str, secret_access_key: str | None = None) -> None:
        """What STS would answer for requests signed with `access_key_id` (and, given the secret key, the
        signature STS would expect)."""
        self.identities[access_key_id] = (arn, secret_access_key)

    @staticmethod
    def handles(path: str) -> bool:
        return path in {"sys/auth/aws", "sys/auth/aws/tune"} or path.startswith("auth/aws/")

    def _call(self, method: str, path: str, token: str, body: dict[str, Any]) -> requests.Response:
        verb, query = ("GET", {"list": "true"}) if method == "LIST" else (method, None)
        return requests.request(
            verb,
            f"{self.upstream}/v1/{path}",
            headers={"X-Vault-Token": token} if token else {},
            params=query,
            json=body or None,
            verify=self.verify,
            timeout=10,
        )

    def allowed(self, method: str, path: str, token: str, body: dict[str, Any]) -> bool:
        """The real server's ACL decision on this very request (it has no handler to run it)."""
        return self._call(method, path, token, body).status_code != 403

    def mount_entry(self) -> dict[str, Any]:
        return {"type": "aws", "description": "stand-in (tests/support/aws_auth_standin.py)", "options": None}

    def answer(
        self, method: str, path: str, token: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        if path == "auth/aws/login":
            return self.login(body) if self.enabled else (400, {"errors": ["unsupported path"]})
        if not self.allowed(method, path, token, body):
            return 403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]}
        with self._lock:
            if path == "sys/auth/aws":
                if method in {"POST", "PUT"}:
                    if self.enabled:
                        return 400, {"errors": ["path is already in use at aws/"]}
                    self.enabled = True
                    return 204, None
                return (
                    (200, {"data": self.mount_entry()}) if self.enabled else (400, {"errors": ["no mount"]})
                )
            if path == "sys/auth/aws/tune":
                return (204, None) if method in {"POST", "PUT"} else (200, {"data": {"default_lease_ttl": 0}})
            if not self.enabled:
                return 404, {"errors": ["unsupported path"]}
            return self._mount_path(method, path.removeprefix("auth/aws/"), body)

    def _mount_path(self, method: str, rest: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        if rest == "config/client":
            if method in {"POST", "PUT"}:
                self.client_config.update(body)
                return 204, None
            return (200, {"data": dict(self.client_config)}) if self.client_config else (404, {"errors": []})
        if rest in {"roles", "role", "role/"} and method in {"LIST", "GET"}:
            return (200, {"data": {"keys": sorted(self.roles)}}) if self.roles else (404, {"errors": []})
        if rest.startswith("role/"):
            name = rest.removeprefix("role/")
            if method in {"POST", "PUT"}:
                given = {LEGACY_ROLE_FIELDS.get(key, key): value for key, value in body.items()}
                role = {**ROLE_FIELDS_DEFAULTS, **self.roles.get(name, {}), **given}
                for field in ("token_policies", "bound_iam_principal_arn"):
                    if isinstance(role[field], str):
                        role[field] = [item.strip() for item in role[field].split(",") if item.strip()]
                unresolvable = self._unresolvable(role)
                if unresolvable:
                    return 400, {"errors": [unresolvable]}
                self.roles[name] = role
                return 204, None
            if method == "DELETE":
                self.roles.pop(name, None)
                return 204, None
            return (200, {"data": dict(self.roles[name])}) if name in self.roles else (404, {"errors": []})
        return 400, {"errors": [f"the AWS auth stand-in does not serve auth/aws/{rest}"]}

    def _unresolvable(self, role: dict[str, Any]) -> str:
        """Vault's error when its node role may not look a bound principal up (path_role.go)."""
        if self.iam_lookups_allowed or not role["resolve_aws_unique_ids"]:
            return ""
        for arn in role["bound_iam_principal_arn"]:
            if not arn.endswith("*"):
                action = "iam:GetUser" if ":user/" in arn else "iam:GetRole"
                return (
                    f'unable to resolve ARN "{arn}" to internal ID: AccessDenied: User: '
                    f"arn:aws:sts::{arn.split(':')[4]}:assumed-role/vault-node/i-0 is not authorized to "
                    f"perform: {action} on resource: {arn}\n\tstatus code: 403"
                )
        return ""

    def login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        role = self.roles.get(str(body.get("role") or ""))
        if role is None:
            return 400, {"errors": [f"entry for role {body.get('role')} not found"]}
        try:
            url = base64.b64decode(str(body["iam_request_url"])).decode()
            sts_body = base64.b64decode(str(body["iam_request_body"])).decode()
            headers = json.loads(base64.b64decode(str(body["iam_request_headers"])))
        except (KeyError, ValueError):
            return 400, {"errors": ["iam_request_url, iam_request_body and iam_request_headers are required"]}
        flat = {
            name.lower(): (value[0] if isinstance(value, list) else value) for name, value in headers.items()
        }
        signed = CREDENTIAL.search(str(flat.get("authorization", "")))
        if not STS_URL.fullmatch(url) or "Action=GetCallerIdentity" not in sts_body or signed is None:
            return 400, {"errors": ["not a signed sts:GetCallerIdentity request"]}
        wanted_id = str(self.client_config.get("iam_server_id_header_value") or "")
        if wanted_id and (
            flat.get(SERVER_ID_HEADER.lower()) != wanted_id
            or SERVER_ID_HEADER.lower() not in signed.group("signed").split(";")
        ):
            problem = f"error validating {SERVER_ID_HEADER} header: missing, other or unsigned"
            return 400, {"errors": [problem]}
        arn, secret_key = self.identities.get(signed.group("key"), ("", None))
        if secret_key is not None and not _signature_matches(url, sts_body, flat, signed, secret_key):
            return 400, {"errors": [SIGNATURE_MISMATCH]}
        if not arn or arn not in role["bound_iam_principal_arn"]:
            return DENIED_LOGIN
        return self._mint(role, str(body["role"]), arn)

    def _mint(self, role: dict[str, Any], name: str, arn: str) -> tuple[int, dict[str, Any] | None]:
        if self.minter_token is None:
            return 500, {"errors": ["the AWS auth stand-in has no token to mint logins with"]}
        made = self._call(
            "POST",
            "auth/token/create-orphan",
            self.minter_token,
            {
                "policies": role["token_policies"],
                "no_default_policy": role["token_no_default_policy"],
                "ttl": role["token_ttl"] or "15m",
                "display_name": f"aws-{name}",
                "meta": {"role": name, "arn": arn},
            },
        )
        if made.status_code != 200:
            return made.status_code, made.json()
        return 200, {"auth": made.json()["auth"]}


def _signature_matches(
    url: str, body: str, headers: dict[str, str], signed: re.Match[str], secret_key: str
) -> bool:
    """Recompute the SigV4 signature with botocore over the headers the client signed, as STS does."""
    names = signed.group("signed").split(";")
    sent = {"host": urlsplit(url).netloc, **headers}  # Vault replays to the URL, so STS sees its host
    request = AWSRequest(method="POST", url=url, data=body, headers={n: sent.get(n, "") for n in names})
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(signed.group("key"), secret_key), "sts", signed.group("region"))
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, signed.group("signature"))
