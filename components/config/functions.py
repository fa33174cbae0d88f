"""Settings of the stack's Lambda functions as a whole: code signing (`lambdaCodeSigning`)."""

from __future__ import annotations

from typing import Literal, cast

from components.config.reader import ConfigReader

CodeSigningMode = Literal["enforce", "warn", "off"]
CODE_SIGNING_MODES: tuple[CodeSigningMode, ...] = ("enforce", "warn", "off")


def read_code_signing(reader: ConfigReader, *, production: bool) -> CodeSigningMode:
    """`lambdaCodeSigning`: enforce when unset in production (which accepts nothing else), else off."""
    default: CodeSigningMode = "enforce" if production else "off"
    value = reader.choice("lambdaCodeSigning", CODE_SIGNING_MODES, default)
    if production and value not in (None, "enforce"):
        reader.problem(
            "lambdaCodeSigning",
            f"production deploys only signed function packages, got {value!r}",
            "enforce",
        )
        return "enforce"
    # `choice` returns one of the modes or the default.
    return cast("CodeSigningMode", value or default)
