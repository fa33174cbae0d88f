"""Calling rules directly, as the policy SDK's analyzer calls them, with synthetic resources.

`check_resource(rule, type, props)` builds the `ResourceValidationArgs` the analyzer builds (inputs behind
the SDK's unknown-checking proxy) and returns the messages the rule reported. `check_stack(rule,
resources)` builds `StackValidationArgs` from `Res` items whose `refs` name, per input, the resources
its value came from (the engine's property dependencies).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.rules import ALL_POLICIES

UNKNOWN = UNKNOWN_STRING_VALUE  # how the engine sends a value it cannot know at preview
KEY = "arn:aws:kms:us-east-1:123456789012:key/1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
PRODUCTION = {
    "Environment": "production",
    "Project": "Candlefish-AI",
    "Component": "Secrets",
    "DeployedBy": "CI",
}
DEV = {**PRODUCTION, "Environment": "dev"}
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def rule(name: str) -> Any:
    """The pack's rule called `name` (a ResourceValidationPolicy or StackValidationPolicy)."""
    return next(p for p in ALL_POLICIES if p.name == name)


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::candlefish-secrets::{type_}::{name}"


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def check_resource(
    name: str,
    type_: str,
    props: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
    resource_name: str = "subject",
) -> list[str]:
    """The messages rule `name` reports for one resource."""
    messages: list[str] = []
    args = ResourceValidationArgs(
        type_,
        unknown_checking_proxy(copy.deepcopy(dict(props))),
        urn(type_, resource_name),
        resource_name,
        OPTIONS,
        None,
        config,
        stack_tags,
    )
    rule(name).validate(args, lambda message, _urn=None: messages.append(message))
    return messages


@dataclass
class Res:
    """A resource of a synthetic stack: `refs` maps an input to the names of the resources it came from,
    `parent` names its parent."""

    type: str
    name: str
    props: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, list[str]] = field(default_factory=dict)
    parent: str | None = None


def stack_args(
    resources: Sequence[Res],
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> StackValidationArgs:
    built = {
        r.name: PolicyResource(
            r.type,
            unknown_checking_proxy(copy.deepcopy(r.props)),
            urn(r.type, r.name),
            r.name,
            OPTIONS,
            None,
            None,
            [],
            {},
        )
        for r in resources
    }
    for r in resources:
        built[r.name].parent = built[r.parent] if r.parent else None
        built[r.name].property_dependencies = {
            key: [built[n] for n in names] for key, names in r.refs.items()
        }
        built[r.name].dependencies = [built[n] for names in r.refs.values() for n in names]
    return StackValidationArgs(list(built.values()), config, stack_tags)


def check_stack(
    name: str,
    resources: Sequence[Res],
    *,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[str]:
    """The messages stack rule `name` reports, each prefixed with the resource it names (or "stack")."""
    found: list[str] = []

    def report(message: str, violation_urn: str | None = None) -> None:
        found.append(f"{(violation_urn or 'stack').rsplit('::', 1)[-1]}: {message}")

    rule(name).validate(stack_args(resources, config, stack_tags), report)
    return found


@dataclass(frozen=True)
class Case:
    """One rule, a resource (or stack) that passes it and one that violates it, and what the violation says.

    For a resource rule `good`/`bad` are input dicts of `type` (`good_type` when the passing resource is of
    another type); for a stack rule they are lists of `Res`.
    """

    rule: str
    good: Any
    bad: Any
    expect: str
    type: str = ""
    good_type: str = ""
    config: Mapping[str, Any] | None = None

    def run(self, side: str) -> list[str]:
        subject = self.good if side == "good" else self.bad
        if isinstance(subject, list):
            return check_stack(self.rule, subject, config=self.config)
        type_ = self.good_type if side == "good" and self.good_type else self.type
        return check_resource(self.rule, type_, subject, config=self.config)


class Fake:
    """Obviously fake credential-shaped strings, built at run time so no file holds one as a literal."""

    AWS_ACCESS_KEY_ID = "AKIA" + "ZZZZEXAMPLEFAKE7"
    PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nZmFrZQ==\n-----END RSA " + "PRIVATE KEY-----"
    DATABASE_URL = "postgres://vault_admin:" + "not-a-real-password" + "@db.internal:5432/vault"
    API_KEY = "0c0ffee0-" + "fake-4bad-8bad-c0ffeec0ffee"
    TOKEN = "Zk9" + "xQ2wRt7Lp" + "Yb3Nc8Vd1Hs6Jm4Kf0Gq5Wz9Ue2Ia"  # 32+ mixed characters, high entropy
