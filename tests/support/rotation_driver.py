"""Drive the rotation function the way Secrets Manager does, against moto and the Vault test server.

moto cannot run Lambda functions here (no container runtime), and its RotateSecret takes shortcuts a real
rotation does not (it moves AWSCURRENT itself after the function returns). `install` therefore replaces
moto's RotateSecret with the documented behaviour, keeping moto's storage: stage a new version id as
AWSPENDING, turn rotation on, call createSecret, setSecret, testSecret and finishSecret on the real
handler in order, and stop at the first step that raises, leaving AWSCURRENT where it was. At the end
AWSPENDING must be gone or share its version with AWSCURRENT, which is what AWS checks before the next
rotation may start.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from moto.secretsmanager import models as sm_models
from moto.secretsmanager.exceptions import InvalidRequestException

from lambdas.rotation.handler import STEPS, lambda_handler

ROLE_ARN = "arn:aws:iam::123456789012:role/candlefish-test-rotation"


class StepFailed(RuntimeError):
    """The driver was told to stop the rotation at this step (a simulated crash)."""


def install(monkeypatch: pytest.MonkeyPatch, *, stop_before: str | None = None) -> list[dict[str, Any]]:
    """Make moto's RotateSecret run the real handler; returns the events the handler received."""
    received: list[dict[str, Any]] = []

    def rotate_secret(  # noqa: PLR0917 - the signature moto's backend method has
        self: Any,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> str:
        secret = self.secrets[secret_id]
        pending = [v for v, body in secret.versions.items() if "AWSPENDING" in body["version_stages"]]
        current = [v for v, body in secret.versions.items() if "AWSCURRENT" in body["version_stages"]]
        if pending and pending != current:
            raise InvalidRequestException(
                "A previous rotation isn't complete. That rotation will be reattempted."
            )
        token = client_request_token or str(uuid.uuid4())
        secret.remove_version_stages_from_old_versions(["AWSPENDING"])
        secret.versions[token] = {
            "createdate": int(time.time()),
            "version_id": token,
            "version_stages": ["AWSPENDING"],
        }
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = rotation_lambda_arn or secret.rotation_lambda_arn
        if rotation_rules:
            secret.auto_rotate_after_days = rotation_rules.get("AutomaticallyAfterDays", 0)
        for step in STEPS if rotate_immediately else ("testSecret",):
            event = {"Step": step, "SecretId": secret.arn, "ClientRequestToken": token}
            received.append(event)
            if step == stop_before:
                raise StepFailed(f"rotation stopped before {step}")
            lambda_handler(json.loads(json.dumps(event)), None)
        secret.last_rotation_date = int(time.time())
        return str(secret.to_short_dict(version_id=token))

    monkeypatch.setattr(sm_models.SecretsManagerBackend, "rotate_secret", rotate_secret)
    return received


def rotation_function_arn() -> str:
    return "arn:aws:lambda:us-east-1:123456789012:function:candlefish-test-rotation"
