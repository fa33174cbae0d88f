"""A production load balancer in front of Vault that faces the internet.

The allowed CIDRs are checked elsewhere (`sg-no-world-ingress`); this rule names the exposure itself: an
internet-facing load balancer puts Vault's API, including its unauthenticated endpoints (`sys/health`,
`sys/seal-status`), one security-group rule away from the whole internet. It is advisory: a stack may
have a reason, but the reviewer should see it said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .exposure import CATEGORY, LOAD_BALANCER_TYPES
from .framework import ADVISORY, HIGH, Refs, ResourceContext, resource_policy
from .props import is_true


def _internet_facing(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    # `internal` defaults to false, and `scheme` is what AWS reports back: either says internet-facing.
    if not is_true(props.get("internal")) or str(props.get("scheme") or "") == "internet-facing":
        kind = str(props.get("loadBalancerType") or "application")
        yield (
            f"{kind} load balancer is internet-facing (internal is not true): Vault's API, with its "
            "unauthenticated sys/ endpoints, is reachable from the internet wherever the security group "
            "allows. Make it internal (loadBalancerScheme: internal) and reach it over VPN, Direct Connect "
            "or PrivateLink; if it must stay public, restrict allowedCidrs to the known client ranges "
            "and put AWS WAF in front"
        )


lb_not_internet_facing = resource_policy(
    "lb-not-internet-facing",
    "A production load balancer is internal, not internet-facing (advisory: names the exposure and what "
    "to restrict).",
    types=LOAD_BALANCER_TYPES,
    check=_internet_facing,
    level=ADVISORY,
    severity=HIGH,
    refs=Refs(),
    remediation="Set loadBalancerScheme: internal; otherwise narrow allowedCidrs and add AWS WAF.",
    category=CATEGORY,
    production_only=True,
)

POLICIES = [lb_not_internet_facing]
