"""The Slack forwarder: every notification on the alerts topic, posted to Slack's incoming webhook.

The webhook URL is a credential, so it is never in this function's configuration: the environment names
only the Secrets Manager secret that holds it (SLACK_WEBHOOK_SECRET_ARN), and the value is read at run time
and kept in memory for a few minutes (a changed webhook takes effect without a deploy). The URL is never
logged. A failed post raises, so Lambda's asynchronous retries (SNS invokes asynchronously) try again.
Standard library only (urllib) besides boto3, which the runtime ships.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from typing import Any

import boto3

from lambdas.slack_forwarder.message import AlarmNotice, notice, slack_payload

CACHE_SECONDS = 300
POST_TIMEOUT_SECONDS = 10
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

_cached: tuple[str, float] | None = None


class ForwardError(RuntimeError):
    """Slack did not accept a message."""


def log(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True))


def check_webhook_url(url: str) -> str:
    """The URL, if alerts may be sent to it: HTTPS only (plain HTTP to loopback is for tests)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url
    raise ForwardError("the Slack webhook secret does not hold an https:// URL")


def webhook_url(secrets_manager: Any, secret_arn: str, now: float | None = None) -> str:
    """The webhook URL from Secrets Manager, cached for CACHE_SECONDS."""
    global _cached  # noqa: PLW0603 - a per-container cache is the point
    moment = time.monotonic() if now is None else now
    if _cached is not None and moment - _cached[1] < CACHE_SECONDS:
        return _cached[0]
    value = str(secrets_manager.get_secret_value(SecretId=secret_arn)["SecretString"]).strip()
    _cached = (check_webhook_url(value), moment)
    return value


def post(url: str, payload: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by check_webhook_url
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:  # noqa: S310
        return int(response.status)


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    url = webhook_url(boto3.client("secretsmanager"), os.environ["SLACK_WEBHOOK_SECRET_ARN"])
    posted = 0
    for record in event.get("Records") or []:
        item = notice(record.get("Sns") or {})
        label = item.name if isinstance(item, AlarmNotice) else item.subject
        try:
            status = post(url, slack_payload(item))
        except OSError as error:  # urllib's HTTPError and URLError are OSErrors
            log("slack_post_failed", notice=label, error=type(error).__name__, detail=str(error)[:200])
            raise ForwardError(f"Slack did not accept the notice {label!r}") from None
        log("slack_posted", notice=label, status=status)
        posted += 1
    return {"posted": posted}
