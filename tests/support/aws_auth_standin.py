"""A stand-in for Vault's AWS auth method, served by the fault proxy in front of a real OpenBao server.

OpenBao ships no AWS auth method, so the bootstrap's AWS part (enable `aws/`, its client configuration,
its roles) would fail there. The proxy answers exactly those paths from this small store; everything
else stays the real server's. Access is still decided by the real server: before answering, the stand-in
asks it (`sys/capabilities` for the caller's token) whether the caller may do that operation there. To
ask, it needs a token allowed to call `sys/capabilities`: given, or made from the first root token it
sees (a bootstrap's own root token, before the bootstrap revokes it), as an orphan with a policy that
allows only that.
Logins (`auth/aws/login`) are checked for shape (a SigV4-signed sts:GetCallerIdentity for the role's
region endpoint, the server ID header when one is configured) and mapped from the signing access key to a
principal the test registered; the token returned is a real token of the real server with the role's
policies, minted with `minter_token`. What it does not do (listed in tests/support/README.md): parameter
constraints of a policy (`allowed_parameters` on these paths), signature verification against STS, and
principal ARN resolution.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

import requests

MOUNT = "aws/"
CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/]+)/sts/aws4_request")
STS_URL = re.compile(r"https://sts(\.[a-z0-9-]+)?\.amazonaws\.com/?")
DENIED_LOGIN = (400, {"errors": ["error making upstream request: ...the caller is not recognised"]})
OPERATION = {"GET": "read", "LIST": "list", "POST": "update", "PUT": "update", "DELETE": "delete"}
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

    def __init__(self, upstream: str, checker_token: str | None, verify: str | bool) -> None:
        self.upstream = upstream
        self.checker_token = checker_token
        self.verify = verify
        self.enabled = False
        self.client_config: dict[str, Any] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.identities: dict[str, str] = {}
        self.minter_token: str | None = None
        self._lock = threading.Lock()

    def register_identity(self, access_key_id: str, arn: str) -> None:
        """What STS would answer for requests signed with `access_key_id`."""
        self.identities[access_key_id] = arn

    @staticmethod
    def handles(path: str) -> bool:
        return path in {"sys/auth/aws", "sys/auth/aws/tune"} or path.startswith("auth/aws/")

    def _call(self, method: str, path: str, token: str, body: dict[str, Any]) -> requests.Response:
        return requests.request(
            method,
            f"{self.upstream}/v1/{path}",
            headers={"X-Vault-Token": token},
            json=body,
            verify=self.verify,
            timeout=10,
        )

    def _checker_from(self, token: str) -> None:
        """Make the capability-checking token from `token` if it is a root token."""
        own = self._call("POST", "sys/capabilities-self", token, {"paths": ["sys/capabilities"]})
        if own.status_code != 200 or "root" not in (own.json().get("capabilities") or []):
            return
        policy = 'path "sys/capabilities" { capabilities = ["update"] }'
        self._call("PUT", "sys/policies/acl/aws-auth-stand-in", token, {"policy": policy})
        made = self._call(
            "POST",
            "auth/token/create-orphan",
            token,
            {"policies": ["aws-auth-stand-in"], "no_default_policy": True, "ttl": "4h"},
        )
        self.checker_token = str(made.json()["auth"]["client_token"])

    def allowed(self, token: str, path: str, operation: str) -> bool:
        """The real server's answer to: may this token do `operation` on `path`?"""
        if self.checker_token is None:
            self._checker_from(token)
        if self.checker_token is None:
            return False
        answer = self._call("POST", "sys/capabilities", self.checker_token, {"token": token, "paths": [path]})
        if answer.status_code != 200:
            return False
        capabilities = set(answer.json().get("capabilities") or [])
        if "deny" in capabilities:
            return False
        if "root" in capabilities:
            return True
        wanted = {"update": {"update", "create"}}.get(operation, {operation})
        needs_sudo = path.startswith("sys/auth/")
        return bool(capabilities & wanted) and (not needs_sudo or "sudo" in capabilities)

    def mount_entry(self) -> dict[str, Any]:
        return {"type": "aws", "description": "stand-in (tests/support/aws_auth_standin.py)", "options": None}

    def answer(
        self, method: str, path: str, token: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        operation = "list" if method == "LIST" else OPERATION.get(method, "read")
        if path == "auth/aws/login":
            return self.login(body) if self.enabled else (400, {"errors": ["unsupported path"]})
        if not self.allowed(token, path, operation):
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
                role = {**ROLE_FIELDS_DEFAULTS, **self.roles.get(name, {}), **body}
                for field in ("token_policies", "bound_iam_principal_arn"):
                    if isinstance(role[field], str):
                        role[field] = [item.strip() for item in role[field].split(",") if item.strip()]
                self.roles[name] = role
                return 204, None
            if method == "DELETE":
                self.roles.pop(name, None)
                return 204, None
            return (200, {"data": dict(self.roles[name])}) if name in self.roles else (404, {"errors": []})
        return 400, {"errors": [f"the AWS auth stand-in does not serve auth/aws/{rest}"]}

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
        if wanted_id and flat.get("x-vault-aws-iam-server-id") != wanted_id:
            return 400, {"errors": ["expected IAM server ID header did not match"]}
        arn = self.identities.get(signed.group("key"))
        if arn is None or arn not in role["bound_iam_principal_arn"]:
            return DENIED_LOGIN
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
                "display_name": f"aws-{body['role']}",
                "meta": {"role": str(body["role"]), "arn": arn},
            },
        )
        if made.status_code != 200:
            return made.status_code, made.json()
        return 200, {"auth": made.json()["auth"]}
