"""Lint IAM and resource-policy documents with parliament, with every accepted finding justified."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from parliament import analyze_policy_string

# In a key, bucket, topic or secret policy "Resource": "*" means the resource the policy is attached to.
RESOURCE_POLICY_EXEMPT = {"RESOURCE_STAR"}


def findings(document: str | Mapping[str, Any], *, resource_policy: bool = False,
             accepted: Mapping[str, str] | None = None) -> list[str]:  # fmt: skip
    """Parliament's findings (community auditors included) minus those accepted with a reason."""
    text = document if isinstance(document, str) else json.dumps(document)
    policy = analyze_policy_string(text, include_community_auditors=True)
    skipped = set(accepted or {}) | (RESOURCE_POLICY_EXEMPT if resource_policy else set())
    return [f"{f.issue}: {f.detail} at {f.location}" for f in policy.findings if f.issue not in skipped]


# What every trust policy grants on purpose.
TRUST_POLICY_ACCEPTED = {"CREDENTIALS_EXPOSURE": "a trust policy exists to let its principal assume the role"}


def trust_findings(document: str | Mapping[str, Any], role_arn: str) -> list[str]:
    """Parliament's findings for a role's trust policy.

    Parliament reads a trust policy as a resource policy on the role, but stops at "no Resource", which a
    trust policy leaves implicit; so each statement is linted with the role as its resource.
    """
    doc = json.loads(document) if isinstance(document, str) else dict(document)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    with_resource = {**doc, "Statement": [{**s, "Resource": role_arn} for s in statements]}
    return findings(with_resource, resource_policy=True, accepted=TRUST_POLICY_ACCEPTED)
