"""Single-condition cases for the mandatory identity rules (no users or keys, no admin or wildcard grants,
trust and resource policies that name who they admit)."""

from __future__ import annotations

import json
from typing import Any

from tests.policies.conditions import REMOVE, Condition

ROLE = "aws:iam/role:Role"
ACCOUNT = "123456789012"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
CUSTOMER_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"  # a customer policy may use any name
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def doc(**statement: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]})


def managed(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


ALLOW_READ = doc(Action=["secretsmanager:GetSecretValue"], Resource="*")
EC2_TRUST = doc(Action="sts:AssumeRole", Principal={"Service": "ec2.amazonaws.com"})
BUCKET_POLICY = doc(Action="s3:GetObject", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Resource="*")

IDENTITY = [
    # iam-no-users and iam-no-access-keys refuse their types outright (tests/policies/cases_identity.py); the
    # one condition among them is that a PolicyAttachment is about users only when it names users.
    Condition(
        "iam-no-user-policies",
        "aws:iam/policyAttachment:PolicyAttachment",
        {"roles": ["vault-node"]},
        {"users": ["ops"]},
        "policies attach to roles, never to users",
    ),
    *(
        Condition("iam-no-admin-policies", ATTACHMENT, {"policyArn": READ_ONLY}, {"policyArn": arn}, m)
        for arn, m in [
            (managed("AdministratorAccess"), "attaches the AWS managed policy AdministratorAccess"),
            (managed("PowerUserAccess"), "attaches the AWS managed policy PowerUserAccess"),
            (managed("IAMFullAccess"), "attaches the AWS managed policy IAMFullAccess"),
            (managed("AmazonS3FullAccess"), "attaches the AWS managed policy AmazonS3FullAccess"),
            (managed("job-function/SystemAdministrator"), None),
            ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", None),
            (CUSTOMER_POLICY, None),
            (managed("AmazonS3FullAccessReadOnly"), None),  # *FullAccess must end the name
        ]
    ),
    Condition(
        "iam-no-admin-policies",
        ROLE,
        {"managedPolicyArns": [READ_ONLY]},
        {"managedPolicyArns": [READ_ONLY, managed("AdministratorAccess")]},
        "attaches the AWS managed policy AdministratorAccess",
    ),
    Condition(
        "iam-no-admin-policies",
        ATTACHMENT,
        {"policyArn": READ_ONLY},
        {"policyArn": managed("AmazonSSMFullAccess")},
        None,
        config={"allowedPolicies": ["AmazonSSMFullAccess"]},
    ),
    *(
        Condition("iam-no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy", {"policy": ALLOW_READ}, c, m)
        for c, m in [
            ({"policy": doc(Action="*", Resource="*")}, "statement 0 allows *"),
            ({"policy": doc(Action=["kms:*"], Resource="*")}, "statement 0 allows kms:*"),
            (
                {"policy": doc(NotAction=["iam:*"], Resource="*")},
                "statement 0 allows everything except a list",
            ),
            ({"policy": doc(Action="kms:Describe*", Resource="*")}, None),
            (
                {"policy": json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})},
                None,
            ),
        ]
    ),
    Condition(
        "iam-no-wildcard-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": ALLOW_READ},
        {"policy": doc(Action=["kms:*"], Resource="*")},
        None,
        config={"allowServiceWildcards": True},
    ),
    Condition(
        "iam-no-wildcard-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": ALLOW_READ},
        {"policy": doc(Action=["*"], Resource="*")},
        "statement 0 allows *",
        config={"allowServiceWildcards": True},
    ),
    Condition(
        "iam-no-wildcard-actions",
        ROLE,
        {"inlinePolicies": [{"name": "read", "policy": ALLOW_READ}]},
        {"inlinePolicies": [{"name": "all", "policy": doc(Action="*", Resource="*")}]},
        "statement 0 allows *",
    ),
    *(
        Condition(
            "iam-trust-policy-scoped", ROLE, {"assumeRolePolicy": EC2_TRUST}, {"assumeRolePolicy": p}, m
        )
        for p, m in [
            (doc(Action="sts:AssumeRole", Principal="*"), "statement 0 admits anyone with no condition"),
            (doc(Action="sts:AssumeRole", Principal={"AWS": "*"}), "statement 0 admits any AWS principal"),
            (
                doc(
                    Action="sts:AssumeRole",
                    Principal={"AWS": "*"},
                    Condition={"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}},
                ),
                None,
            ),
            (
                doc(
                    Action="sts:AssumeRole",
                    Principal={"AWS": "*"},
                    Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
                ),  # says nothing of who
                "statement 0 admits any AWS principal",
            ),
            (
                doc(Action="sts:AssumeRoleWithWebIdentity", Principal={"Federated": GITHUB}),
                "statement 0 trusts every identity of",
            ),
            (
                doc(
                    Action="sts:AssumeRoleWithWebIdentity",
                    Principal={"Federated": GITHUB},
                    Condition={
                        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:candlefish/*"}
                    },
                ),
                None,
            ),
            (
                doc(
                    Action="sts:AssumeRoleWithWebIdentity",
                    Principal={"Federated": GITHUB},
                    Condition={
                        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
                    },
                ),
                None,
            ),
        ]
    ),
    *(
        Condition(
            "resource-policy-not-public",
            "aws:s3/bucketPolicy:BucketPolicy",
            {"policy": BUCKET_POLICY},
            {"policy": p},
            m,
        )
        for p, m in [
            (doc(Action="s3:GetObject", Principal="*", Resource="*"), "statement 0 admits anyone"),
            (
                doc(
                    Action="s3:GetObject",
                    Principal="*",
                    Resource="*",
                    Condition={"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},
                ),
                None,
            ),
            (
                doc(
                    Action="s3:GetObject",
                    Principal={"AWS": "*"},
                    Resource="*",
                    Condition={"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
                ),  # keys are case-insensitive
                None,
            ),
            # A federated principal in a resource policy is not a trust policy: no sub/aud needed.
            (doc(Action="s3:GetObject", Principal={"Federated": GITHUB}, Resource="*"), None),
        ]
    ),
    Condition(
        "resource-policy-not-public",
        "aws:kms/key:Key",
        {"policy": BUCKET_POLICY},
        {"policy": doc(Action="kms:Decrypt", Principal={"AWS": "*"}, Resource="*")},
        "statement 0 admits any AWS principal",
    ),
    Condition(
        "resource-policy-not-public", "aws:kms/key:Key", {"policy": BUCKET_POLICY}, {"policy": REMOVE}, None
    ),
]
