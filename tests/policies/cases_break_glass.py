"""Pass/violate cases for the break-glass rules."""

from tests.policies.conditions_recovery_shares import shares_stack
from tests.policies.support import Case, document

TABLE = "aws:dynamodb/table:Table"
PROTECTED_TABLE = {
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"},
    "pointInTimeRecovery": {"enabled": True},
    "deletionProtectionEnabled": True,
    "tags": {"Environment": "production"},
}
PERSON_TRUST = {
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::123456789012:user/ann"]},
    "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
    "Condition": {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "StringEquals": {"sts:SourceIdentity": "ann"},
    },
}
NO_MFA = {**PERSON_TRUST, "Condition": {"StringEquals": {"sts:SourceIdentity": "ann"}}}
# The break-glass person's role may invoke the broker's URL, with signed (IAM-authenticated) requests only.
SIGNED_URL_PERMISSION = {
    "action": "lambda:InvokeFunctionUrl",
    "function": "broker",
    "principal": "arn:aws:iam::123456789012:role/candlefish-production-bg-ann",
    "functionUrlAuthType": "AWS_IAM",
}

CASES = [
    Case(
        "dynamodb-table-protected",
        type=TABLE,
        good=PROTECTED_TABLE,
        bad={**PROTECTED_TABLE, "serverSideEncryption": {"enabled": True}},
        expect="customer-managed KMS key",
    ),
    Case(
        "lambda-url-iam-auth",
        type="aws:lambda/functionUrl:FunctionUrl",
        good={"functionName": "broker", "authorizationType": "AWS_IAM"},
        bad={"functionName": "broker", "authorizationType": "NONE"},
        expect="callers must sign with SigV4",
    ),
    Case(
        "break-glass-role-mfa",
        type="aws:iam/role:Role",
        good={"name": "candlefish-production-bg-ann", "assumeRolePolicy": document(PERSON_TRUST)},
        bad={"name": "candlefish-production-bg-ann", "assumeRolePolicy": document(NO_MFA)},
        expect="does not require MFA",
    ),
    Case(
        "recovery-shares-protected",
        good=shares_stack(),
        bad=shares_stack(secret_deny=False),
        expect="the deployers (CI included) could read them",
    ),
]

# More violations of the same rules, each breaking one other condition
# (tests/policies/test_break_glass_rules.py).
MORE_CASES = [
    Case(
        "dynamodb-table-protected",
        type=TABLE,
        good=PROTECTED_TABLE,
        bad={**PROTECTED_TABLE, "pointInTimeRecovery": {"enabled": False}},
        expect="no point-in-time recovery",
    ),
    Case(
        "dynamodb-table-protected",
        type=TABLE,
        good={**PROTECTED_TABLE, "deletionProtectionEnabled": False, "tags": {"Environment": "dev"}},
        bad={**PROTECTED_TABLE, "deletionProtectionEnabled": False},
        expect="no deletion protection in production",
    ),
    Case(
        "lambda-url-iam-auth",
        type="aws:lambda/permission:Permission",
        good=SIGNED_URL_PERMISSION,
        bad={"action": "lambda:InvokeFunctionUrl", "function": "broker", "principal": "*"},
        expect="to everyone",
    ),
    Case(
        "lambda-url-iam-auth",
        type="aws:lambda/permission:Permission",
        good=SIGNED_URL_PERMISSION,
        # A named principal, but the permission itself opens the URL to unsigned requests.
        bad={**SIGNED_URL_PERMISSION, "functionUrlAuthType": "NONE"},
        expect="unauthenticated callers (functionUrlAuthType NONE)",
    ),
    Case(
        "break-glass-role-mfa",
        type="aws:iam/role:Role",
        good={"name": "candlefish-production-bg-ann", "assumeRolePolicy": document(PERSON_TRUST)},
        bad={
            "name": "candlefish-production-bg-ann",
            "assumeRolePolicy": document(
                {**PERSON_TRUST, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
            ),
        },
        expect="does not pin the person",
    ),
]
