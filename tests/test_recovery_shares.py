"""Write-only recovery shares in the production plan: evaluate the recorded resource and key policies.

The shipped production stack lists `vaultRecoverySharesReaders` (elena, tomas). For every deploying role
(the one running the update, CI's, an SSO role in `deployerPrincipals`), with administrator rights in its
identity policies: Secrets Manager lets it write the break-glass secret but never read it, and the
secret's key lets Secrets Manager generate data keys for it but never decrypt the shares for it (only
Secrets Manager's key check). The readers' break-glass roles, which hold no identity policy for the
secret, read and decrypt it through Secrets Manager; another break-glass person and a stranger may not.
"""

import json
import uuid

import pytest

from tests.support.fakes import ACCOUNT_ID
from tests.support.iam_lint import findings
from tests.support.mocks import run_program
from tests.support.policy_eval import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, decide

pytestmark = pytest.mark.slow
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
POLICY_TYPE = "aws:secretsmanager/secretPolicy:SecretPolicy"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role"
RUNNING = f"{ROLE}/deployer"  # the mocks' session issuer
CI = f"{ROLE}/candlefish-ci-deploy"
SSO = f"{ROLE}/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_0a1b2c3d"
DEPLOYERS = [RUNNING, CI, SSO]
READER = f"{ROLE}/candlefish-production-bg-elena"
OTHER_READER = f"{ROLE}/candlefish-production-bg-tomas"
NOT_A_READER = f"{ROLE}/candlefish-production-bg-priya"  # a break-glass requester, not a share reader
STRANGER = f"{ROLE}/someone-else"
VIA_SM = "secretsmanager.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def plan():
    recording = run_program(
        "production",
        overrides={
            "candlefish-secrets:deployerPrincipals": [
                "candlefish-ci-deploy",
                "aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_*",
            ]
        },
    )
    secret = recording.one(SECRET_TYPE, "bootstrap-break-glass")
    key = recording.one("aws:kms/key:Key", "bootstrap-shares-key")
    return {
        "recording": recording,
        "secret_arn": secret.outputs["arn"],
        "secret": secret,
        "secret_policy": recording.one(POLICY_TYPE, "bootstrap-break-glass-policy").inputs["policy"],
        "key": key,
        "key_policy": key.inputs["policy"],
        "resume": recording.one(SECRET_TYPE, "bootstrap-resume"),
        "resume_policy": recording.one(POLICY_TYPE, "bootstrap-resume-policy").inputs["policy"],
    }


def secret_call(plan, principal: str, action: str, *, admin: bool) -> str:
    return decide(plan["secret_policy"], Request(principal, action), identity_allows=admin)


def kms_call(
    plan, principal: str, action: str, *, version: str | None = None, via: str | None = VIA_SM, **ctx
):
    context = {"kms:CallerAccount": ACCOUNT_ID, **ctx}
    if via:
        context["kms:ViaService"] = via
    context.setdefault("kms:EncryptionContext:SecretARN", plan["secret_arn"])
    context["kms:EncryptionContext:SecretVersionId"] = version or str(uuid.uuid4())
    # The deployers' identity policies allow everything (administrators); the break-glass roles' nothing.
    admin = principal in DEPLOYERS or principal == STRANGER
    return decide(
        plan["key_policy"], Request(principal, action, context), identity_allows=admin, key_policy=True
    )


def test_the_shares_secret_has_its_own_key_and_the_bootstrap_resumes_from_its_own_secret(plan):
    assert plan["secret"].inputs["kmsKeyId"] == plan["key"].outputs["arn"]
    assert plan["key"].inputs["tags"]["KeyPurpose"] == "recovery-shares"
    assert plan["key"].inputs["enableKeyRotation"] is True
    vault = plan["recording"].one("pulumi-python:dynamic/candlefish:BootstrappedVault", "bootstrap-vault")
    assert vault.inputs["resume_secret_id"] == plan["resume"].outputs["arn"]
    assert vault.inputs["break_glass_secret_id"] == plan["secret_arn"]
    assert vault.inputs["recovery_pgp_keys"] == []  # no placeholder keys
    assert plan["resume"].inputs["name"] == "candlefish/production/vault/bootstrap-resume"
    # Both policies are in place before the bootstrap may write either secret.
    policies = {
        plan["recording"].one(POLICY_TYPE, name).urn
        for name in ("bootstrap-break-glass-policy", "bootstrap-resume-policy")
    }
    assert policies <= set(vault.dependencies)
    assert not [w for w in plan["recording"].warnings if "vaultRecoveryPgpKeys" in w]


@pytest.mark.parametrize("deployer", DEPLOYERS, ids=["running", "ci", "sso"])
def test_a_deployer_may_write_the_shares_but_not_read_them(plan, deployer):
    assert secret_call(plan, deployer, "secretsmanager:PutSecretValue", admin=True) == ALLOW
    assert secret_call(plan, deployer, "secretsmanager:DescribeSecret", admin=True) == ALLOW
    assert secret_call(plan, deployer, "secretsmanager:UpdateSecretVersionStage", admin=True) == ALLOW
    assert secret_call(plan, deployer, "secretsmanager:GetSecretValue", admin=True) == EXPLICIT_DENY


