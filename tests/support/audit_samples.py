"""Sample log lines, shaped like the real ones, with fake values.

Vault audit entries follow Vault's documented audit log schema
(developer.hashicorp.com/vault/docs/audit/schema): one JSON object per line with `time`, `type` (request or
response), `auth` (hashed `client_token` and `accessor`, `display_name`, `policies`, `token_policies`,
`metadata`, `entity_id`, `token_type`), `request` (`id`, `operation`, `mount_point`, `mount_type`, `path`,
hashed `client_token`, `remote_address`, ...), `response` on response entries, and `error` only when the
request failed. Strings Vault hashes appear as `hmac-sha256:<hex>`; the hex here is made up. Rotation
lines are what lambdas/rotation/handler.py prints.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

APP_POLICIES = ["default", "candlefish-app"]
DENIED = "1 error occurred:\n\t* permission denied\n\n"


def fake_hmac(label: str) -> str:
    return "hmac-sha256:" + hashlib.sha256(f"example-not-a-secret:{label}".encode()).hexdigest()


def audit_entry(
    *,
    kind: str = "response",
    operation: str = "read",
    path: str = "secret/data/candlefish/jwt/secret",
    policies: list[str] | None = None,
    token_policies: list[str] | None = None,
    display_name: str = "approle-candlefish-app",
    error: str | None = None,
    time: str = "2026-03-30T14:05:09.172344901Z",
    mount_type: str = "kv",
    mount_point: str = "secret/",
) -> dict[str, Any]:
    """One audit entry; defaults describe an application reading a catalog secret successfully."""
    policies = APP_POLICIES if policies is None else policies
    auth: dict[str, Any] = {
        "accessor": fake_hmac(f"accessor-{display_name}"),
        "client_token": fake_hmac(f"token-{display_name}"),
        "display_name": display_name,
        "entity_id": "7c2e5f0a-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
        "metadata": {"role_name": display_name.removeprefix("approle-")},
        "policies": list(policies),
        "token_policies": list(policies if token_policies is None else token_policies),
        "token_type": "service",
        "token_ttl": 3600,
        "token_issue_time": "2026-03-30T13:58:41Z",
    }
    request = {
        "id": "3f1c9e2a-5b7d-4c8e-9f0a-1b2c3d4e5f60",
        "operation": operation,
        "mount_point": mount_point,
        "mount_type": mount_type,
        "mount_accessor": "kv_0f1e2d3c" if mount_type == "kv" else f"auth_{mount_type}_5a6b7c8d",
        "client_token": auth["client_token"],
        "client_token_accessor": auth["accessor"],
        "namespace": {"id": "root"},
        "path": path,
        "remote_address": "10.0.1.37",
        "remote_port": 51844,
    }
    entry: dict[str, Any] = {"time": time, "type": kind, "auth": auth, "request": request}
    if kind == "response":
        entry["response"] = {"mount_point": mount_point, "mount_type": mount_type}
        if operation == "read" and error is None:
            entry["response"]["data"] = {"data": {"value": fake_hmac("value")}, "metadata": {"version": 3}}
    if error is not None:
        entry["error"] = error
    return entry


def failed_login(path: str, error: str, *, mount_type: str, kind: str = "response") -> dict[str, Any]:
    """A login that failed: an unauthenticated request, so the auth object carries no token."""
    entry = audit_entry(kind=kind, operation="update", path=path, error=error, mount_type=mount_type)
    entry["auth"] = {"token_type": "default", "policy_results": {"allowed": True}}
    for key in ("client_token", "client_token_accessor"):
        entry["request"].pop(key)
    entry["request"]["mount_point"] = "/".join(path.split("/")[:2]) + "/"
    if kind == "response":
        entry["response"] = {"mount_point": entry["request"]["mount_point"], "mount_type": mount_type}
    return entry


def line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"))


def with_changes(entry: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(entry)
    changed.update(changes)
    return changed


# Named audit entries, used by the metric filter tests, the Logs Insights query tests and the watcher tests.
AUDIT: dict[str, dict[str, Any]] = {
    "app reads a catalog secret": audit_entry(),
    "the request entry of that read": audit_entry(kind="request"),
    "app reads another team's secret": audit_entry(path="secret/data/payments/stripe"),
    "app reads a catalog secret's metadata": audit_entry(path="secret/metadata/candlefish/jwt/secret"),
    "app writes a catalog secret": audit_entry(operation="update"),
    "app is denied a catalog secret": audit_entry(path="secret/data/candlefish/encryption/key", error=DENIED),
    "userpass login with a wrong password": failed_login(
        "auth/userpass/login/alice", "invalid username or password", mount_type="userpass"
    ),
    "approle login with a bad secret id": failed_login(
        "auth/approle/login", "invalid role or secret ID", mount_type="approle"
    ),
    "the request entry of a failed login": failed_login(
        "auth/approle/login", "invalid role or secret ID", mount_type="approle", kind="request"
    ),
    "approle login that succeeds": with_changes(
        audit_entry(operation="update", path="auth/approle/login", mount_type="approle"),
        auth={"token_type": "default"},
    ),
    "admin denied updating the user named login": audit_entry(
        operation="update", path="auth/userpass/users/login", mount_type="userpass", error=DENIED
    ),
    "token lookup with a revoked token": audit_entry(
        path="auth/token/lookup-self", mount_type="token", error=DENIED
    ),
    "break-glass token reads a secret": audit_entry(
        display_name="userpass-oncall-alice",
        policies=["default", "break-glass"],
        path="secret/data/candlefish/mongodb/connection",
        time="2026-03-29T03:12:44.000000001Z",
    ),
    "the request entry of the break-glass read": audit_entry(
        kind="request", display_name="userpass-oncall-alice", policies=["default", "break-glass"]
    ),
    "auditor with a look-alike policy": audit_entry(
        display_name="userpass-auditor", policies=["default", "break-glass-auditor"]
    ),
    "root token lists mounts": audit_entry(
        display_name="root",
        policies=["root"],
        path="sys/mounts",
        mount_type="system",
        mount_point="sys/",
    ),
    "operator with a policy named like root": audit_entry(
        display_name="userpass-pki-operator",
        policies=["default", "root-ca-admin"],
        path="pki/ca/pem",
        mount_type="pki",
        mount_point="pki/",
    ),
    "rotation reads a secret at night": audit_entry(
        display_name="aws-candlefish-production-secret-rotation",
        policies=["default", "rotation"],
        time="2026-03-31T02:00:13.5Z",
    ),
}

ROTATION: dict[str, str] = {
    "rotation failed": json.dumps(
        {
            "event": "rotation_failed",
            "secret": "jwt-secret",
            "step": "setSecret",
            "error": "RotationError",
            "detail": "secret/candlefish/jwt/secret changed while rotating; Secrets Manager will retry",
        },
        sort_keys=True,
    ),
    "rotation step ok": json.dumps(
        {"event": "rotation_step_ok", "secret": "jwt-secret", "step": "setSecret"}
    ),
    "manual rotation due": json.dumps(
        {"event": "manual_rotation_due", "owner": "platform-team", "secret": "mongodb"}, sort_keys=True
    ),
    "lambda platform line": "START RequestId: 6c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f Version: $LATEST",
    "a failure mentioned in text": "rotation_failed for jwt-secret (plain text, not the structured event)",
}
