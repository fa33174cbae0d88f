"""KMS keys: rotation, deletion windows, aliases, least-privilege key policies, and the CloudHSM path."""

import json

import pytest

from components.lib.key_policies import ADMIN_ACTIONS, KeyPolicyContext, key_policy
from tests.support.iam_lint import findings
from tests.support.mocks import run_program

PURPOSES = ("data", "logs", "secrets", "notifications", "functions", "unseal")
CTX = KeyPolicyContext(
    "123456789012", "aws", "us-east-1", "arn:aws:iam::123456789012:role/aws-service-role/x/y"
)
FAKE_ANCHOR = "-----BEGIN CERTIFICATE-----\nZXhhbXBsZS1ub3QtYS1jZXJ0\n-----END CERTIFICATE-----"

# Parliament reads key policies as identity policies; these findings are accepted, each for a reason.
ACCEPTED = {
    # KeyAdministration includes PutKeyPolicy and RevokeGrant: managing the key is what it is for.
    "PERMISSIONS_MANAGEMENT_ACTIONS": "key administration statement",
}
LOGS_ACCEPTED = {
    **ACCEPTED,
    # AWS documents ArnLike on kms:EncryptionContext:aws:logs:arn for CloudWatch Logs encryption;
    # parliament's condition-key table does not know that context key's type or its use with DescribeKey.
    "UNKNOWN_CONDITION_FOR_ACTION": "documented CloudWatch Logs key policy",
    "MISMATCHED_TYPE": "documented CloudWatch Logs key policy",
}


def keys_by_purpose(recording):
    """The Keys and UnsealKey components' key per purpose (Storage's DR-region replica key and the
    break-glass table's own key are not the stack's per-purpose keys)."""
    return {
        k.inputs["tags"]["KeyPurpose"]: k
        for k in recording.of_type("aws:kms/key:Key")
        if k.parent
        and ("candlefish:secrets:Keys::" in k.parent or "candlefish:secrets:UnsealKey::" in k.parent)
    }


def test_every_purpose_has_its_own_key(production):
    assert set(keys_by_purpose(production)) == set(PURPOSES)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_keys_rotate_yearly_with_a_30_day_deletion_window_in_production(production, purpose):
    key = keys_by_purpose(production)[purpose]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 365
    assert key.inputs["deletionWindowInDays"] == 30


def test_dev_keys_use_the_shorter_configured_window(dev):
    assert {k.inputs["deletionWindowInDays"] for k in dev.of_type("aws:kms/key:Key")} == {7}


def test_each_key_has_an_alias_naming_its_purpose(production):
    aliases = {a.inputs["name"]: a.inputs["targetKeyId"] for a in production.of_type("aws:kms/alias:Alias")}
    for purpose, key in keys_by_purpose(production).items():
        assert aliases[f"alias/candlefish-production-{purpose}"] == key.outputs["keyId"]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_recorded_key_policies_pass_parliament(production, purpose):
    policy = keys_by_purpose(production)[purpose].inputs["policy"]
    accepted = LOGS_ACCEPTED if purpose == "logs" else ACCEPTED
    assert findings(policy, resource_policy=True, accepted=accepted) == []


@pytest.mark.parametrize("purpose", PURPOSES)
def test_administration_never_includes_using_the_key(purpose):
    admin = key_policy(purpose, CTX)["Statement"][0]
    assert admin["Sid"] == "KeyAdministration"
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:*"} & set(admin["Action"])
    assert not any(action.endswith("*") for action in ADMIN_ACTIONS)


def statements(purpose):
    return {s["Sid"]: s for s in key_policy(purpose, CTX)["Statement"]}


def test_unseal_key_allows_only_what_vaults_awskms_seal_calls():
    use = statements("unseal")["UnsealThroughIamPolicies"]
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"]
    assert use["Condition"] == {"StringEquals": {"kms:CallerAccount": "123456789012"}}


def test_only_the_vault_nodes_role_may_use_the_recorded_unseal_key(production):
    policy = json.loads(keys_by_purpose(production)["unseal"].inputs["policy"])
    use = {s["Sid"]: s for s in policy["Statement"]}["UnsealThroughIamPolicies"]
    node_role = production.one("aws:iam/role:Role", "vault-node-role").outputs["arn"]
    assert use["Condition"]["ArnEquals"] == {"aws:PrincipalArn": node_role}


