"""The break-glass procedure: request, approvals, activation, revocation, and the sweeper.

Each step checks the caller's verified identity (`identity.Caller`), makes one conditional write (`store`),
and records an event built from what it verified (`record`). Activation claims the request first (pending to
activating, once), mints the wrapped token, records it as active with its accessor, pages, and schedules the
one-shot revocation. If anything fails after the token was minted, the token is revoked again before the
request is put back; if even that fails, the request is marked failed with the accessor kept and the sweeper
retries, so no token the broker minted is ever unrecorded.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdas.break_glass_broker import (
    ACTIVATING,
    ACTIVE,
    CANCELLED,
    DENIED,
    EXPIRED,
    FAILED,
    FINAL_STATES,
    PENDING,
    REVOKED,
    rules,
)
from lambdas.break_glass_broker.identity import APPROVER, REQUESTER, Caller, Refused
from lambdas.break_glass_broker.record import Recorder, build_event
from lambdas.break_glass_broker.settings import Settings
from lambdas.break_glass_broker.store import ConditionFailed, Requests
from lambdas.break_glass_broker.tokens import TokenError, TokenSource

# An activation still claimed after this long was interrupted (the function's timeout is far shorter).
STALE_ACTIVATION_S = 300
# The one-shot schedule may fire a little early; earlier than this it is ignored.
SCHEDULE_SLACK_S = 60
HIDDEN_FIELDS = ("activation_id", "sk")
SCHEDULE = "schedule"
SWEEPER = "sweeper"


def _now() -> int:
    return int(time.time())


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Broker:
    settings: Settings
    requests: Requests
    recorder: Recorder
    tokens: TokenSource
    scheduler: Any
    clock: Callable[[], int] = field(default=_now)
    new_id: Callable[[], str] = field(default=_new_id)

    # --- requester and approver actions ------------------------------------------------------------

    def request(
        self, caller: Caller, justification: Any, duration: Any, drill: bool = False
    ) -> dict[str, Any]:
        _require(caller, REQUESTER, "request break-glass access")
        text = rules.justification(justification)
        seconds = rules.duration(duration, self.settings)
        now = self.clock()
        item = {
            "request_id": self.new_id(),
            "requester": caller.person,
            "requester_arn": caller.arn,
            "justification": text,
            "duration_s": seconds,
            "drill": bool(drill),
            "created_at": now,
            "approval_deadline": now + self.settings.approval_window_s,
            "min_approvals": self.settings.min_approvals,
            "expires_record_at": now + self.settings.record_retention_days * 86400,
        }
        self.requests.create(item)
        self._record("requested", {**item, "status": PENDING}, caller, now)
        return _view({**item, "status": PENDING})

    def approve(self, caller: Caller, request_id: Any) -> dict[str, Any]:
        _require(caller, APPROVER, "approve")
        rid, now = rules.request_id(request_id), self.clock()
        try:
            item = self.requests.approve(rid, caller.person, caller.arn, now)
        except ConditionFailed as failed:
            raise self._explain("approve", failed.item, caller, now) from None
        self._record("approved", item, caller, now)
        return _view(item)

    def deny(self, caller: Caller, request_id: Any, reason: Any = "") -> dict[str, Any]:
        _require(caller, APPROVER, "deny")
        return self._close(caller, request_id, DENIED, str(reason or ""), requester=False, action="deny")

    def cancel(self, caller: Caller, request_id: Any, reason: Any = "") -> dict[str, Any]:
        _require(caller, REQUESTER, "cancel")
        return self._close(caller, request_id, CANCELLED, str(reason or ""), requester=True, action="cancel")

    def _close(
        self, caller: Caller, request_id: Any, to: str, reason: str, *, requester: bool, action: str
    ) -> dict[str, Any]:
        rid, now = rules.request_id(request_id), self.clock()
        try:
            item = self.requests.close(
                rid, to=to, person=caller.person, now=now, reason=reason[:500], requester=requester
            )
        except ConditionFailed as failed:
            raise self._explain(action, failed.item, caller, now) from None
        self._record(to, item, caller, now, reason=reason[:500])
        return _view(item)

    def activate(self, caller: Caller, request_id: Any) -> dict[str, Any]:
        """The wrapped token, once per request, for the requester of an approved request."""
        _require(caller, REQUESTER, "activate")
        rid, now = rules.request_id(request_id), self.clock()
        activation = self.new_id()
        try:
            claimed = self.requests.begin_activation(
                rid, caller.person, activation, now, self.settings.min_approvals
            )
        except ConditionFailed as failed:
            raise self._explain("activate", failed.item, caller, now) from None
        role = self.settings.drill_token_role if claimed.get("drill") else self.settings.token_role
        seconds = int(claimed["duration_s"])
        try:
            wrapped = self.tokens.mint(
                role,
                seconds,
                self.settings.wrap_ttl_s,
                meta={"request_id": rid, "requester": caller.person},
                display=f"break-glass-{rid}",  # the audit log shows it as auth.display_name
            )
        except TokenError as error:
            self._rollback(claimed, activation, caller, now=now, reason=str(error), accessor="")
            raise Refused(502, "vault-refused", f"no token was issued: {error}") from None
        try:
            active = self.requests.finish_activation(
                rid, activation, (wrapped.accessor, wrapped.accessor_hmac), now, now + seconds
            )
            event = self._record("activated", active, caller, now)
            self.recorder.page(event, f"Break-glass access ACTIVE{' (drill)' if active.get('drill') else ''}")
        except Exception as error:  # anything at all: the minted token must not survive unrecorded
            reason = f"{type(error).__name__}: {error}"
            self._rollback(claimed, activation, caller, now=now, reason=reason, accessor=wrapped.accessor)
            raise Refused(
                500, "activation-undone", "the activation could not be recorded, so its token was revoked"
            ) from None
        self._schedule_revocation(active, caller, now)
        return {**_view(active), "wrapping_token": wrapped.wrapping_token, "wrap_ttl_s": wrapped.wrap_ttl_s}

    def revoke(self, caller: Caller, request_id: Any, reason: Any = "") -> dict[str, Any]:
        rid = rules.request_id(request_id)
        item = self.requests.get(rid)
        if not item:
            raise Refused(404, "not-found", "no such break-glass request")
        if APPROVER not in caller.may and caller.person != item.get("requester"):
            raise Refused(403, "not-allowed", "only the requester or an approver may revoke a grant")
        if item.get("status") != ACTIVE:
            raise Refused(
                409, f"request-{item.get('status')}", f"the request is {item.get('status')}, not active"
            )
        return _view(
            self._revoke(item, by=caller.person, arn=caller.arn, to=REVOKED, reason=str(reason or ""))
        )

    def status(self, caller: Caller, request_id: Any) -> dict[str, Any]:
        del caller  # any requester or approver session may look
        rid = rules.request_id(request_id)
        item = self.requests.get(rid)
        if not item:
            raise Refused(404, "not-found", "no such break-glass request")
        view = _view(item)
        view["events"] = [event["event"] for event in self.requests.events(rid)]
        return view

    def list(
        self, caller: Caller, states: tuple[str, ...] = (PENDING, ACTIVATING, ACTIVE)
    ) -> list[dict[str, Any]]:
        del caller
        return [_view(item) for state in states for item in self.requests.in_state(state)]

    # --- the schedules ------------------------------------------------------------------------------

    def scheduled_revoke(self, request_id: Any) -> dict[str, Any]:
        """The one-shot schedule at the end of a grant's window."""
        rid, now = rules.request_id(request_id), self.clock()
        item = self.requests.get(rid)
        if item.get("status") != ACTIVE or now + SCHEDULE_SLACK_S < int(item.get("ends_at") or 0):
            return {"request_id": rid, "revoked": False, "status": item.get("status", "")}
        ended = self._revoke(item, by=SCHEDULE, arn="", to=EXPIRED, reason="the window ended")
        return {"request_id": rid, "revoked": True, "status": ended.get("status")}

    def sweep(self) -> dict[str, int]:
        """Revoke what outlived its window, finish interrupted activations, expire stale requests."""
        now, counts = self.clock(), {"revoked": 0, "expired": 0, "failed": 0, "retried": 0}
        for item in list(self.requests.in_state(ACTIVE)):
            if int(item.get("ends_at") or 0) <= now:
                self._revoke(item, by=SWEEPER, arn="", to=EXPIRED, reason="active past its window")
                counts["revoked"] += 1
        for item in list(self.requests.in_state(ACTIVATING)):
            if int(item.get("activation_started_at") or 0) + STALE_ACTIVATION_S <= now:
                self._end(item, (ACTIVATING,), FAILED, "the broker stopped during activation", now)
                counts["failed"] += 1
        for item in list(self.requests.in_state(FAILED)):
            if item.get("revoke_pending") and item.get("accessor"):
                self.tokens.revoke(str(item["accessor"]))
                self.requests.revoked_after_failure(str(item["request_id"]), now)
                self._record("revoked", item, None, now, reason="token of a failed activation")
                counts["retried"] += 1
        for item in list(self.requests.in_state(PENDING)):
            if int(item.get("approval_deadline") or 0) <= now:
                self._end(item, (PENDING,), EXPIRED, "not activated before the approval deadline", now)
                counts["expired"] += 1
        self.recorder.count_swept(counts["revoked"] + counts["retried"])
        if counts["revoked"] or counts["retried"]:
            self.recorder.page(
                build_event("swept", {"request_id": ""}, actor=SWEEPER, actor_arn="", at=now, **counts),
                "Break-glass sweeper had to revoke grants past their window",
            )
        return counts

    # --- internals ----------------------------------------------------------------------------------

    def _revoke(self, item: dict[str, Any], *, by: str, arn: str, to: str, reason: str) -> dict[str, Any]:
        """Revoke in Vault first; only then mark the request ended (a failed revoke leaves it active)."""
        rid, now = str(item["request_id"]), self.clock()
        try:
            self.tokens.revoke(str(item["accessor"]))
        except TokenError as error:
            raise Refused(502, "vault-refused", f"the grant is still active: {error}") from None
        try:
            ended = self.requests.end(rid, from_states=(ACTIVE,), to=to, by=by, now=now, reason=reason)
        except ConditionFailed as failed:
            if failed.item.get("status") in FINAL_STATES:
                return failed.item  # ended meanwhile by someone else: the token is gone either way
            raise
        event = build_event(
            "revoked" if to == REVOKED else "expired", ended, actor=by, actor_arn=arn, at=now, reason=reason
        )
        self.recorder.record(event)
        self._delete_schedule(rid)
        return ended

    def _end(self, item: dict[str, Any], states: tuple[str, ...], to: str, reason: str, now: int) -> None:
        try:
            ended = self.requests.end(
                str(item["request_id"]), from_states=states, to=to, by=SWEEPER, now=now, reason=reason
            )
        except ConditionFailed:
            return  # it moved on meanwhile
        self.recorder.record(build_event(to, ended, actor=SWEEPER, actor_arn="", at=now, reason=reason))

    def _rollback(
        self,
        claimed: dict[str, Any],
        activation: str,
        caller: Caller,
        *,
        now: int,
        reason: str,
        accessor: str,
    ) -> None:
        revoked = not accessor
        if accessor:
            try:
                self.tokens.revoke(accessor)
                revoked = True
            except TokenError:
                revoked = False
        to = PENDING if revoked else FAILED
        item = self.requests.rollback_activation(
            str(claimed["request_id"]), activation, to=to, reason=reason[:500], accessor=accessor, now=now
        )
        # The request's own state already says what happened if even this record cannot be written.
        with contextlib.suppress(Exception):
            self._record("activation-failed", item, caller, now, reason=reason[:500], token_revoked=revoked)

    def _schedule_revocation(self, item: dict[str, Any], caller: Caller, now: int) -> None:
        rid, ends = str(item["request_id"]), int(item["ends_at"])
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ends))
        try:
            self.scheduler.create_schedule(
                Name=schedule_name(rid),
                GroupName=self.settings.scheduler_group,
                ScheduleExpression=f"at({when})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self.settings.function_arn,
                    "RoleArn": self.settings.scheduler_role_arn,
                    "Input": json.dumps({"action": "scheduled-revoke", "request_id": rid}),
                    "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
                },
            )
        except Exception as error:  # Vault's TTL and the sweeper still end the grant
            self._record("schedule-failed", item, caller, now, reason=f"{type(error).__name__}")

    def _delete_schedule(self, request_id: str) -> None:
        # Gone already (a one-shot schedule deletes itself after running) or never made: nothing to do.
        with contextlib.suppress(Exception):
            self.scheduler.delete_schedule(
                Name=schedule_name(request_id), GroupName=self.settings.scheduler_group
            )

    def _record(
        self, name: str, item: dict[str, Any], caller: Caller | None, now: int, **extra: Any
    ) -> dict[str, Any]:
        event = build_event(
            name,
            item,
            actor=caller.person if caller else SWEEPER,
            actor_arn=caller.arn if caller else "",
            at=now,
            **extra,
        )
        self.recorder.record(event)
        return event

    def _explain(self, action: str, item: dict[str, Any], caller: Caller, now: int) -> Refused:
        return rules.explain(action, item, caller.person, now, self.settings.min_approvals)


def schedule_name(request_id: str) -> str:
    return f"break-glass-revoke-{request_id}"


def _require(caller: Caller, kind: str, doing: str) -> None:
    if kind not in caller.may:
        raise Refused(
            403,
            "approver-not-listed" if kind == APPROVER else "requester-not-listed",
            f"{caller.person} is not listed as a break-glass {kind} and may not {doing}",
        )


def _view(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in HIDDEN_FIELDS}
