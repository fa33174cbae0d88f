"""Entry point: function URL requests (AWS_IAM auth) and the two schedules' events.

Routes (JSON bodies; the caller is whoever AWS says signed the request):
  POST /requests                      {"justification", "duration", "drill"}   request
  POST /requests/<id>/approve                                                  approve
  POST /requests/<id>/deny            {"reason"}                               deny
  POST /requests/<id>/cancel          {"reason"}                               cancel
  POST /requests/<id>/activate                                                 activate (wrapped token)
  POST /requests/<id>/revoke          {"reason"}                               revoke
  GET  /requests/<id>                                                          status
  GET  /requests[?all=1]                                                       list
Schedules invoke the function directly with {"action": "scheduled-revoke", "request_id"} or
{"action": "sweep"}; neither can be sent through the function URL, whose events always carry a request
context and a body that is only read as arguments.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
from botocore.config import Config

from lambdas.break_glass_broker import FINAL_STATES
from lambdas.break_glass_broker.broker import Broker
from lambdas.break_glass_broker.identity import Caller, Refused, caller_from_event
from lambdas.break_glass_broker.record import Recorder
from lambdas.break_glass_broker.settings import Settings
from lambdas.break_glass_broker.store import Requests
from lambdas.break_glass_broker.tokens import Tokens
from lambdas.rotation.vault import VaultClient

RETRIES = Config(retries={"max_attempts": 4, "mode": "standard"})


def build(settings: Settings, session: Any = None) -> Broker:
    """The broker with real AWS clients and AWS IAM auth to Vault."""
    aws = session or boto3.session.Session()

    def client(service: str) -> Any:
        return aws.client(service, config=RETRIES)

    def login() -> VaultClient:
        vault = VaultClient(settings.vault_addr, settings.vault_ca_pem)
        credentials = aws.get_credentials().get_frozen_credentials()
        vault.login_aws(settings.vault_role, settings.region, credentials, settings.vault_server_id)
        return vault

    requests = Requests(client("dynamodb"), settings.table)
    recorder = Recorder(
        logs=client("logs"),
        sns=client("sns"),
        cloudwatch=client("cloudwatch"),
        requests=requests,
        log_group=settings.log_group,
        topic_arn=settings.topic_arn,
        retention_days=settings.record_retention_days,
    )
    return Broker(settings, requests, recorder, Tokens(login), client("scheduler"))


def respond(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body, sort_keys=True),
    }


def handle_url(broker: Broker, event: dict[str, Any]) -> dict[str, Any]:
    settings = broker.settings
    try:
        caller = caller_from_event(
            event,
            account_id=settings.account_id,
            role_prefix=settings.role_prefix,
            people=settings.people,
        )
        return respond(200, route(broker, caller, event))
    except Refused as refused:
        print(json.dumps({"event": "break-glass.refused", "code": refused.code, "status": refused.status}))
        return respond(refused.status, {"error": refused.code, "message": str(refused)})


def _body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise Refused(400, "bad-body", "the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Refused(400, "bad-body", "the request body must be a JSON object")
    return body


def route(broker: Broker, caller: Caller, event: dict[str, Any]) -> Any:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "GET").upper()
    parts = [part for part in str(event.get("rawPath") or "/").split("/") if part]
    body = _body(event) if method == "POST" else {}
    if parts == ["requests"] and method == "POST":
        return broker.request(
            caller, body.get("justification"), body.get("duration"), bool(body.get("drill"))
        )
    if parts == ["requests"] and method == "GET":
        query = event.get("queryStringParameters") or {}
        if query.get("all"):
            return broker.list(caller, ("pending", "activating", "active", *FINAL_STATES))
        return broker.list(caller)
    if len(parts) == 2 and parts[0] == "requests" and method == "GET":
        return broker.status(caller, parts[1])
    if len(parts) == 3 and parts[0] == "requests" and method == "POST":
        request_id, action = parts[1], parts[2]
        if action == "approve":
            return broker.approve(caller, request_id)
        if action == "deny":
            return broker.deny(caller, request_id, body.get("reason"))
        if action == "cancel":
            return broker.cancel(caller, request_id, body.get("reason"))
        if action == "activate":
            return broker.activate(caller, request_id)
        if action == "revoke":
            return broker.revoke(caller, request_id, body.get("reason"))
    raise Refused(404, "no-such-route", f"{method} /{'/'.join(parts)} is not a break-glass operation")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    settings = Settings.from_environment()
    if not settings.function_arn and context is not None:
        settings = Settings(**{**settings.__dict__, "function_arn": context.invoked_function_arn})
    broker = build(settings)
    if "requestContext" in event:
        return handle_url(broker, event)
    action = event.get("action")
    if action == "scheduled-revoke":
        return broker.scheduled_revoke(event.get("request_id"))
    if action == "sweep":
        return broker.sweep()
    raise ValueError(f"unknown invocation: {sorted(event)}")
