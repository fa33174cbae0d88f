"""Break-glass access from Python: `BreakGlass(BrokerClient(url)).request(...)`, approve, activate, revoke.

The broker is a Lambda function URL with AWS_IAM auth: every call is SigV4-signed with the caller's AWS
credentials (a session of the break-glass requester or approver role), and the broker takes the caller's
identity from AWS, never from the request. `activate` receives a response-wrapped token and unwraps it at
Vault exactly once, so the token itself crosses the wire once, and checks that the unwrapped token is the
one the broker recorded (same accessor). `Grant` never shows the token in its repr.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from candlefish_secrets.errors import (
    AccessDenied,
    ConfigurationError,
    SecretNotFound,
    SecretsError,
    VaultUnavailable,
)

TIMEOUT_S = 30


class BreakGlassRefused(SecretsError):
    """The broker refused in the request's current state (expired, already active, not enough approvals)."""

    exit_code = 1

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def refusal(status: int, code: str, message: str) -> SecretsError:
    """The broker's answer as the SDK's error for it (the CLI's exit code follows)."""
    if code:
        text = f"{message} ({code})"
    else:  # refused before the broker ran: Lambda's own SigV4 and lambda:InvokeFunctionUrl check
        text = (
            f"the broker URL refused the call (HTTP {status} {message}): sign in as the break-glass "
            "requester or approver role, with MFA"
        )
    error: SecretsError
    if status == 400:
        error = ConfigurationError(text)
    elif status in {401, 403}:
        error = AccessDenied(text)
    elif status == 404:
        error = SecretNotFound(text)
    elif status >= 500:
        error = VaultUnavailable(text)
    else:
        error = BreakGlassRefused(text, code=code)
    return error


