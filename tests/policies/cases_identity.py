"""Pass/violate cases for the identity rules."""

from tests.policies.support import Case, document

ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EC2_TRUST = document(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
READ_SECRET = document(
    {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/production/vault-tls-*",
    }
)

CASES = [
    Case(
        "iam-no-users",
        type="aws:iam/user:User",
        good_type=ROLE,
        good={"assumeRolePolicy": EC2_TRUST},
        bad={"name": "admin"},
        expect="IAM users are not allowed",
    ),
    Case(
        "iam-no-access-keys",
        type="aws:iam/accessKey:AccessKey",
        good_type=ROLE,
        good={"assumeRolePolicy": EC2_TRUST},
        bad={"user": "admin"},
        expect="long-lived access keys are not allowed",
    ),
    Case(
        "iam-no-user-policies",
        type="aws:iam/userPolicyAttachment:UserPolicyAttachment",
        good_type="aws:iam/policyAttachment:PolicyAttachment",
        good={"roles": ["vault-node"], "policyArn": "arn:aws:iam::123456789012:policy/vault-node"},
        bad={"user": "admin", "policyArn": "arn:aws:iam::123456789012:policy/vault-node"},
        expect="policies attach to roles, never to users",
    ),
    Case(
        "iam-no-admin-policies",
        type=ATTACHMENT,
        good={"role": "vault-node", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
        bad={"role": "vault-node", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        expect="attaches the AWS managed policy AdministratorAccess",
    ),
    Case(
        "iam-no-wildcard-actions",
        type="aws:iam/rolePolicy:RolePolicy",
        good={"role": "vault-node", "policy": READ_SECRET},
        bad={"role": "vault-node", "policy": document({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        expect="statement 0 allows *",
    ),
    Case(
        "iam-trust-policy-scoped",
        type=ROLE,
        good={"assumeRolePolicy": EC2_TRUST},
        bad={
            "assumeRolePolicy": document(
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            )
        },
        expect="admits any AWS principal",
    ),
    Case(
        "resource-policy-not-public",
        type="aws:s3/bucketPolicy:BucketPolicy",
        good={"policy": document({"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}})},
        bad={"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})},
        expect="admits anyone",
    ),
]

# More cases of the same rules, each breaking one other condition (tests/policies/test_rule_cases.py).
MORE_CASES = [
    Case(
        "iam-no-wildcard-actions",
        type="aws:iam/rolePolicy:RolePolicy",
        good={"role": "vault-node", "policy": READ_SECRET},
        # A Deny statement grants nothing and must not end the look at the statements after it.
        bad={
            "role": "vault-node",
            "policy": document(
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
            ),
        },
        expect="statement 1 allows *",
    ),
]
