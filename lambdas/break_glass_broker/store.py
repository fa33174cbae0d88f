"""The requests table: every state change is one conditional write, so races cannot break the rules.

One item per request (`request_id`, `sk = "request"`) and one per recorded event (`sk = "event#..."`). A
write names the state it expects; DynamoDB applies it only if the item still is in that state, so two
activations of one request, an approval after the deadline, a second approval by the same person or an
approval of one's own request cannot happen, however the calls interleave. A refused write is explained
from the item DynamoDB returns with the refusal (or a consistent re-read), never by guessing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambdas.break_glass_broker import ACTIVATING, ACTIVE, FAILED, PENDING

REQUEST_SK = "request"
STATUS_INDEX = "status-index"

_to_dynamo = TypeSerializer().serialize
_from_dynamo = TypeDeserializer().deserialize


def _native(value: Any) -> Any:
    """DynamoDB's decoded values as JSON-ready ones: numbers as int, sets as sorted lists, nested too."""
    if isinstance(value, dict):
        return {key: _native(inner) for key, inner in value.items()}
    if isinstance(value, set):
        return sorted(_native(inner) for inner in value)
    if isinstance(value, list):
        return [_native(inner) for inner in value]
    if isinstance(value, Decimal):
        return int(value)
    return value


def plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed form as plain values (see `_native`)."""
    return {key: _native(_from_dynamo(value)) for key, value in item.items()}


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _to_dynamo(value) for name, value in values.items()}


class ConditionFailed(Exception):
    """The write's condition did not hold; `item` is the request as it was (empty if there is none)."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.item = item