@pytest.mark.parametrize("deployer", DEPLOYERS, ids=["running", "ci", "sso"])
def test_a_deployer_may_encrypt_the_shares_through_secrets_manager_but_never_decrypt_them(plan, deployer):
    assert kms_call(plan, deployer, "kms:GenerateDataKey") == ALLOW
    assert kms_call(plan, deployer, "kms:Decrypt") == EXPLICIT_DENY
    assert kms_call(plan, deployer, "kms:Decrypt", via=None) == EXPLICIT_DENY
    assert kms_call(plan, deployer, "kms:ReEncryptFrom") == EXPLICIT_DENY
    # Secrets Manager's check when the secret is given this key: a version no real secret has.
    assert kms_call(plan, deployer, "kms:Decrypt", version="RequestToValidateKeyAccess") == ALLOW
    # Not for another secret, and not directly (without Secrets Manager).
    other = plan["secret_arn"].replace("vault/break-glass", "vault/tls")
    assert kms_call(plan, deployer, "kms:GenerateDataKey", **{"kms:EncryptionContext:SecretARN": other}) == (
        IMPLICIT_DENY
    )
    assert kms_call(plan, deployer, "kms:GenerateDataKey", via=None) == IMPLICIT_DENY


@pytest.mark.parametrize("reader", [READER, OTHER_READER], ids=["elena", "tomas"])
def test_a_readers_break_glass_role_reads_and_decrypts_the_shares_through_secrets_manager(plan, reader):
    assert secret_call(plan, reader, "secretsmanager:GetSecretValue", admin=False) == ALLOW
    assert kms_call(plan, reader, "kms:Decrypt") == ALLOW
    assert kms_call(plan, reader, "kms:Decrypt", via=None) == IMPLICIT_DENY  # only through Secrets Manager
    assert secret_call(plan, reader, "secretsmanager:PutSecretValue", admin=True) == EXPLICIT_DENY


@pytest.mark.parametrize("principal", [NOT_A_READER, STRANGER], ids=["other-break-glass-person", "stranger"])
def test_anyone_else_is_denied_even_with_administrator_rights(plan, principal):
    assert secret_call(plan, principal, "secretsmanager:GetSecretValue", admin=True) == EXPLICIT_DENY
    assert secret_call(plan, principal, "secretsmanager:PutSecretValue", admin=True) == EXPLICIT_DENY
    assert kms_call(plan, principal, "kms:Decrypt") == EXPLICIT_DENY
    assert kms_call(plan, principal, "kms:GenerateDataKey") != ALLOW


def test_the_resume_secret_is_the_deployers_alone(plan):
    resume = plan["resume_policy"]
    for deployer in DEPLOYERS:
        assert (
            decide(resume, Request(deployer, "secretsmanager:GetSecretValue"), identity_allows=True) == ALLOW
        )
        assert (
            decide(resume, Request(deployer, "secretsmanager:PutSecretValue"), identity_allows=True) == ALLOW
        )
    for other in (READER, STRANGER):
        assert decide(resume, Request(other, "secretsmanager:GetSecretValue"), identity_allows=True) == (
            EXPLICIT_DENY
        )


def test_the_documents_pass_parliament(plan):
    assert findings(plan["secret_policy"], resource_policy=True) == []
    assert findings(plan["resume_policy"], resource_policy=True) == []
    # KeyAdministration includes PutKeyPolicy and RevokeGrant: managing the key is what it is for.
    accepted = {"PERMISSIONS_MANAGEMENT_ACTIONS": "key administration statement"}
    assert findings(plan["key_policy"], resource_policy=True, accepted=accepted) == []


def test_the_key_policy_names_the_readers_roles_and_the_secret_by_its_arn_pattern(plan):
    statements = {s["Sid"]: s for s in json.loads(plan["key_policy"])["Statement"]}
    readers = statements["BreakGlassRolesDecryptTheSharesThroughSecretsManager"]
    assert sorted(readers["Principal"]["AWS"]) == [READER, OTHER_READER]
    assert readers["Condition"]["StringLike"]["kms:EncryptionContext:SecretARN"] == (
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:candlefish/production/vault/break-glass-??????"
    )


def test_without_readers_a_dev_stack_keeps_the_readable_secret_and_no_resume_secret(dev):
    secret = dev.one(SECRET_TYPE, "bootstrap-break-glass")
    assert not [r for r in dev.resources if r.name in {"bootstrap-shares-key", "bootstrap-resume"}]
    vault = dev.one("pulumi-python:dynamic/candlefish:BootstrappedVault", "bootstrap-vault")
    assert vault.inputs["resume_secret_id"] == ""
    policy = dev.one(POLICY_TYPE, "bootstrap-break-glass-policy").inputs["policy"]
    assert decide(policy, Request(RUNNING, "secretsmanager:GetSecretValue"), identity_allows=True) == ALLOW
    assert secret.inputs["kmsKeyId"] != ""
