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
