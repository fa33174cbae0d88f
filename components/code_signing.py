"""Lambda code signing: the AWS Signer profile that signs the stack's function packages and the Lambda
code-signing configuration every function is created with (`lambdaCodeSigning`: enforce, warn or off).

How a package gets signed is `components/lambda_function.py`'s business (upload to the versioned artifacts
bucket, a Signer signing job, the function deployed from the signed object); this component only owns
what all functions share. AWS's rules it follows:

- A Signer profile name is letters, digits and underscores only (2-64 characters), and a cancelled profile
  keeps its name for two years, so the profile gets a generated name from a prefix: replacing it (or
  destroying and re-creating the stack) never collides with the cancelled one.
- The platform for Lambda is `AWSLambda-SHA384-ECDSA`; signatures stay valid for Signer's default 135 months.
- `Enforce` blocks a deployment whose package fails the expiry, mismatch or revocation checks; `Warn` lets it
  through and records `SignatureValidationErrors` in CloudWatch and CloudTrail. A package whose integrity
  check fails (changed since it was signed) is blocked either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.deployment import Deployment
from components.lambda_function import CodeSigning
from components.lib.component import Component

SIGNING_PLATFORM = "AWSLambda-SHA384-ECDSA"
UNTRUSTED_ARTIFACT_POLICY = {"enforce": "Enforce", "warn": "Warn"}


@dataclass(frozen=True)
class FunctionCodeSigningArgs:
    """The artifacts bucket the packages are signed in, and whether Lambda enforces the signature."""

    deployment: Deployment
    mode: Literal["enforce", "warn"]
    artifacts_bucket: pulumi.Input[str]
    # The bucket's versioning, policy and encryption: Signer refuses a source bucket without versioning.
    artifacts_ready: Sequence[pulumi.Resource]


class FunctionCodeSigning(Component):
    """A Signer signing profile for Lambda and the code-signing configuration that trusts only it."""

    profile: aws.signer.SigningProfile
    config: aws.lambda_.CodeSigningConfig
    signing: CodeSigning

    def __init__(
        self, name: str, args: FunctionCodeSigningArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("candlefish:secrets:FunctionCodeSigning", name, None, opts)
        names = args.deployment.names
        child = pulumi.ResourceOptions(parent=self)
        self.profile = aws.signer.SigningProfile(
            f"{name}-profile",
            name_prefix=names.signing_profile_prefix,
            platform_id=SIGNING_PLATFORM,
            tags={"Name": names.resource("functions-signing")},
            opts=child,
        )
        self.config = aws.lambda_.CodeSigningConfig(
            f"{name}-config",
            description=f"{names.prefix}: only packages signed by the stack's Signer profile deploy",
            allowed_publishers=aws.lambda_.CodeSigningConfigAllowedPublishersArgs(
                # A profile version: cancelling or revoking it makes every package it signed untrusted.
                signing_profile_version_arns=[self.profile.version_arn]
            ),
            policies=aws.lambda_.CodeSigningConfigPoliciesArgs(
                untrusted_artifact_on_deployment=UNTRUSTED_ARTIFACT_POLICY[args.mode]
            ),
            tags={"Name": names.resource("functions-signing")},
            opts=child,
        )
        self.signing = CodeSigning(
            bucket=args.artifacts_bucket,
            profile_name=self.profile.name,
            config_arn=self.config.arn,
            ready=[*args.artifacts_ready, self.profile],
        )
        self.register_outputs(
            {"signingProfileName": self.profile.name, "codeSigningConfigArn": self.config.arn}
        )
