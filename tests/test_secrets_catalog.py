"""The SecretsCatalog component, recorded under the mocks with the production catalog."""

import json

import pulumi
import pytest

from components.catalog.rotation import SecretRotationFunction, SecretRotationFunctionArgs, rotation_code
from components.catalog.secrets import SecretsCatalog, SecretsCatalogArgs, VaultAccess
from components.config.stack import load_stack_config
from components.deployment import AwsContext, Deployment
from tests.support.iam_lint import findings
from tests.support.mocks import run_program

pytestmark = pytest.mark.slow
DEPLOYER = "arn:aws:iam::123456789012:role/candlefish-deployer"
APP_ROLE = "arn:aws:iam::123456789012:role/candlefish-app"
SUPPLIED = {"candlefish-secrets:mongodbUri": "example-not-a-secret-uri"}


def catalog_program(*, with_vault=True):
    def program():
        config = load_stack_config()
        supplied = {
            entry.name: pulumi.Config().require_secret(entry.config_value.key)
            for entry in config.catalog
            if entry.config_value is not None and entry.config_value.present
        }
        rotation = SecretRotationFunction(
            "rotation",
            SecretRotationFunctionArgs(
                deployment=Deployment.from_config(config, AwsContext("123456789012", "aws", "us-east-1")),
                vpc_id="vpc-0example",
                vpc_cidr=config.network.vpc_cidr,
                private_subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
                logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/logs",
                log_retention_days=365,
                vault_address="https://vault.internal.example",
                vault_ca_pem="example-ca",
                vault_server_name="vault.production.candlefish.internal",
                alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts",
                notifications_key_arn="arn:aws:kms:us-east-1:123456789012:key/notifications",
            ),
        )
        SecretsCatalog(
            "catalog",
            SecretsCatalogArgs(
                deployment=Deployment.from_config(config, AwsContext("123456789012", "aws", "us-east-1")),
                catalog=config.catalog,
                secrets_key_arn="arn:aws:kms:us-east-1:123456789012:key/secrets",
                deployer_role_arn=DEPLOYER,
                rotation=rotation,
                supplied_values=supplied,
                team_roles=config.team_roles,
                reader_role_arns=[APP_ROLE],
                vault=VaultAccess(
                    "https://vault.internal.example", "example-ca", pulumi.Output.secret("example-token")
                )
                if with_vault
                else None,
            ),
        )

    return program


@pytest.fixture(scope="module")
def catalog():
    return run_program("production", secrets=SUPPLIED, program=catalog_program())


def secret(recording, name):
    return recording.one("aws:secretsmanager/secret:Secret", f"catalog-{name}")