class Requests:
    """Conditional reads and writes on the requests table."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def get(self, request_id: str) -> dict[str, Any]:
        answer = self.dynamodb.get_item(
            TableName=self.table,
            Key=_values({"request_id": request_id, "sk": REQUEST_SK}),
            ConsistentRead=True,
        )
        return plain(answer.get("Item") or {})

    def _update(
        self,
        request_id: str,
        update: str,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            answer = self.dynamodb.update_item(
                TableName=self.table,
                Key=_values({"request_id": request_id, "sk": REQUEST_SK}),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", **(names or {})},
                ExpressionAttributeValues={f":{name}": _to_dynamo(value) for name, value in values.items()},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as error:
            old = getattr(error, "response", {}).get("Item")
            raise ConditionFailed(plain(old) if old else self.get(request_id)) from None
        return plain(answer["Attributes"])

    def create(self, item: Mapping[str, Any]) -> None:
        """A new request; the id must be unused."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=_values({**item, "sk": REQUEST_SK, "status": PENDING}),
                ConditionExpression="attribute_not_exists(request_id)",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(self.get(str(item["request_id"]))) from None

    def approve(self, request_id: str, person: str, arn: str, now: int) -> dict[str, Any]:
        """Count one person's approval: pending, before the deadline, not the requester, not counted yet."""
        return self._update(
            request_id,
            "ADD approvers :person_set "
            "SET approvals = list_append(if_not_exists(approvals, :none), :approval), updated_at = :now",
            "#s = :pending AND approval_deadline > :now AND requester <> :person "
            "AND NOT contains(approvers, :person)",
            {
                "pending": PENDING,
                "now": now,
                "person": person,
                "person_set": {person},
                "none": [],
                "approval": [{"person": person, "arn": arn, "at": now}],
            },
        )

    def close(
        self, request_id: str, *, to: str, person: str, now: int, reason: str, requester: bool
    ) -> dict[str, Any]:
        """Deny (an approver, never the requester) or cancel (the requester) a pending request."""
        who = "requester = :person" if requester else "requester <> :person"
        return self._update(
            request_id,
            "SET #s = :to, closed_by = :person, closed_at = :now, close_reason = :reason",
            f"#s = :pending AND {who}",
            {"pending": PENDING, "to": to, "person": person, "now": now, "reason": reason},
        )

    def begin_activation(
        self, request_id: str, person: str, activation_id: str, now: int, min_approvals: int
    ) -> dict[str, Any]:
        """Claim the one activation a request may have: the requester, enough approvals, in time."""
        return self._update(
            request_id,
            "SET #s = :activating, activation_id = :activation, activation_started_at = :now",
            "#s = :pending AND requester = :person AND approval_deadline > :now "
            "AND attribute_exists(approvers) AND size(approvers) >= :min",
            {
                "pending": PENDING,
                "activating": ACTIVATING,
                "person": person,
                "activation": activation_id,
                "now": now,
                "min": min_approvals,
            },
        )

    def finish_activation(
        self, request_id: str, activation_id: str, accessor: tuple[str, str], now: int, ends_at: int
    ) -> dict[str, Any]:
        """Record the minted token's accessor (and its audit-log HMAC) and the end of its window."""
        return self._update(
            request_id,
            "SET #s = :active, accessor = :accessor, accessor_hmac = :hmac, activated_at = :now, "
            "ends_at = :ends",
            "#s = :activating AND activation_id = :activation",
            {
                "activating": ACTIVATING,
                "active": ACTIVE,
                "activation": activation_id,
                "accessor": accessor[0],
                "hmac": accessor[1],
                "now": now,
                "ends": ends_at,
            },
        )

    def rollback_activation(
        self, request_id: str, activation_id: str, *, to: str, reason: str, accessor: str, now: int
    ) -> dict[str, Any]:
        """Undo an activation that failed after claiming the request. `to` is `pending` when nothing it
        minted is left (the requester may try again), or `failed` with the accessor kept and
        `revoke_pending` set when a minted token could not be revoked (the sweeper retries)."""
        if to == PENDING:
            update = (
                "SET #s = :to, failure = :reason, failed_at = :now REMOVE activation_id, accessor, ends_at"
            )
            values: dict[str, Any] = {}
        else:
            update = (
                "SET #s = :to, failure = :reason, failed_at = :now, accessor = :accessor, "
                "revoke_pending = :pending_revoke REMOVE activation_id"
            )
            values = {"accessor": accessor, "pending_revoke": bool(accessor)}
        return self._update(
            request_id,
            update,
            "#s IN (:activating, :active) AND activation_id = :activation",
            {
                "activating": ACTIVATING,
                "active": ACTIVE,
                "activation": activation_id,
                "to": to,
                "reason": reason,
                "now": now,
                **values,
            },
        )

    def revoked_after_failure(self, request_id: str, now: int) -> dict[str, Any]:
        """The sweeper revoked the token a failed activation left behind."""
        return self._update(
            request_id,
            "SET revoke_pending = :done, revoked_at = :now",
            "#s = :failed AND revoke_pending = :pending_revoke",
            {"failed": FAILED, "done": False, "pending_revoke": True, "now": now},
        )

    def end(
        self, request_id: str, *, from_states: tuple[str, ...], to: str, by: str, now: int, reason: str
    ) -> dict[str, Any]:
        """Move a request out of one of `from_states` (revoked, expired, ...)."""
        states = {f"from{index}": state for index, state in enumerate(from_states)}
        condition = "#s IN (" + ", ".join(f":{name}" for name in states) + ")"
        return self._update(
            request_id,
            "SET #s = :to, ended_by = :by, ended_at = :now, end_reason = :reason",
            condition,
            {**states, "to": to, "by": by, "now": now, "reason": reason},
        )

    def put_event(self, item: Mapping[str, Any]) -> None:
        self.dynamodb.put_item(
            TableName=self.table,
            Item=_values(item),
            ConditionExpression="attribute_not_exists(sk)",
        )

    def events(self, request_id: str) -> list[dict[str, Any]]:
        answer = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="request_id = :id AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_values({":id": request_id, ":prefix": "event#"}),
            ConsistentRead=True,
        )
        return [plain(item) for item in answer.get("Items") or []]

    def in_state(self, status: str) -> Iterator[dict[str, Any]]:
        """Requests in a state, newest first (the status index; eventually consistent)."""
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#s = :status",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_values({":status": status}),
            ScanIndexForward=False,
        ):
            for item in page.get("Items") or []:
                yield plain(item)
