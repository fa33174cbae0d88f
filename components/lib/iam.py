"""IAM and resource-policy documents built as plain data, so tests can lint them with parliament.

Documents are dictionaries that may hold Pulumi Outputs (ARNs not known until deploy);
`to_json` resolves them into the JSON string AWS expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

POLICY_VERSION = "2012-10-17"


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[Any] | Any = "*",
    *,
    effect: str = "Allow",
    principal: Mapping[str, Any] | str | None = None,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """One policy statement; `principal` is only for resource policies (key, bucket, secret, topic)."""
    body: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        body["Principal"] = principal
    body["Action"] = sorted(actions) if len(actions) > 1 else actions[0]
    if resources is not None:
        body["Resource"] = resources
    if condition:
        body["Condition"] = condition
    return body


def concat(*parts: Any) -> Any:
    """Join ARN parts that may be Outputs: a plain string when all are known (as in tests), else an Output."""
    if all(isinstance(part, str) for part in parts):
        return "".join(parts)
    return pulumi.Output.concat(*parts)


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def to_json(doc: Mapping[str, Any]) -> pulumi.Output[str]:
    """Serialise a document whose values may be Outputs."""
    return pulumi.Output.json_dumps(doc)


def from_source(account_id: Any, source_arn: Any) -> dict[str, dict[str, Any]]:
    """The confused-deputy condition a service principal is trusted under: the request comes from this
    account (aws:SourceAccount) and from `source_arn` (aws:SourceArn, ARN patterns allowed)."""
    return {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": source_arn}}


def assume_role_policy(
    service: str, *, condition: Mapping[str, Mapping[str, Any]] | None = None
) -> pulumi.Output[str]:
    """A trust policy for one AWS service principal.

    Pass `condition` (aws:SourceAccount / aws:SourceArn) where the service documents those keys for
    confused-deputy protection; EC2 and Lambda role assumption do not carry them.
    """
    return to_json(
        document(
            statement(
                "TrustService",
                ["sts:AssumeRole"],
                principal={"Service": service},
                resources=None,
                condition=condition,
            )
        )
    )