def test_each_entry_is_a_secret_named_by_environment_with_the_secrets_key(catalog):
    for name in ("mongodb", "smithery-api", "jwt-secret", "encryption-key"):
        found = secret(catalog, name)
        assert found.inputs["name"] == f"candlefish/production/{name}"
        assert found.inputs["kmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/secrets"
        assert found.inputs["recoveryWindowInDays"] == 30


def test_secrets_carry_owner_type_rotation_and_vault_path_tags(catalog):
    tags = secret(catalog, "jwt-secret").inputs["tags"]
    assert {
        k: tags[k] for k in ("Owner", "SecretType", "RotationDays", "Source", "VaultPath", "ValueFormat")
    } == {
        "Owner": "security-team",
        "SecretType": "crypto",
        "RotationDays": "180",
        "Source": "generate",
        "VaultPath": "candlefish/jwt/secret",
        "ValueFormat": "chars-64",
    }
    assert secret(catalog, "mongodb").inputs["description"] == "MongoDB Atlas connection credentials"


def test_resource_policy_admits_only_owner_rotation_deployer_and_consumers(catalog):
    policy_resource = catalog.one("aws:secretsmanager/secretPolicy:SecretPolicy", "catalog-jwt-secret-policy")
    assert policy_resource.inputs["blockPublicPolicy"] is True
    policy = json.loads(policy_resource.inputs["policy"])
    read, change, retag = policy["Statement"]
    rotation_role = catalog.one("aws:iam/role:Role", "rotation-function-role").outputs["arn"]
    owner = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_SecurityTeam_*"
    assert read["Effect"] == change["Effect"] == "Deny"
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [owner, rotation_role, DEPLOYER, APP_ROLE]
    assert change["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [owner, rotation_role, DEPLOYER]
    # The tags tell the rotation function where and how to write: only it and the deployer change them.
    assert retag["Action"] == ["secretsmanager:TagResource", "secretsmanager:UntagResource"]
    assert retag["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [rotation_role, DEPLOYER]
    assert findings(policy, resource_policy=True) == []


def test_generated_values_follow_each_entrys_format(catalog):
    jwt = catalog.one("random:index/randomPassword:RandomPassword", "catalog-jwt-secret-value")
    assert jwt.inputs["length"] == 64
    assert jwt.inputs["overrideSpecial"] == "-_"
    key = catalog.one("random:index/randomBytes:RandomBytes", "catalog-encryption-key-value")
    assert key.inputs["length"] == 32


def test_seeds_write_secret_values_to_both_stores(catalog):
    for name, path in (("jwt-secret", "candlefish/jwt/secret"), ("mongodb", "candlefish/mongodb/connection")):
        sm_seed = catalog.named(f"catalog-{name}-sm-seed")
        assert sm_seed.inputs["secret_id"] == secret(catalog, name).outputs["arn"]
        assert sm_seed.is_secret("value")
        vault_seed = catalog.named(f"catalog-{name}-vault-seed")
        assert vault_seed.inputs["path"] == path
        assert vault_seed.inputs["mount"] == "secret"
        assert vault_seed.is_secret("value") and vault_seed.is_secret("token")
        assert "token" in vault_seed.additional_secret_outputs  # kept in state for refresh/delete, encrypted
    metadata = catalog.named("catalog-jwt-secret-vault-seed").inputs["custom_metadata"]
    assert metadata == {
        "owner": "security-team",
        "type": "crypto",
        "rotation_days": "180",
        "source": "generate",
    }


def test_a_supplied_value_that_is_not_set_gets_no_seed_and_a_warning(catalog):
    assert not [
        r for r in catalog.resources if r.name.startswith("catalog-smithery-api-") and "seed" in r.name
    ]
    assert any("pulumi config set --secret smitheryApiKey" in w for w in catalog.warnings)


def test_rotation_schedules_match_rotation_days_and_wait_for_the_seeds(catalog):
    function_arn = catalog.one("aws:lambda/function:Function").outputs["arn"]
    for name, days in (("mongodb", 90), ("smithery-api", 30), ("jwt-secret", 180), ("encryption-key", 365)):
        rotation = catalog.one("aws:secretsmanager/secretRotation:SecretRotation", f"catalog-{name}-rotation")
        assert rotation.inputs["rotationRules"] == {"automaticallyAfterDays": days}
        assert rotation.inputs["rotateImmediately"] is False
        assert rotation.inputs["rotationLambdaArn"] == function_arn
    seeds = {
        r.urn for r in catalog.resources if r.name.startswith("catalog-jwt-secret-") and "seed" in r.name
    }
    jwt_rotation = catalog.one(
        "aws:secretsmanager/secretRotation:SecretRotation", "catalog-jwt-secret-rotation"
    )
    assert seeds <= set(jwt_rotation.dependencies)


def test_rotation_function_runs_in_the_private_subnets_with_vault_settings(catalog):
    function = catalog.one("aws:lambda/function:Function")
    assert function.inputs["handler"] == "lambdas.rotation.handler.lambda_handler"
    assert function.inputs["runtime"].startswith("python3.")
    assert function.inputs["vpcConfig"]["subnetIds"] == ["subnet-0a", "subnet-0b", "subnet-0c"]
    env = function.inputs["environment"]["variables"]
    assert env["VAULT_ADDR"].startswith("https://")
    assert env["VAULT_AUTH_ROLE"] == "rotation"
    assert env["VAULT_IAM_SERVER_ID"] == "vault.production.candlefish.internal"
    assert (
        function.inputs["role"] == catalog.one("aws:iam/role:Role", "rotation-function-role").outputs["arn"]
    )
    # Lambda refuses a VPC function whose role cannot yet create network interfaces.
    vpc_access = catalog.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "rotation-function-vpc-access"
    )
    assert vpc_access.urn in function.dependencies
    assert env["ALERTS_TOPIC_ARN"].endswith(":candlefish-production-alerts")
    egress = catalog.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in egress] == [
        (443, 443, "10.0.0.0/16")
    ]


def test_rotation_function_package_is_only_the_lambda_code():
    assets = sorted(rotation_code().assets)
    assert assets == [
        "lambdas/__init__.py",
        "lambdas/rotation/__init__.py",
        "lambdas/rotation/handler.py",
        "lambdas/rotation/redis_auth.py",
        "lambdas/rotation/values.py",
        "lambdas/rotation/vault.py",
    ]


def test_rotation_role_reaches_only_the_catalog(catalog):
    access = json.loads(
        catalog.one("aws:iam/rolePolicy:RolePolicy", "catalog-rotation-access").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in access["Statement"]}
    arns = sorted(r.outputs["arn"] for r in catalog.of_type("aws:secretsmanager/secret:Secret"))
    assert sorted(by_sid["RotateCatalogSecrets"]["Resource"]) == arns
    assert by_sid["UseSecretsKey"]["Resource"] == ["arn:aws:kms:us-east-1:123456789012:key/secrets"]
    assert findings(access) == []
    base = json.loads(
        catalog.one("aws:iam/rolePolicy:RolePolicy", "rotation-function-policy").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in base["Statement"]}
    assert by_sid["PublishRotationMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "Candlefish/Secrets"}
    }
    assert by_sid["PublishAlerts"]["Resource"] == [
        "arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"
    ]
    # The alerts topic is encrypted: publishing needs the notifications key, through SNS only.
    assert by_sid["EncryptAlertsThroughSns"]["Resource"] == [
        "arn:aws:kms:us-east-1:123456789012:key/notifications"
    ]
    assert by_sid["EncryptAlertsThroughSns"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}
    }
    assert findings(base, accepted={"RESOURCE_STAR": "PutMetricData has no resource-level permissions"}) == []
    invoke = catalog.one("aws:lambda/permission:Permission")
    assert invoke.inputs["principal"] == "secretsmanager.amazonaws.com"
    assert invoke.inputs["sourceAccount"] == "123456789012"


def test_without_vault_access_only_secrets_manager_is_seeded():
    recording = run_program("production", secrets=SUPPLIED, program=catalog_program(with_vault=False))
    assert [r.name for r in recording.resources if r.name.endswith("-vault-seed")] == []
    assert len([r for r in recording.resources if r.name.endswith("-sm-seed")]) == 3
