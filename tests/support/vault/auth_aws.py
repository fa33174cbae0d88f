"""The AWS auth method, ``iam`` login only (api-docs/auth/aws, builtin/credential/aws/path_login.go).

Vault verifies an IAM login by replaying the client's signed ``sts:GetCallerIdentity`` request to STS.  This
server cannot reach STS, so it does what STS would: it checks that the decoded request is a well-formed
GetCallerIdentity POST carrying an AWS SigV4 ``Authorization`` header, reads the access key id from its
``Credential=`` component, and maps it to a principal ARN that the test registered with
``VaultState.register_iam_identity``.  When the test also registered the secret access key, the SigV4
signature itself is recomputed and checked.  The binding checks and the error texts are Vault's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.support.vault.auth_approle import describe_token_fields, token_fields
from tests.support.vault.backend import Backend, RequestContext, unsupported_operation, unsupported_path
from tests.support.vault.core import (
    JSONDict,
    Response,
    as_bool,
    bad_request,
    new_uuid,
    no_content,
    not_found,
    ok,
    string_list,
)
from tests.support.vault.tokens import issue_login_token

IAM_SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
STS_INVALID_TOKEN = (
    "error making upstream request: received error code 403 from STS: "
    "<ErrorResponse><Error><Type>Sender</Type>"
    "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid."
    "</Message></Error></ErrorResponse>"
)
STS_SIGNATURE_MISMATCH = (
    "error making upstream request: received error code 403 from STS: "
    "<ErrorResponse><Error><Type>Sender</Type>"
    "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the "
    "signature you provided.</Message></Error></ErrorResponse>"
)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)
_ARN = re.compile(
    r"arn:(?P<partition>[^:]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<type>[^/]+)/(?P<rest>.+)"
)


@dataclass(frozen=True)
class IamIdentity:
    """What STS would answer for an access key: the caller ARN and its unique id."""

    access_key_id: str
    arn: str
    user_id: str
    secret_access_key: str | None = None


@dataclass(frozen=True)
class IamEntity:
    partition: str
    account: str
    entity_type: str  # user | role | assumed-role
    path: str
    friendly_name: str
    session: str

    def canonical_arn(self) -> str:
        kind = "role" if self.entity_type == "assumed-role" else self.entity_type
        return f"arn:{self.partition}:iam::{self.account}:{kind}/{self.friendly_name}"


def parse_iam_arn(arn: str) -> IamEntity:
    match = _ARN.fullmatch(arn)
    if match is None:
        raise ValueError(f"unrecognized arn: {arn!r}")
    parts = match.group("rest").split("/")
    kind = match.group("type")
    if kind == "assumed-role":
        if len(parts) < 2:
            raise ValueError(f"unrecognized arn: {arn!r}")
        return IamEntity(match.group("partition"), match.group("account"), kind, "", parts[0], parts[1])
    if kind not in {"user", "role"}:
        raise ValueError(f"unrecognized principal type: {kind!r}")
    return IamEntity(
        match.group("partition"), match.group("account"), kind, "/".join(parts[:-1]), parts[-1], ""
    )


def _glob_match(pattern: str, value: str) -> bool:
    return value.startswith(pattern[:-1]) if pattern.endswith("*") else pattern == value


def _decode_headers(raw: Any) -> dict[str, list[str]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise bad_request(
                    "the iam_request_headers parameter must be a JSON object or base64 JSON"
                ) from None
    if not isinstance(raw, dict):
        return {}
    headers: dict[str, list[str]] = {}
    for name, value in raw.items():
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        headers[str(name).lower()] = values
    return headers


def _sigv4_signature(
    *,
    secret_key: str,
    method: str,
    url: str,
    headers: dict[str, list[str]],
    signed_headers: list[str],
    body: str,
    amz_date: str,
    scope: tuple[str, str, str],
) -> str:
    split = urlsplit(url)
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, values in sorted(parse_qs(split.query, keep_blank_values=True).items())
        for v in sorted(values)
    )
    canonical_headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in headers.get(name, []))}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [
            method,
            split.path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(body.encode("utf-8")).hexdigest(),
        ]
    )
    date, region, service = scope
    credential_scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            credential_scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class AwsAuthBackend(Backend):
    type_name = "aws"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_config: JSONDict | None = None
        self.roles: dict[str, JSONDict] = {}

    def is_unauthenticated(self, rel: str) -> bool:
        return rel == "login"

    def exists(self, ctx: RequestContext) -> bool | None:
        parts = ctx.rel.split("/")
        if len(parts) == 2 and parts[0] == "role":
            return parts[1] in self.roles
        if ctx.rel == "config/client":
            return self.client_config is not None
        return None

    def handle(self, ctx: RequestContext) -> Response:
        rel = ctx.rel.rstrip("/")
        op = ctx.operation
        if rel == "login":
            if op not in {"create", "update"}:
                raise unsupported_operation()
            return self._login(ctx)
        if rel == "config/client":
            return self._client_config(ctx)
        if rel in {"roles", "role"}:
            if op != "list":
                raise unsupported_operation()
            if not self.roles:
                raise not_found()
            return ok({"keys": sorted(self.roles)}, mount_type="aws")
        parts = rel.split("/")
        if len(parts) == 2 and parts[0] == "role":
            return self._role(ctx, parts[1].lower())
        raise unsupported_path()

    # --- config ------------------------------------------------------------------------------------------

    def _client_config(self, ctx: RequestContext) -> Response:
        op = ctx.operation
        if op == "read":
            if self.client_config is None:
                raise not_found()
            return ok({k: v for k, v in self.client_config.items() if k != "secret_key"}, mount_type="aws")
        if op == "delete":
            self.client_config = None
            return no_content()
        if op not in {"create", "update"}:
            raise unsupported_operation()
        config = dict(
            self.client_config
            or {
                "access_key": "",
                "secret_key": "",
                "endpoint": "",
                "iam_endpoint": "",
                "sts_endpoint": "",
                "sts_region": "",
                "use_sts_region_from_client": False,
                "iam_server_id_header_value": "",
                "allowed_sts_header_values": [],
                "max_retries": -1,
            }
        )
        for name in list(config):
            if ctx.request.has(name):
                value = ctx.param(name)
                if name == "allowed_sts_header_values":
                    value = string_list(value)
                elif name == "use_sts_region_from_client":
                    value = as_bool(value)
                elif name == "max_retries":
                    value = int(value)
                config[name] = value
        self.client_config = config
        return no_content()

    # --- roles -------------------------------------------------------------------------------------------

    def _role(self, ctx: RequestContext, name: str) -> Response:
        op = ctx.operation
        if op == "read":
            stored = self.roles.get(name)
            if stored is None:
                raise not_found()
            data = {k: v for k, v in stored.items() if not k.startswith("token_") and not k.startswith("_")}
            data.update(describe_token_fields(stored))
            return ok(data, mount_type="aws")
        if op == "delete":
            self.roles.pop(name, None)
            return no_content()
        if op not in {"create", "update"}:
            raise unsupported_operation()
        existing = self.roles.get(name, {})
        auth_type = str(ctx.param("auth_type", existing.get("auth_type", "iam")) or "iam")
        if auth_type not in {"iam", "ec2"}:
            raise bad_request(f"unrecognized auth_type: {auth_type}")
        arns = string_list(ctx.param("bound_iam_principal_arn", existing.get("bound_iam_principal_arn")))
        resolve = as_bool(ctx.param("resolve_aws_unique_ids", existing.get("resolve_aws_unique_ids")), True)
        if resolve and arns != existing.get("bound_iam_principal_arn"):
            self._check_resolvable(arns)
        updated: JSONDict = {
            "auth_type": auth_type,
            "bound_iam_principal_arn": arns,
            # Vault resolves each non-wildcard ARN to the principal's unique id with iam:GetUser/GetRole.
            "bound_iam_principal_id": [
                self.state.unique_id_for_arn(a) for a in arns if resolve and "*" not in a
            ],
            "resolve_aws_unique_ids": resolve,
            "inferred_entity_type": str(
                ctx.param("inferred_entity_type", existing.get("inferred_entity_type", ""))
            ),
            "inferred_aws_region": str(
                ctx.param("inferred_aws_region", existing.get("inferred_aws_region", ""))
            ),
            "bound_account_id": string_list(ctx.param("bound_account_id", existing.get("bound_account_id"))),
            "bound_ami_id": string_list(ctx.param("bound_ami_id", existing.get("bound_ami_id"))),
            "bound_iam_role_arn": string_list(
                ctx.param("bound_iam_role_arn", existing.get("bound_iam_role_arn"))
            ),
            "bound_region": string_list(ctx.param("bound_region", existing.get("bound_region"))),
            "allow_instance_migration": as_bool(ctx.param("allow_instance_migration"), False),
            "disallow_reauthentication": as_bool(ctx.param("disallow_reauthentication"), False),
            "role_id": existing.get("role_id") or new_uuid(),
        }
        updated.update(token_fields(ctx, existing))
        if auth_type == "iam" and not arns and not updated["inferred_entity_type"]:
            raise bad_request("at least one bound parameter should be specified on the role")
        self.roles[name] = updated
        return no_content()

    def _check_resolvable(self, arns: list[str]) -> None:
        """path_role.go: each non-wildcard ARN is resolved to its unique id with Vault's AWS credentials."""
        if self.state.iam_lookups_allowed:
            return
        for arn in arns:
            if not arn.endswith("*"):
                action = "iam:GetUser" if ":user/" in arn else "iam:GetRole"
                raise bad_request(
                    f'unable to resolve ARN "{arn}" to internal ID: AccessDenied: User: '
                    f"arn:aws:sts::{arn.split(':')[4]}:assumed-role/vault-node/i-0 is not authorized to "
                    f"perform: {action} on resource: {arn}\n\tstatus code: 403"
                )

    # --- login -------------------------------------------------------------------------------------------

    @staticmethod
    def _decode_field(ctx: RequestContext, name: str) -> str:
        encoded = str(ctx.param(name, "") or "")
        if not encoded:
            raise bad_request(f"missing {name}")
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except ValueError:
            raise bad_request(f"failed to base64 decode {name}") from None

    def _login(self, ctx: RequestContext) -> Response:
        if not ctx.request.has("iam_http_request_method"):
            raise bad_request("vault test server: only the iam login type is implemented")
        method = str(ctx.param("iam_http_request_method", ""))
        if not method:
            raise bad_request("missing iam_http_request_method")
        if method != "POST":
            raise bad_request("invalid iam_http_request_method; currently only 'POST' is supported")
        url = self._decode_field(ctx, "iam_request_url")
        body = self._decode_field(ctx, "iam_request_body")
        headers = _decode_headers(ctx.param("iam_request_headers"))
        if not headers:
            raise bad_request("missing iam_request_headers")
        config = self.client_config or {}
        signed = self._parse_authorization(headers)
        server_id = str(config.get("iam_server_id_header_value", "") or "")
        if server_id:
            self._check_server_id(headers, signed, server_id)
        self._check_sts_request(url, body, config)
        identity = self._caller_identity(method, url, body, headers, signed)
        try:
            entity = parse_iam_arn(identity.arn)
        except ValueError as exc:
            raise bad_request(f"error parsing arn {identity.arn!r}: {exc}".replace("'", '"')) from None
        role_name = str(ctx.param("role", "") or "") or entity.friendly_name
        role = self.roles.get(role_name.lower())
        if role is None:
            raise bad_request(f"entry for role {role_name} not found")
        if role["auth_type"] != "iam":
            raise bad_request(f"auth method iam not allowed for role {role_name}")
        unique_id = identity.user_id.split(":")[0]
        if not self._bound(role, entity, unique_id):
            raise bad_request(f'IAM Principal "{identity.arn}" does not belong to the role "{role_name}"')
        metadata = {
            "client_arn": identity.arn,
            "canonical_arn": entity.canonical_arn(),
            "client_user_id": unique_id,
            "auth_type": "iam",
            "inferred_entity_type": "",
            "inferred_entity_id": "",
            "inferred_aws_region": "",
            "account_id": entity.account,
            "role_id": role["role_id"],
        }
        return issue_login_token(
            ctx,
            policies=role["token_policies"],
            no_default_policy=role["token_no_default_policy"],
            ttl=role["token_ttl"],
            max_ttl=role["token_max_ttl"],
            period=role["token_period"],
            num_uses=role["token_num_uses"],
            display_name=f"aws-{entity.friendly_name}",
            metadata=metadata,
        )

    def _bound(self, role: JSONDict, entity: IamEntity, unique_id: str) -> bool:
        """path_login.go's three ways through ``bound_iam_principal_arn``: unique id, canonical ARN, glob."""
        bound = role["bound_iam_principal_arn"]
        if not bound or unique_id in role["bound_iam_principal_id"]:
            return True
        if not role["resolve_aws_unique_ids"] and entity.canonical_arn() in bound:
            return True
        full_arn = self.state.full_arn_for(entity)
        return any(pattern.endswith("*") and _glob_match(pattern, full_arn) for pattern in bound)

    @staticmethod
    def _parse_authorization(headers: dict[str, list[str]]) -> re.Match[str]:
        values = headers.get("authorization")
        if not values:
            raise bad_request(
                STS_SIGNATURE_MISMATCH.replace("SignatureDoesNotMatch", "MissingAuthenticationToken")
            )
        match = _AUTHORIZATION.search(values[0])
        if match is None or match.group("service") != "sts":
            raise bad_request(STS_SIGNATURE_MISMATCH.replace("SignatureDoesNotMatch", "IncompleteSignature"))
        return match

    @staticmethod
    def _check_server_id(headers: dict[str, list[str]], signed: re.Match[str], expected: str) -> None:
        prefix = f"error validating {IAM_SERVER_ID_HEADER} header: "
        values = headers.get(IAM_SERVER_ID_HEADER.lower())
        if not values:
            raise bad_request(prefix + f"missing header {IAM_SERVER_ID_HEADER!r}".replace("'", '"'))
        if values[0] != expected:
            raise bad_request(prefix + f'expected "{expected}" but got "{values[0]}"')
        if IAM_SERVER_ID_HEADER.lower() not in signed.group("signed").split(";"):
            raise bad_request(prefix + "vault header wasn't signed")

    @staticmethod
    def _check_sts_request(url: str, body: str, config: JSONDict) -> None:
        host = urlsplit(url).hostname or ""
        custom = urlsplit(str(config.get("sts_endpoint") or "")).hostname
        if host != custom and not re.fullmatch(r"sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?", host):
            raise bad_request(f"error making upstream request: unexpected STS endpoint host {host!r}")
        form = parse_qs(body)
        if form.get("Action") != ["GetCallerIdentity"]:
            raise bad_request("error making upstream request: request is not an sts:GetCallerIdentity call")

    def _caller_identity(
        self, method: str, url: str, body: str, headers: dict[str, list[str]], signed: re.Match[str]
    ) -> IamIdentity:
        identity = self.state.iam_identities.get(signed.group("key"))
        if identity is None:
            raise bad_request(STS_INVALID_TOKEN)
        if identity.secret_access_key is not None:
            amz_date = (headers.get("x-amz-date") or [""])[0]
            # Vault replays the request to the URL it was given, so STS sees that URL's host even when the
            # client (botocore, aws-sdk-go) did not list a Host header among the headers it sent.
            sent = {"host": [urlsplit(url).netloc], **headers}
            expected = _sigv4_signature(
                secret_key=identity.secret_access_key,
                method=method,
                url=url,
                headers=sent,
                signed_headers=signed.group("signed").split(";"),
                body=body,
                amz_date=amz_date,
                scope=(signed.group("date"), signed.group("region"), signed.group("service")),
            )
            if not hmac.compare_digest(expected, signed.group("signature")):
                raise bad_request(STS_SIGNATURE_MISMATCH)
        return identity

    # --- snapshots ---------------------------------------------------------------------------------------

    def export(self) -> JSONDict:
        return {"client_config": self.client_config, "roles": self.roles}
