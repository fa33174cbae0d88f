"""Emergency-access resources: request tables that keep their records, function URLs that authenticate
their callers, and break-glass roles that only a named person, with MFA, may assume.

- `dynamodb-table-protected`: a DynamoDB table is encrypted with a customer-managed KMS key and has
  point-in-time recovery; in production it also has deletion protection (the break-glass table is the
  record of who had emergency access).
- `lambda-url-iam-auth`: a Lambda function URL authenticates with AWS_IAM (SigV4), and no permission
  opens one to everyone (`functionUrlAuthType` NONE, or principal `*`).
- `break-glass-role-mfa`: a role named like a person's break-glass role (`settings.BREAK_GLASS_ROLE`)
  may be assumed only with MFA and only as a named source identity, in every statement that allows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import settings
from .framework import CRITICAL, HIGH, MANDATORY, Refs, ResourceContext, resource_policy
from .props import is_allow, is_true, mapping, parse_document, statements, strings

CATEGORY = "break-glass"
TABLE = "aws:dynamodb/table:Table"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"


def _table(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    encryption = mapping(props.get("serverSideEncryption"))
    if not is_true(encryption.get("enabled")) or not encryption.get("kmsKeyArn"):
        yield "is not encrypted with a customer-managed KMS key (serverSideEncryption.kmsKeyArn)"
    if not is_true(mapping(props.get("pointInTimeRecovery")).get("enabled")):
        yield "has no point-in-time recovery"
    if context.production and not is_true(props.get("deletionProtectionEnabled")):
        yield "has no deletion protection in production"


dynamodb_table_protected = resource_policy(
    "dynamodb-table-protected",
    "DynamoDB tables use a customer-managed KMS key and point-in-time recovery; production tables have "
    "deletion protection.",
    types=(TABLE,),
    check=_table,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_28", "CKV_AWS_119", "CKV_AWS_165")),
    remediation="Set serverSideEncryption {enabled, kmsKeyArn}, pointInTimeRecovery {enabled: true} and, in "
    "production, deletionProtectionEnabled: true.",
    category=CATEGORY,
)


def _url(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if context.type == FUNCTION_URL:
        if props.get("authorizationType") != "AWS_IAM":
            kind = props.get("authorizationType")
            yield f"authorizationType is {kind!r}: callers must sign with SigV4 (AWS_IAM)"
        return
    if props.get("functionUrlAuthType") == "NONE":
        yield "grants a function URL to unauthenticated callers (functionUrlAuthType NONE)"
    elif props.get("action") == "lambda:InvokeFunctionUrl" and props.get("principal") == "*":
        yield "grants lambda:InvokeFunctionUrl to everyone (principal *)"


lambda_url_iam_auth = resource_policy(
    "lambda-url-iam-auth",
    "Lambda function URLs authenticate callers with AWS_IAM, and no permission opens one to everyone.",
    types=(FUNCTION_URL, PERMISSION),
    check=_url,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_258",)),
    remediation="Use authorizationType AWS_IAM and grant lambda:InvokeFunctionUrl to named roles only.",
    category=CATEGORY,
)


def _break_glass_role(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    if not re.fullmatch(settings.BREAK_GLASS_ROLE, str(props.get("name") or "")):
        return
    for index, statement in enumerate(statements(parse_document(props.get("assumeRolePolicy")))):
        if not is_allow(statement) or "sts:AssumeRole" not in strings(statement.get("Action")):
            continue
        condition = mapping(statement.get("Condition"))
        if str(mapping(condition.get("Bool")).get("aws:MultiFactorAuthPresent")).lower() != "true":
            yield f"trust statement {index} does not require MFA (Bool aws:MultiFactorAuthPresent true)"
        if not strings(mapping(condition.get("StringEquals")).get("sts:SourceIdentity")):
            yield f"trust statement {index} does not pin the person (StringEquals sts:SourceIdentity)"


break_glass_role_mfa = resource_policy(
    "break-glass-role-mfa",
    "A person's break-glass role is assumed only with MFA and only as that person (sts:SourceIdentity).",
    types=(ROLE,),
    check=_break_glass_role,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(),
    remediation="Add Bool aws:MultiFactorAuthPresent true and StringEquals sts:SourceIdentity <person> to "
    "every statement of the role's trust policy that allows sts:AssumeRole.",
    category=CATEGORY,
)

POLICIES = [dynamodb_table_protected, lambda_url_iam_auth, break_glass_role_mfa]
