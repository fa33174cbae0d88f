"""Lambda code signing: in production, every function is deployed only from packages its code-signing
configuration trusts, and that configuration blocks (Enforce) rather than merely flags (Warn) the rest.

A function names its configuration in `codeSigningConfigArn`; the rule follows that reference to the
stack's `aws:lambda/codeSigningConfig:CodeSigningConfig` and reads its policy and trusted profiles. The
profile version ARNs come from the stack's Signer profile and are unknown at preview, which counts as
set: only a list known to be empty is a violation. Container-image functions cannot use code signing at
all (Lambda supports it for .zip packages only), so one in production is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from .framework import HIGH, MANDATORY, Refs, StackContext, StackView, label, stack_policy
from .props import COMPUTED, mapping, sequence, value_or_computed

CATEGORY = "supply-chain"
FUNCTION = "aws:lambda/function:Function"
CODE_SIGNING_CONFIG = "aws:lambda/codeSigningConfig:CodeSigningConfig"


def _config_problems(config: PolicyResource) -> Iterable[str]:
    policy = mapping(value_or_computed(config.props, "policies"))
    action = policy.get("untrustedArtifactOnDeployment") or "Warn"  # AWS's default is Warn
    if action != "Enforce":
        yield f"its code-signing configuration {config.name} only warns ({action}); set Enforce"
    publishers = value_or_computed(config.props, "allowedPublishers")
    if publishers is COMPUTED:
        return
    profiles = value_or_computed(mapping(publishers), "signingProfileVersionArns")
    if profiles is not COMPUTED and not sequence(profiles):
        yield f"its code-signing configuration {config.name} trusts no signing profile version"


def _function_problems(view: StackView, function: PolicyResource) -> Iterable[str]:
    props: Mapping[str, Any] = function.props
    if value_or_computed(props, "packageType") == "Image":
        yield "is a container image, which Lambda cannot code-sign; package it as a .zip"
        return
    if not value_or_computed(props, "codeSigningConfigArn"):
        yield "has no code-signing configuration (codeSigningConfigArn)"
        return
    configs = [
        r for r in view.referenced(function, "codeSigningConfigArn") if r.resource_type == CODE_SIGNING_CONFIG
    ]
    if not configs:
        yield "names a code-signing configuration this stack does not define, so its policy cannot be checked"
        return
    for config in configs:
        yield from _config_problems(config)


def _code_signing(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    for function in view.of_type(FUNCTION):
        for problem in _function_problems(view, function):
            yield f"function {label(function)} {problem}", function.urn


lambda_code_signing_enforced = stack_policy(
    "lambda-code-signing-enforced",
    "In production every Lambda function has a code-signing configuration of this stack that trusts at "
    "least one AWS Signer profile version and enforces it (UntrustedArtifactOnDeployment Enforce), so only "
    "packages the stack's profile signed can be deployed.",
    check=_code_signing,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_272",)),
    remediation="Set lambdaCodeSigning: enforce (README: Lambda code signing).",
    category=CATEGORY,
    production_only=True,
)

POLICIES = [lambda_code_signing_enforced]
