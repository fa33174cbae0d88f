"""Scheduled rotation of the Redis AUTH token (`candlefish/<env>/redis/auth`) without downtime.

ElastiCache holds at most two AUTH tokens. `ROTATE` adds a new token beside the current one; `SET`, allowed
only after a `ROTATE`, keeps only the token it names. Clients read the token from the secret, so the old
token must stay valid until every client has read the new one. The steps:

- createSecret: first finish the previous rotation: if the `AWSCURRENT` version carries the label
  `REDIS_AUTH_ROTATED` (its token was added with ROTATE and the old one still works), `SET` that token,
  which drops the token before it, and remove the label. Then stage a new token as `AWSPENDING` (the
  secret's JSON with only `auth_token` changed).
- setSecret: wait until the group is `available`, `ModifyReplicationGroup` with the pending token,
  `AuthTokenUpdateStrategy=ROTATE`, `ApplyImmediately`, label the pending version `REDIS_AUTH_ROTATED`
  (so a retried step does not ROTATE twice), and wait until the group is `available` again. Both tokens
  work from here on.
- testSecret: ElastiCache accepted the ROTATE for this token (the pending version carries the label, set
  only after ModifyReplicationGroup succeeded) and has applied it: the group is `available` with no
  pending AUTH token change, and AUTH and in-transit encryption are on. (The function has no network path
  to Redis itself, so it does not send `AUTH` with the new token.)
- finishSecret: move `AWSCURRENT` to the new version (and release `AWSPENDING`). Clients pick it up on their
  next read.

So the interval between a token's ROTATE and the SET that removes its predecessor is one rotation period
(`redisAuthRotationDays`): every client has that long to re-read the secret, and a token stays valid for
at most two periods. This is the alternating pattern Secrets Manager uses for database users, where the
previous credential also keeps working until the next rotation.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import time
from collections.abc import Callable, Mapping
from typing import Any

ROTATED_LABEL = "REDIS_AUTH_ROTATED"
TARGET = "elasticache-auth-token"
# ElastiCache AUTH tokens: 16-128 printable characters; the only specials allowed are these.
TOKEN_LENGTH = 64
TOKEN_ALPHABET = string.ascii_letters + string.digits + "!&#$^<>-"
# Stop waiting this long before the invocation's time runs out; Secrets Manager retries the step.
WAIT_MARGIN_MS = 30_000


class RedisRotationError(RuntimeError):
    """A step could not complete; AWSCURRENT stays where it was and Secrets Manager retries."""


def new_token() -> str:
    """64 random characters from ElastiCache's allowed set, with every character class present."""
    while True:
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!&#$^<>-")
        if all(any(char in group for char in token) for group in classes):
            return token


def tag_value(tags: list[dict[str, str]], key: str) -> str:
    return next((tag["Value"] for tag in tags if tag.get("Key") == key), "")


