"""Who may do what: roles only (no IAM users or long-lived keys), no administrator or wildcard
permissions, and trust and resource policies that name who they trust.

The deployment guide's "admin user with FullAccess managed policies" is exactly what these rules refuse:
people and pipelines assume roles (SSO, OIDC), each scoped to what it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import settings
from .framework import CRITICAL, HIGH, MANDATORY, Refs, ResourceContext, resource_policy
from .props import is_allow, mapping, mappings, parse_document, principals, statements, strings

CATEGORY = "identity"
ROLE = "aws:iam/role:Role"
USER_TYPES = (
    "aws:iam/user:User",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/userGroupMembership:UserGroupMembership",
    "aws:iam/groupMembership:GroupMembership",
    "aws:iam/userSshKey:UserSshKey",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
    "aws:iam/signingCertificate:SigningCertificate",
)
USER_POLICY_TYPES = (
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/policyAttachment:PolicyAttachment",
)
# Where managed policy ARNs are attached: type → the input holding one ARN or a list of them.
ATTACHMENT_FIELDS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    ROLE: "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
}
# Identity policies: type → the input holding the JSON document.
IDENTITY_POLICY_FIELDS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
}
# Resource policies: type → the input holding the JSON document.
RESOURCE_POLICY_FIELDS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
}
AWS_MANAGED_POLICY = re.compile(r"arn:aws[\w-]*:iam::aws:policy/(?:.*/)?([^/]+)")
# Condition keys that restrict *who* a statement admits.
PRINCIPAL_CONDITION_KEYS = (
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "kms:CallerAccount",
    "sts:ExternalId",
)


def _refuse(message: str) -> Any:
    def check(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
        if context.type == "aws:iam/policyAttachment:PolicyAttachment" and not strings(props.get("users")):
            return
        yield message

    return check


iam_no_users = resource_policy(
    "iam-no-users",
    "No IAM users or user credentials (login profiles, SSH keys, group memberships): people and pipelines "
    "assume roles through SSO or OIDC.",
    types=USER_TYPES,
    check=_refuse("IAM users are not allowed; use an IAM Identity Center permission set or an OIDC role"),
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_273",)),
    remediation="Remove the user; grant access through a role assumed via SSO (people) or OIDC (CI).",
    category=CATEGORY,
)

iam_no_access_keys = resource_policy(
    "iam-no-access-keys",
    "No IAM access keys: long-lived keys leak and never expire; roles hand out temporary credentials.",
    types=("aws:iam/accessKey:AccessKey",),
    check=_refuse("long-lived access keys are not allowed; assume a role instead"),
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(awsguard=("access-keys-rotated",)),
    remediation="Remove the access key; CI assumes a role through OIDC (configure-aws-credentials).",
    category=CATEGORY,
)

iam_no_user_policies = resource_policy(
    "iam-no-user-policies",
    "No policies attached to IAM users, inline or managed.",
    types=USER_POLICY_TYPES,
    check=_refuse("policies attach to roles, never to users"),
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(checkov=("CKV_AWS_40",)),
    remediation="Attach the policy to the role the person or pipeline assumes.",
    category=CATEGORY,
)


def _denied_policy(arn: str, config: Mapping[str, Any]) -> str | None:
    match = AWS_MANAGED_POLICY.fullmatch(arn)
    if match is None or match.group(1) in strings(config.get("allowedPolicies")):
        return None
    name = match.group(1)
    if name in strings(config.get("deniedPolicies")) or re.search(str(config["deniedPattern"]), name):
        return name
    return None


def _admin_policies(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    for arn in strings(props.get(ATTACHMENT_FIELDS[context.type])):
        name = _denied_policy(arn, context.config)
        if name:
            yield f"attaches the AWS managed policy {name}: administrator or service-wide full access"


iam_no_admin_policies = resource_policy(
    "iam-no-admin-policies",
    "No role, group or user holds AdministratorAccess, PowerUserAccess or any *FullAccess managed policy "
    "(role policy attachments, a role's managedPolicyArns, exclusive attachments).",
    types=tuple(ATTACHMENT_FIELDS),
    check=_admin_policies,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_274", "CKV2_AWS_56")),
    remediation="Write a least-privilege policy for what the role does instead.",
    category=CATEGORY,
    config={
        "deniedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(settings.DENIED_MANAGED_POLICIES),
        },
        "deniedPattern": {"type": "string", "default": settings.DENIED_MANAGED_POLICY_PATTERN},
        "allowedPolicies": {"type": "array", "items": {"type": "string"}, "default": []},
    },
)


def _wildcards(document: Mapping[str, Any] | None, allow_service_wildcards: bool) -> Iterable[str]:
    for index, statement in enumerate(statements(document)):
        if not is_allow(statement):
            continue
        if statement.get("NotAction") is not None:
            yield f"statement {index} allows everything except a list (NotAction)"
        for action in strings(statement.get("Action")):
            if action == "*" or (action.endswith(":*") and not allow_service_wildcards):
                yield f"statement {index} allows {action}"


def _identity_documents(props: Mapping[str, Any], context: ResourceContext) -> Iterable[Any]:
    if context.type == ROLE:
        return [inline.get("policy") for inline in mappings(props.get("inlinePolicies"))]
    return [props.get(IDENTITY_POLICY_FIELDS[context.type])]


def _wildcard_actions(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    allow_service = bool(context.config.get("allowServiceWildcards"))
    for document in _identity_documents(props, context):
        yield from _wildcards(parse_document(document), allow_service)


iam_no_wildcard_actions = resource_policy(
    "iam-no-wildcard-actions",
    "Identity policies (inline role policies, role/group/user policies, managed policies) allow no '*' or "
    "'service:*' actions and no Allow+NotAction.",
    types=(ROLE, *IDENTITY_POLICY_FIELDS),
    check=_wildcard_actions,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_1", "CKV_AWS_49")),
    remediation="List the actions the role needs (components/lib/iam.py statement()).",
    category=CATEGORY,
    config={"allowServiceWildcards": {"type": "boolean", "default": False}},
)


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    return {key for operator in mapping(statement.get("Condition")).values() for key in mapping(operator)}


def _restricts_principal(statement: Mapping[str, Any]) -> bool:
    keys = {key.lower() for key in _condition_keys(statement)}
    return any(key.lower() in keys for key in PRINCIPAL_CONDITION_KEYS)


def _open_statements(document: Mapping[str, Any] | None, *, trust: bool) -> Iterable[str]:
    for index, statement in enumerate(statements(document)):
        if not is_allow(statement):
            continue
        for kind, value in principals(statement):
            if value == "*" and not _restricts_principal(statement):
                who = "anyone" if kind == "*" else f"any {kind} principal"
                yield f"statement {index} admits {who} with no condition on the caller's account or org"
            if (
                trust
                and kind == "Federated"
                and not any(key.endswith((":sub", ":aud")) for key in _condition_keys(statement))
            ):
                yield f"statement {index} trusts every identity of {value} (no condition on sub/aud)"


def _trust_policy(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    yield from _open_statements(parse_document(props.get("assumeRolePolicy")), trust=True)


iam_trust_policy_scoped = resource_policy(
    "iam-trust-policy-scoped",
    "Role trust policies name who may assume them: no Principal '*' or AWS '*' without a condition on the "
    "caller's account/organisation, and no federated (OIDC/SAML) trust without a sub/aud condition.",
    types=(ROLE,),
    check=_trust_policy,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_60", "CKV_AWS_61")),
    remediation="Trust a service principal, a specific role ARN, or an OIDC provider with a sub condition.",
    category=CATEGORY,
)


def _resource_policy(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    yield from _open_statements(parse_document(props.get(RESOURCE_POLICY_FIELDS[context.type])), trust=False)


resource_policy_not_public = resource_policy(
    "resource-policy-not-public",
    "Bucket, key, secret, topic and queue policies admit no '*' principal unless a condition pins the "
    "caller's account, organisation, source or VPC endpoint.",
    types=tuple(RESOURCE_POLICY_FIELDS),
    check=_resource_policy,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_33", "CKV_AWS_70", "CKV_AWS_169", "CKV_AWS_283")),
    remediation="Name the principals, or add aws:PrincipalOrgID / aws:SourceAccount / aws:SourceVpce.",
    category=CATEGORY,
)

POLICIES = [
    iam_no_users,
    iam_no_access_keys,
    iam_no_user_policies,
    iam_no_admin_policies,
    iam_no_wildcard_actions,
    iam_trust_policy_scoped,
    resource_policy_not_public,
]
