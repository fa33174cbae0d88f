"""Pass/violate cases for the Lambda code-signing rule: each bad stack breaks one condition."""

from tests.policies.support import PRODUCTION, UNKNOWN, Case, Res

RULE = "lambda-code-signing-enforced"
FUNCTION = "aws:lambda/function:Function"
CONFIG = "aws:lambda/codeSigningConfig:CodeSigningConfig"
CONFIG_ARN = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0"
PROFILE_VERSION = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/candlefish_production_1/abcdef0123"


def config(action="Enforce", profiles=(PROFILE_VERSION,)):
    return Res(
        CONFIG,
        "code-signing-config",
        {
            "arn": CONFIG_ARN,
            "allowedPublishers": {"signingProfileVersionArns": list(profiles)},
            "policies": {"untrustedArtifactOnDeployment": action},
            "tags": PRODUCTION,
        },
    )


def function(linked=True, **changes):
    props = {
        "name": "candlefish-production-secret-rotation",
        "codeSigningConfigArn": CONFIG_ARN,
        "tags": PRODUCTION,
    }
    props.update(changes)
    return Res(
        FUNCTION,
        "rotation-function",
        {k: v for k, v in props.items() if v is not None},
        refs={"codeSigningConfigArn": ["code-signing-config"]} if linked else {},
    )


GOOD = [config(), function()]

CASES = [
    Case(RULE, good=GOOD, bad=[config(action="Warn"), function()], expect="only warns (Warn); set Enforce"),
]

MORE_CASES = [
    Case(
        RULE,
        good=GOOD,
        bad=[config(), function(codeSigningConfigArn=None)],
        expect="has no code-signing configuration",
    ),
    Case(RULE, good=GOOD, bad=[config(profiles=()), function()], expect="trusts no signing profile version"),
    Case(
        RULE,
        good=GOOD,
        bad=[function(linked=False)],
        expect="names a code-signing configuration this stack does not define",
    ),
    Case(
        RULE,
        good=GOOD,
        bad=[config(), function(packageType="Image")],
        expect="is a container image, which Lambda cannot code-sign",
    ),
    # Unset, Lambda's policy is Warn.
    Case(
        RULE,
        good=GOOD,
        bad=[
            Res(
                CONFIG,
                "code-signing-config",
                {
                    "arn": CONFIG_ARN,
                    "allowedPublishers": {"signingProfileVersionArns": [PROFILE_VERSION]},
                    "tags": PRODUCTION,
                },
            ),
            function(),
        ],
        expect="only warns (Warn)",
    ),
    # At preview the profile version is unknown: that counts as trusted, while a Warn policy is still seen.
    Case(
        RULE,
        good=[config(profiles=(UNKNOWN,)), function(codeSigningConfigArn=UNKNOWN)],
        bad=[config(action="Warn", profiles=(UNKNOWN,)), function(codeSigningConfigArn=UNKNOWN)],
        expect="only warns (Warn)",
    ),
]