class RedisAuthRotation:
    """One rotation of the Redis AUTH secret; `group_id` comes from the secret's `ReplicationGroupId` tag."""

    def __init__(
        self,
        secrets_manager: Any,
        elasticache: Any,
        arn: str,
        token: str,
        *,
        group_id: str,
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        if not group_id:
            raise RedisRotationError(f"{arn} lacks the ReplicationGroupId tag; cannot rotate its token")
        self.sm = secrets_manager
        self.ec = elasticache
        self.arn = arn
        self.token = token
        self.group_id = group_id
        self.remaining_ms = remaining_ms or (lambda: 900_000)
        self.poll_s = float(os.environ.get("REDIS_POLL_SECONDS", "15"))

    def run(self, step: str) -> None:
        {
            "createSecret": self.create,
            "setSecret": self.set,
            "testSecret": self.test,
            "finishSecret": self.finish,
        }[step]()

    # --- the four steps -----------------------------------------------------------------------------------

    def create(self) -> None:
        if self._value("AWSPENDING", self.token) is not None:
            return  # a retried createSecret: the pending token already exists
        stages = self._stages()
        current = _holder(stages, "AWSCURRENT")
        rotated = _holder(stages, ROTATED_LABEL)
        if rotated is not None and rotated == current:
            # The last rotation added the current token with ROTATE; drop its predecessor now.
            self._wait_available()
            self._modify(json.loads(self._value("AWSCURRENT") or "{}")["auth_token"], "SET")
        if rotated is not None:
            # Not current: a manual rotation (redisAuthTokenGeneration) replaced the value and owns its SET.
            self.sm.update_secret_version_stage(
                SecretId=self.arn, VersionStage=ROTATED_LABEL, RemoveFromVersionId=rotated
            )
        body = json.loads(self._value("AWSCURRENT") or "{}")
        body["auth_token"] = new_token()
        self.sm.put_secret_value(
            SecretId=self.arn,
            ClientRequestToken=self.token,
            SecretString=json.dumps(body),
            VersionStages=["AWSPENDING"],
        )

    def set(self) -> None:
        pending = self._require_pending()
        labelled = _holder(self._stages(), ROTATED_LABEL)
        if labelled != self.token:  # not yet added (a retried setSecret finds its own label)
            self._wait_available()
            self._modify(pending["auth_token"], "ROTATE")
            move = {"MoveToVersionId": self.token}
            if labelled is not None:
                move["RemoveFromVersionId"] = labelled
            self.sm.update_secret_version_stage(SecretId=self.arn, VersionStage=ROTATED_LABEL, **move)
        self._wait_available()

    def test(self) -> None:
        if self._value("AWSPENDING", self.token) is None:
            # A new schedule is checked with testSecret on a version that holds no value yet.
            return
        group = self._group()
        problems = []
        if group.get("Status") != "available":
            problems.append(f"the group is {group.get('Status')}")
        if (group.get("PendingModifiedValues") or {}).get("AuthTokenStatus"):
            problems.append("an AUTH token change is still pending")
        if not group.get("AuthTokenEnabled") or not group.get("TransitEncryptionEnabled"):
            problems.append("AUTH or in-transit encryption is off")
        if _holder(self._stages(), ROTATED_LABEL) != self.token:
            problems.append("the pending token was never added (setSecret did not label it)")
        if problems:
            raise RedisRotationError(f"{self.group_id}: " + "; ".join(problems))

    def finish(self) -> None:
        current = _holder(self._stages(), "AWSCURRENT")
        if current != self.token:
            self.sm.update_secret_version_stage(
                SecretId=self.arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=self.token,
                RemoveFromVersionId=current,
            )
        # Release AWSPENDING too: a later version written outside rotation (the stack's, after a manual
        # rotation) must not leave it on an old version, which would block the next rotation.
        self.sm.update_secret_version_stage(
            SecretId=self.arn, VersionStage="AWSPENDING", RemoveFromVersionId=self.token
        )

    # --- helpers ------------------------------------------------------------------------------------------

    def _modify(self, auth_token: str, strategy: str) -> None:
        self.ec.modify_replication_group(
            ReplicationGroupId=self.group_id,
            AuthToken=auth_token,
            AuthTokenUpdateStrategy=strategy,
            ApplyImmediately=True,
        )

    def _group(self) -> dict[str, Any]:
        groups = self.ec.describe_replication_groups(ReplicationGroupId=self.group_id)["ReplicationGroups"]
        return dict(groups[0])

    def _wait_available(self) -> None:
        while (status := self._group().get("Status")) != "available":
            if self.remaining_ms() < WAIT_MARGIN_MS + self.poll_s * 1000:
                raise RedisRotationError(
                    f"{self.group_id} is still {status}; Secrets Manager retries the step"
                )
            time.sleep(self.poll_s)

    def _stages(self) -> Mapping[str, list[str]]:
        described = self.sm.describe_secret(SecretId=self.arn)
        return dict(described.get("VersionIdsToStages") or {})

    def _value(self, stage: str, version: str | None = None) -> str | None:
        ask: dict[str, Any] = {"SecretId": self.arn, "VersionStage": stage}
        if version:
            ask["VersionId"] = version
        try:
            return str(self.sm.get_secret_value(**ask)["SecretString"])
        except self.sm.exceptions.ResourceNotFoundException:
            return None

    def _require_pending(self) -> dict[str, Any]:
        value = self._value("AWSPENDING", self.token)
        if value is None:
            raise RedisRotationError(f"{self.arn} has no AWSPENDING value for version {self.token}")
        body: dict[str, Any] = json.loads(value)
        return body


def _holder(stages: Mapping[str, list[str]], label: str) -> str | None:
    return next((version for version, labels in stages.items() if label in labels), None)