class BrokerClient:
    """SigV4-signed JSON calls to the broker's function URL (service `lambda`)."""

    def __init__(self, url: str, *, session: Any = None, region: str | None = None) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in {"https", "http"} or not parsed.netloc:
            raise ConfigurationError(
                f"broker URL {url!r}: use the function URL, https://<id>.lambda-url.<region>.on.aws/"
            )
        self.url = url.rstrip("/")
        self.region = region or _region_of(parsed.netloc)
        self._session = session

    def _credentials(self) -> Any:
        import boto3  # noqa: PLC0415 - only break-glass users pay for boto3

        session = self._session or boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise AccessDenied("no AWS credentials: sign in as the break-glass requester or approver role")
        return credentials.get_frozen_credentials()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import requests  # noqa: PLC0415
        from botocore.auth import SigV4Auth  # noqa: PLC0415
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415

        data = json.dumps(body) if body is not None else None
        request = AWSRequest(
            method=method, url=f"{self.url}{path}", data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(self._credentials(), "lambda", self.region).add_auth(request)
        try:
            answer = requests.request(
                method, request.url, data=data, headers=dict(request.headers.items()), timeout=TIMEOUT_S
            )
        except requests.RequestException as error:
            raise VaultUnavailable(
                f"the break-glass broker at {self.url} is unreachable: {type(error).__name__}"
            ) from None
        try:
            document = answer.json()
        except ValueError:
            document = {}
        if answer.status_code != 200:
            message = document.get("message") or document.get("Message") or f"HTTP {answer.status_code}"
            raise refusal(answer.status_code, str(document.get("error") or ""), str(message))
        return document


@dataclass(frozen=True)
class Grant:
    """An activated break-glass grant: the Vault token (never in repr), its accessor and its end."""

    request_id: str
    token: str = field(repr=False)
    accessor: str
    ends_at: int
    policies: tuple[str, ...]


class BreakGlass:
    """The break-glass procedure for one caller (whose AWS session signs the broker calls)."""

    def __init__(
        self, client: BrokerClient, *, vault_addr: str | None = None, verify: bool | str = True
    ) -> None:
        self.client = client
        self.vault_addr = (vault_addr or "").rstrip("/")
        self.verify = verify

    def request(self, justification: str, duration: str = "30m", *, drill: bool = False) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.call(
            "POST", "/requests", {"justification": justification, "duration": duration, "drill": drill}
        )
        return answer

    def approve(self, request_id: str) -> dict[str, Any]:
        return dict(self.client.call("POST", f"/requests/{_id(request_id)}/approve", {}))

    def deny(self, request_id: str, reason: str = "") -> dict[str, Any]:
        return dict(self.client.call("POST", f"/requests/{_id(request_id)}/deny", {"reason": reason}))

    def cancel(self, request_id: str, reason: str = "") -> dict[str, Any]:
        return dict(self.client.call("POST", f"/requests/{_id(request_id)}/cancel", {"reason": reason}))

    def revoke(self, request_id: str, reason: str = "") -> dict[str, Any]:
        return dict(self.client.call("POST", f"/requests/{_id(request_id)}/revoke", {"reason": reason}))

    def status(self, request_id: str) -> dict[str, Any]:
        return dict(self.client.call("GET", f"/requests/{_id(request_id)}"))

    def list(self, *, include_closed: bool = False) -> list[dict[str, Any]]:
        return list(self.client.call("GET", "/requests" + ("?all=1" if include_closed else "")))

    def activate(self, request_id: str) -> Grant:
        """Activate an approved request and unwrap its token (once)."""
        if not self.vault_addr:
            raise ConfigurationError("activate needs the Vault address to unwrap the token: set VAULT_ADDR")
        answer = self.client.call("POST", f"/requests/{_id(request_id)}/activate", {})
        auth = self._unwrap(str(answer.get("wrapping_token") or ""))
        if auth.get("accessor") != answer.get("accessor"):
            raise AccessDenied(
                "the unwrapped token is not the one the broker recorded (accessor mismatch): do not use it; "
                f"revoke request {request_id} and report the incident"
            )
        return Grant(
            request_id=str(answer["request_id"]),
            token=str(auth["client_token"]),
            accessor=str(auth["accessor"]),
            ends_at=int(answer.get("ends_at") or 0),
            policies=tuple(auth.get("policies") or ()),
        )

    def _unwrap(self, wrapping_token: str) -> dict[str, Any]:
        import requests  # noqa: PLC0415

        try:
            answer = requests.post(
                f"{self.vault_addr}/v1/sys/wrapping/unwrap",
                headers={"X-Vault-Token": wrapping_token},
                verify=self.verify,
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise VaultUnavailable(
                f"could not reach Vault at {self.vault_addr} to unwrap: {type(error).__name__}"
            ) from None
        if answer.status_code != 200:
            raise AccessDenied(
                f"Vault refused to unwrap the break-glass token (HTTP {answer.status_code}): a wrapping "
                "token works once; if you did not unwrap it, someone else did: revoke the request and "
                "report it"
            )
        auth: dict[str, Any] = answer.json().get("auth") or {}
        return auth

    def token_works(self, grant: Grant) -> dict[str, Any] | None:
        """Vault's lookup-self for the grant's token, or None when Vault refuses it (revoked, expired)."""
        import requests  # noqa: PLC0415

        answer = requests.get(
            f"{self.vault_addr}/v1/auth/token/lookup-self",
            headers={"X-Vault-Token": grant.token},
            verify=self.verify,
            timeout=TIMEOUT_S,
        )
        if answer.status_code == 403:
            return None
        if answer.status_code != 200:
            raise VaultUnavailable(f"Vault answered lookup-self with HTTP {answer.status_code}")
        data: dict[str, Any] = answer.json().get("data") or {}
        return data


@dataclass
class DrillReport:
    """What a drill measured and found."""

    request_id: str = ""
    seconds_to_access: float = 0.0
    steps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def drill(
    requester: BreakGlass,
    approvers: list[BreakGlass],
    justification: str,
    duration: str = "5m",
    *,
    wait_for_expiry: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 15.0,
) -> DrillReport:
    """The whole procedure end to end with the harmless drill policy: request, approvals, activation, the
    token works and is recorded (and so paged: an activation that cannot page is undone), then the end of
    access, and Vault refusing the token afterwards. Reports the time from request to access.

    With `wait_for_expiry` the drill does not revoke: it waits for the window to end and checks that the
    automatic revocation came on time (the request expired and Vault refuses the token within
    `EXPIRY_GRACE_S` of the end); otherwise it revokes at once."""
    report = DrillReport()
    started = time.monotonic()
    made = requester.request(justification, duration, drill=True)
    report.request_id = str(made["request_id"])
    report.steps.append(f"requested {report.request_id}")
    for approver in approvers:
        approver.approve(report.request_id)
        report.steps.append("approved")
    grant = requester.activate(report.request_id)
    looked = requester.token_works(grant)
    report.seconds_to_access = round(time.monotonic() - started, 3)
    if looked is None or list(looked.get("policies") or []) != ["break-glass-drill"]:
        report.problems.append(
            "the drill token does not work or carries other policies than break-glass-drill"
        )
    else:
        report.steps.append(f"token works ({', '.join(looked['policies'])}), ttl {looked.get('ttl')}s")
    status = requester.status(report.request_id)
    events = status.get("events") or []
    if status.get("accessor") != grant.accessor or not any("break-glass.activated" in e for e in events):
        report.problems.append("the activation is not recorded with the token's accessor")
    else:
        report.steps.append("activation recorded (and paged) with the token's accessor")
    if wait_for_expiry:
        _await_expiry(requester, grant, report, sleep, poll_s)
        return report
    requester.revoke(report.request_id, "break-glass drill finished")
    if requester.token_works(grant) is not None:
        report.problems.append("the drill token still works after revocation")
    else:
        report.steps.append("revoked: Vault refuses the token")
    return report


# How long after the window's end the automatic revocation may take (Scheduler fires within a minute).
EXPIRY_GRACE_S = 120
# At most 4 h + grace at the default 15 s between polls.
MAX_POLLS = 1000


def _await_expiry(
    requester: BreakGlass, grant: Grant, report: DrillReport, sleep: Callable[[float], None], poll_s: float
) -> None:
    deadline = grant.ends_at + EXPIRY_GRACE_S
    for _poll in range(MAX_POLLS):
        if time.time() >= deadline:
            break
        sleep(poll_s)
        if requester.status(report.request_id).get("status") == "expired":
            break
    status = requester.status(report.request_id).get("status")
    if status != "expired":
        report.problems.append(
            f"the grant was not revoked on time: still {status} {EXPIRY_GRACE_S}s after its end"
        )
        requester.revoke(report.request_id, "break-glass drill: automatic revocation late")
    elif requester.token_works(grant) is not None:
        report.problems.append("the request expired but Vault still accepts the drill token")
    else:
        report.steps.append("revoked on time by the schedule: Vault refuses the token")


def _id(request_id: str) -> str:
    text = str(request_id).strip().lower()
    if len(text) != 32 or any(char not in "0123456789abcdef" for char in text):
        raise ConfigurationError(f"request id {request_id!r}: 32 hex characters, as `request` printed")
    return text


def _region_of(host: str) -> str:
    """The region in a function URL's host, `<url-id>.lambda-url.<region>.on.aws`."""
    parts = host.split(".")
    if "lambda-url" in parts and parts.index("lambda-url") + 1 < len(parts):
        return parts[parts.index("lambda-url") + 1]
    raise ConfigurationError(f"cannot tell the region from the broker URL's host {host!r}: pass the region")