def test_data_key_is_used_only_via_storage_services_and_the_autoscaling_role():
    found = statements("data")
    assert found["UseViaStorageServices"]["Condition"]["StringEquals"]["kms:ViaService"] == [
        "ec2.us-east-1.amazonaws.com",
        "elasticache.us-east-1.amazonaws.com",
        "rds.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
    ]
    grants = found["GrantsForStorageServices"]["Condition"]
    assert grants["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert found["AutoScalingUsesKeyForVolumes"]["Principal"] == {"AWS": CTX.autoscaling_role_arn}
    assert found["AutoScalingGrantsForVolumes"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }


def test_logs_key_serves_only_this_accounts_log_groups_in_this_region():
    logs = statements("logs")["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}
    }


def test_secrets_key_is_used_only_through_secrets_manager():
    use = statements("secrets")["UseViaSecretsManager"]
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == ["secretsmanager.us-east-1.amazonaws.com"]


def test_notifications_key_lets_cloudwatch_alarms_publish_from_this_account_only():
    alarms = statements("notifications")["CloudWatchAlarmsPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_data_key_policy_names_the_dedicated_autoscaling_role(production):
    role = production.one("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert role.inputs["awsServiceName"] == "autoscaling.amazonaws.com"
    assert role.inputs["customSuffix"] == "candlefish-production"
    policy = json.loads(keys_by_purpose(production)["data"].inputs["policy"])
    principals = [s["Principal"] for s in policy["Statement"] if s["Sid"].startswith("AutoScaling")]
    assert principals == [{"AWS": role.outputs["arn"]}] * 2


def test_production_builds_a_cloudhsm_cluster_with_two_hsms_in_different_zones(production):
    cluster = production.one("aws:cloudhsmv2/cluster:Cluster")
    assert cluster.inputs["hsmType"] == "hsm2m.medium"
    assert cluster.inputs["mode"] == "FIPS"
    hsms = production.of_type("aws:cloudhsmv2/hsm:Hsm")
    assert len(hsms) == 2
    zone_of = {s.id: s.inputs["availabilityZone"] for s in production.of_type("aws:ec2/subnet:Subnet")}
    assert len({zone_of[h.inputs["subnetId"]] for h in hsms}) == 2
    assert all(h.inputs["clusterId"] == cluster.outputs["clusterId"] for h in hsms)


def test_until_the_key_store_is_connected_the_unseal_key_is_standard_kms_and_says_so(production):
    unseal = keys_by_purpose(production)["unseal"]
    assert "customKeyStoreId" not in unseal.inputs
    assert production.outputs["unsealKeyBacking"] == "kms"
    assert any("CloudHSM key store is not connected" in w for w in production.warnings)
    assert not production.of_type("aws:kms/customKeyStore:CustomKeyStore")


@pytest.fixture(scope="module")
def hsm_connected():
    return run_program(
        "production",
        overrides={
            "candlefish-secrets:hsmTrustAnchorCertificate": FAKE_ANCHOR,
            "candlefish-secrets:hsmKeyStoreConnected": True,
        },
    )


def test_connected_key_store_holds_the_unseal_key_without_rotation(hsm_connected):
    store = hsm_connected.one("aws:kms/customKeyStore:CustomKeyStore")
    cluster = hsm_connected.one("aws:cloudhsmv2/cluster:Cluster")
    assert store.inputs["cloudHsmClusterId"] == cluster.outputs["clusterId"]
    assert store.inputs["trustAnchorCertificate"] == FAKE_ANCHOR
    assert store.is_secret("keyStorePassword")
    unseal = keys_by_purpose(hsm_connected)["unseal"]
    assert unseal.inputs["customKeyStoreId"] == store.id
    # AWS cannot rotate keys in a custom key store: asking would fail the apply.
    assert unseal.inputs["enableKeyRotation"] is False
    assert "rotationPeriodInDays" not in unseal.inputs
    assert hsm_connected.outputs["unsealKeyBacking"] == "cloudhsm"
    assert not any("not connected" in w for w in hsm_connected.warnings)


def test_kmsuser_password_is_generated_and_kept_in_secrets_manager(hsm_connected):
    password = hsm_connected.one("random:index/randomPassword:RandomPassword", "unseal-kmsuser-password")
    assert 7 <= password.inputs["length"] <= 32
    secret = hsm_connected.one("aws:secretsmanager/secret:Secret", "unseal-kmsuser-password-secret")
    assert secret.inputs["kmsKeyId"] == keys_by_purpose(hsm_connected)["secrets"].outputs["arn"]
    version = hsm_connected.one(
        "aws:secretsmanager/secretVersion:SecretVersion", "unseal-kmsuser-password-value"
    )
    assert version.is_secret("secretString")


def test_dev_has_no_cloudhsm(dev):
    assert not dev.of_type("aws:cloudhsmv2/cluster:Cluster")
    assert dev.outputs["unsealKeyBacking"] == "kms"


def test_production_protects_the_unseal_key_from_replacement_and_deletion(production, dev):
    unseal = keys_by_purpose(production)["unseal"]
    assert unseal.protect is True
    assert keys_by_purpose(dev)["unseal"].protect is False
