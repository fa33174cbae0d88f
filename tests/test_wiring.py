"""Components agree with each other in the recorded production stack: what one configures, another uses."""

from components.vault.userdata import AUDIT_LOG_PATH
from providers.vault_config import desired


def bootstrap(recording):
    return recording.named("bootstrap-vault")


def test_bootstrap_reaches_the_cluster_through_its_load_balancer_listener_and_ca(production):
    vault = bootstrap(production)
    assert vault.inputs["address"] == production.outputs["vaultBootstrapAddress"]
    assert vault.inputs["address"].startswith("https://")
    assert vault.inputs["ca_pem"] == production.outputs["vaultCaCertificate"]
    assert vault.inputs["cluster_size"] == 5


def test_bootstrap_enables_the_file_audit_device_where_the_agent_ships_from(production):
    assert bootstrap(production).inputs["audit_file_path"] == AUDIT_LOG_PATH


def test_the_provisioner_policy_pins_the_audit_path_and_sts_endpoint_the_bootstrap_declares(production):
    """Later runs re-enable the file device and rewrite the AWS auth client as the provisioner: its policy
    must allow exactly the values the bootstrap writes."""
    vault = bootstrap(production)
    provisioner = vault.inputs["policies"]["provisioner"]
    sts_endpoint = desired(vault.inputs)["aws_client"]["sts_endpoint"]
    assert sts_endpoint == "https://sts.us-east-1.amazonaws.com"
    assert f'"sts_endpoint"               = ["{sts_endpoint}"]' in provisioner
    assert f'"options"     = [{{ "file_path" = "{AUDIT_LOG_PATH}" }}]' in provisioner
    assert "${" not in provisioner


def test_aws_auth_roles_bind_the_roles_that_log_in(production):
    vault = bootstrap(production)
    node_role = production.one("aws:iam/role:Role", "vault-node-role")
    rotation_role = production.one("aws:iam/role:Role", "rotation-function-role")
    assert vault.inputs["node_role_arn"] == node_role.outputs["arn"]
    assert vault.inputs["rotation_role_arn"] == rotation_role.outputs["arn"]


def test_every_aws_login_sends_the_server_id_vault_requires(production):
    server_id = bootstrap(production).inputs["iam_server_id"]
    assert server_id == "vault.production.candlefish.internal"
    function = production.one("aws:lambda/function:Function", "rotation-function")
    assert function.inputs["environment"]["variables"]["VAULT_IAM_SERVER_ID"] == server_id


def test_rotation_function_talks_to_the_same_vault(production):
    variables = production.one("aws:lambda/function:Function", "rotation-function").inputs["environment"][
        "variables"
    ]
    assert variables["VAULT_ADDR"] == production.outputs["vaultAddress"]
    assert variables["VAULT_CA_PEM"] == production.outputs["vaultCaCertificate"]


def test_catalog_seeds_use_the_bootstraps_provisioner_token_as_a_secret(production):
    seeds = [r for r in production.resources if r.type.endswith(":VaultKvSeed")]
    assert {seed.name for seed in seeds} == {
        "catalog-jwt-secret-vault-seed",
        "catalog-encryption-key-vault-seed",
    }
    for seed in seeds:
        assert seed.inputs["address"] == production.outputs["vaultBootstrapAddress"]
        assert seed.is_secret("token")
        assert bootstrap(production).urn in seed.dependencies


def test_the_provisioner_token_never_appears_in_plain_outputs(production):
    assert "vaultProvisionerToken" not in production.outputs
    assert "provisioner_token" in bootstrap(production).additional_secret_outputs


def test_only_the_security_team_and_the_deployer_may_read_pgp_encrypted_break_glass_material():
    import json

    from tests.support.mocks import run_program

    # Production with PGP-encrypted shares instead of write-only ones (tests/test_recovery_shares.py).
    pgp_keys = [f"ZXhhbXBsZS1ub3QtYS1rZXkt{index}A==" for index in range(5)]  # base64, obviously fake
    recording = run_program(
        "production",
        overrides={
            "candlefish-secrets:vaultRecoverySharesReaders": None,
            "candlefish-secrets:vaultRecoveryPgpKeys": pgp_keys,
        },
    )
    policy = json.loads(
        recording.one("aws:secretsmanager/secretPolicy:SecretPolicy", "bootstrap-break-glass-policy").inputs[
            "policy"
        ]
    )
    readers = policy["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    security = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_SecurityTeam_*"
    assert security in readers
    assert all(reader == security or "deployer" in reader for reader in readers), readers


def test_a_deploy_address_changes_only_how_pulumi_reaches_vault():
    from tests.support.mocks import run_program

    recording = run_program(
        "production", overrides={"candlefish-secrets:vaultDeployAddress": "https://localhost:8443"}
    )
    assert recording.named("bootstrap-vault").inputs["address"] == "https://localhost:8443"
    seeds = [r for r in recording.resources if r.type.endswith((":VaultKvSeed", ":VaultDatabaseEngine"))]
    assert seeds and {seed.inputs["address"] for seed in seeds} == {"https://localhost:8443"}
    function = recording.one("aws:lambda/function:Function", "rotation-function")
    assert function.inputs["environment"]["variables"]["VAULT_ADDR"] == recording.outputs["vaultAddress"]


def test_the_bootstrap_waits_for_the_listener_and_the_nodes(production):
    depends = set(bootstrap(production).dependencies)
    assert production.one("aws:lb/listener:Listener", "vault-https").urn in depends
    assert production.one("aws:autoscaling/group:Group").urn in depends
