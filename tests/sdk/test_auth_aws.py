"""AWS IAM auth, which OpenBao does not have: against the AWS auth stand-in in front of real OpenBao.

The stand-in (tests/support/aws_auth_standin.py) checks what Vault checks of the login (a
GetCallerIdentity POST to the regional STS endpoint, the server-id header signed, the principal bound to
the role) and, because the test registers the secret key, recomputes the SigV4 signature botocore made;
the token a login returns is a real OpenBao token with the role's policies.
"""

import boto3
import pytest
from candlefish_secrets import AuthenticationFailed, AwsIamAuth, SecretsClient
from candlefish_secrets.cache import SecretCache
from candlefish_secrets.vault import VaultSession

ROLE_ARN = "arn:aws:iam::123456789012:role/candlefish-payments"
SERVER_ID = "vault.candlefish.internal"
VALUE = "example-not-a-secret-aws-auth"


def session(secret_key="testing"):
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key=secret_key, region_name="us-east-1"
    )


@pytest.fixture
def vault_client(real_vault):
    return real_vault.client()


@pytest.fixture
def aws_vault(real_vault, vault_client, unique_path):
    real_vault.proxy.with_aws_auth(real_vault.root_token)
    assert real_vault.proxy.aws_auth is not None
    vault_client.sys.enable_auth_method("aws")
    vault_client.write("auth/aws/config/client", iam_server_id_header_value=SERVER_ID)
    vault_client.sys.create_or_update_policy(
        "payments", 'path "secret/data/candlefish/payments/*" { capabilities = ["read"] }'
    )
    vault_client.auth.aws.create_role(
        "payments", auth_type="iam", bound_iam_principal_arn=[ROLE_ARN], policies=["payments"], ttl="1h"
    )
    real_vault.proxy.aws_auth.register_identity("testing", ROLE_ARN, secret_access_key="testing")
    vault_client.secrets.kv.v2.create_or_update_secret(
        path="candlefish/payments/stripe", mount_point="secret", secret={"value": VALUE}
    )
    return real_vault


def test_an_aws_iam_login_signed_by_botocore_reads_a_secret(aws_vault):
    auth = AwsIamAuth("payments", region="us-east-1", server_id=SERVER_ID, session=session())
    vault = VaultSession(aws_vault.url, auth, renew_in_background=False)
    client = SecretsClient(vault=vault, cache=SecretCache())
    assert client.get("vault://candlefish/payments/stripe") == VALUE
    state = vault.token_state()
    assert state.method == "aws"
    assert "payments" in state.policies
    assert state.ttl_s is not None
    assert 3500 < state.ttl_s <= 3600
    client.close()


def test_the_login_signs_for_the_regional_sts_endpoint_with_the_server_id_header(aws_vault):
    payload = AwsIamAuth(
        "payments", region="eu-west-1", server_id=SERVER_ID, session=session()
    ).signed_payload()
    import base64
    import json

    assert base64.b64decode(payload["iam_request_url"]).decode() == "https://sts.eu-west-1.amazonaws.com/"
    headers = json.loads(base64.b64decode(payload["iam_request_headers"]))
    assert headers["X-Vault-AWS-IAM-Server-ID"] == [SERVER_ID]
    assert "x-vault-aws-iam-server-id" in headers["Authorization"][0]
    assert (
        base64.b64decode(payload["iam_request_body"]).decode()
        == "Action=GetCallerIdentity&Version=2011-06-15"
    )


def test_a_wrong_signature_is_refused_without_naming_the_key(aws_vault):
    auth = AwsIamAuth("payments", server_id=SERVER_ID, session=session(secret_key="wrong-key"))
    vault = VaultSession(aws_vault.url, auth, renew_in_background=False)
    with pytest.raises(AuthenticationFailed, match="SignatureDoesNotMatch") as caught:
        vault.ensure_token()
    assert "wrong-key" not in str(caught.value)
    assert "wrong-key" not in repr(auth)


def test_a_missing_server_id_header_is_refused(aws_vault):
    vault = VaultSession(aws_vault.url, AwsIamAuth("payments", session=session()), renew_in_background=False)
    with pytest.raises(AuthenticationFailed, match="X-Vault-AWS-IAM-Server-ID"):
        vault.ensure_token()


def test_a_revoked_token_leads_to_one_new_aws_login(aws_vault, vault_client):
    auth = AwsIamAuth("payments", server_id=SERVER_ID, session=session())
    vault = VaultSession(aws_vault.url, auth, renew_in_background=False)
    client = SecretsClient(vault=vault)
    assert client.get("vault://candlefish/payments/stripe") == VALUE
    vault_client.auth.token.revoke(vault._client.token)
    client.invalidate()
    assert client.get("vault://candlefish/payments/stripe") == VALUE
    assert vault.logins == 2
    client.close()
