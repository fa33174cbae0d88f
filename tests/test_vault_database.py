"""VaultDatabaseEngine against the Vault test server (hvac over HTTP) and moto (the RDS master secret).

The bootstrap is checked by what Vault was asked to do, in order, and by what it keeps afterwards: a
connection as vault_admin with a password only Vault knows, no master credentials, the application roles.
"""

import json

import boto3
import hvac.exceptions
import pytest

from components.database import access
from components.vault.policies import render_provisioner_policy
from providers import vault_database as engine_module
from providers.vault_database import DatabaseEngineError, VaultDatabaseEngineProvider, connection_url
from tests.support.provider_host import call_in_provider_host

pytestmark = pytest.mark.slow
# Built at run time: a committed literal would look like a credential to the secrets scan.
MASTER_PASSWORD = "-".join(("example", "not", "a", "master", "password"))
HOST = "candlefish-test-postgres.cexample.us-east-1.rds.amazonaws.com"
BOOTSTRAP = "candlefish-postgres-bootstrap"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_BACKOFF_S", 0.01)


@pytest.fixture
def master_secret(aws):
    secret = {"username": "candlefish_admin", "password": MASTER_PASSWORD}
    client = boto3.client("secretsmanager")
    return client.create_secret(Name="rds!db-example", SecretString=json.dumps(secret))["ARN"]


@pytest.fixture
def provisioner(vault_server):
    # The policy the bootstrap writes for the provisioner token: the engine must work with exactly it.
    vault_server.put_policy("provisioner", render_provisioner_policy(region="us-east-1"))
    return vault_server.create_token(["provisioner"], ttl=3600)


@pytest.fixture
def props(vault_server, provisioner, master_secret):
    def build(**changes):
        return {
            "address": vault_server.url,
            "ca_pem": "",
            "token": provisioner,
            "mount": "database",
            "connection": "candlefish-postgres",
            "host": HOST,
            "port": 5432,
            "database": "candlefish",
            "ssl_mode": "verify-full",
            "ssl_root_cert": "/etc/vault.d/tls/rds-global-bundle.pem",
            "management_user": "vault_admin",
            "master_secret_arn": master_secret,
            "region": "us-east-1",
            "bootstrap_statements": access.bootstrap_statements(),
            "roles": access.vault_roles(),
            "rebootstrap": "",
            **changes,
        }

    return build


def outs_of(result):
    assert result.outs is not None
    return result.outs


def database_requests(server):
    """The engine's writes and credential reads, in order (reads of config and roles left out)."""

    def counts(entry):
        if entry.path.startswith("database/creds/"):
            return True
        return entry.path.startswith(("database/", "sys/leases/revoke")) and entry.method != "GET"

    return [(entry.method, entry.path) for entry in server.request_log if counts(entry)]


def test_the_connection_url_is_templated_and_verifies_the_server_certificate(props):
    url = connection_url(props())
    assert url == (
        f"postgresql://{{{{username}}}}:{{{{password}}}}@{HOST}:5432/candlefish"
        "?sslmode=verify-full&sslrootcert=/etc/vault.d/tls/rds-global-bundle.pem"
    )


def test_first_run_makes_vault_admin_through_vault_and_keeps_no_master_credentials(vault_server, props):
    result = VaultDatabaseEngineProvider().create(props())
    outs = outs_of(result)
    assert result.id == "database/config/candlefish-postgres"
    assert outs["mounted"] is True and outs["drift"] == ""
    # The sequence: bootstrap connection and role, one credential, the real connection, rotate-root,
    # then the bootstrap lease revoked and the bootstrap role and connection removed; then the roles.
    assert database_requests(vault_server) == [
        ("POST", f"database/config/{BOOTSTRAP}"),
        ("POST", f"database/roles/{BOOTSTRAP}"),
        ("GET", f"database/creds/{BOOTSTRAP}"),
        ("POST", "database/config/candlefish-postgres"),
        ("POST", "database/rotate-root/candlefish-postgres"),
        ("PUT", "sys/leases/revoke"),
        ("DELETE", f"database/roles/{BOOTSTRAP}"),
        ("DELETE", f"database/config/{BOOTSTRAP}"),
        ("POST", "database/roles/app-readonly"),
        ("POST", "database/roles/app-readwrite"),
    ]
    connection = vault_server.database_connection("candlefish-postgres")
    assert connection is not None
    details = connection["connection_details"]
    assert details["username"] == "vault_admin"
    assert details["password"] != MASTER_PASSWORD  # rotated: only Vault knows it now
    assert details["password_authentication"] == "scram-sha-256"
    assert details["connection_url"] == connection_url(props())
    assert connection["allowed_roles"] == ["app-readonly", "app-readwrite"]
    assert vault_server.database_connection(BOOTSTRAP) is None
    (bootstrap,) = vault_server.database_credentials()
    assert bootstrap.role == BOOTSTRAP and bootstrap.revoked is True
    assert "CREATE ROLE vault_admin WITH LOGIN CREATEROLE" in bootstrap.creation_statements[0]
    assert MASTER_PASSWORD not in json.dumps(outs)


def test_roles_issue_hour_long_logins_that_join_their_group(vault_server, vault_client, props):
    VaultDatabaseEngineProvider().create(props())
    database = vault_client.secrets.database
    for role, group in access.APP_ROLES.items():
        definition = database.read_role(role)["data"]
        assert (definition["db_name"], definition["default_ttl"], definition["max_ttl"]) == (
            "candlefish-postgres",
            3600,
            86400,
        )
        creds = database.generate_credentials(role)
        assert creds["lease_duration"] == 3600
        issued = vault_server.database_credentials()[-1]
        username = creds["data"]["username"]
        assert issued.creation_statements[0].startswith(f'CREATE ROLE "{username}" WITH LOGIN PASSWORD')
        assert issued.creation_statements[0].endswith(f"IN ROLE {group};")
        vault_client.sys.revoke_lease(creds["lease_id"])
        assert vault_server.database_credentials()[-1].statements_run == [
            f'DROP ROLE IF EXISTS "{username}";'
        ]


def test_a_rerun_adopts_the_working_connection_without_a_new_bootstrap(vault_server, props):
    VaultDatabaseEngineProvider().create(props())
    stored = vault_server.database_connection("candlefish-postgres")
    vault_server.clear_request_log()
    again = outs_of(VaultDatabaseEngineProvider().create(props()))
    assert again["mounted"] is False  # the mount was already there
    assert vault_server.database_connection("candlefish-postgres") == stored
    assert len(vault_server.database_credentials()) == 1
    assert not [
        path for _, path in database_requests(vault_server) if "bootstrap" in path or "rotate" in path
    ]


def test_a_changed_role_is_reported_by_refresh_and_corrected_by_the_next_up(
    vault_server, vault_client, props
):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    vault_client.secrets.database.create_role(
        name="app-readonly",
        db_name="candlefish-postgres",
        creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN SUPERUSER PASSWORD '{{password}}';"],
        default_ttl="720h",
        max_ttl="720h",
    )
    refreshed = outs_of(provider.read("database/config/candlefish-postgres", outs))
    assert refreshed["drift"] == "role app-readonly differs from its declaration"
    assert refreshed["roles"]["app-readonly"]["default_ttl"] == 2592000
    assert provider.diff("id", refreshed, props()).changes is True
    provider.update("id", refreshed, props())
    corrected = vault_client.secrets.database.read_role("app-readonly")["data"]
    assert (corrected["default_ttl"], corrected["max_ttl"]) == (3600, 86400)
    assert "SUPERUSER" not in corrected["creation_statements"][0]
    assert len(vault_server.database_credentials()) == 1  # no re-bootstrap for a role change


def test_a_deleted_role_is_recreated_and_a_dropped_role_removed(vault_server, vault_client, props):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    vault_client.secrets.database.delete_role("app-readwrite")
    assert outs_of(provider.read("id", outs))["drift"] == "role app-readwrite is missing"
    only_readonly = props(roles={"app-readonly": access.vault_roles()["app-readonly"]})
    provider.update("id", outs, only_readonly)
    assert vault_client.secrets.database.list_roles()["data"]["keys"] == ["app-readonly"]
    assert vault_server.database_connection("candlefish-postgres")["allowed_roles"] == ["app-readonly"]


def test_the_rebootstrap_trigger_or_a_new_host_makes_vault_admin_again(vault_server, props):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    # A new provisioner token is a change (state must carry it), but only re-applies the roles.
    assert provider.diff("id", outs, props(token="another-provisioner-token")).changes is True
    assert provider.diff("id", outs, props()).changes is False
    provider.update("id", outs, props(rebootstrap="2026-11-28 restored from snapshot"))
    provider.update("id", outs, props(host="candlefish-test-postgres-2.cexample.us-east-1.rds.amazonaws.com"))
    assert len(vault_server.database_credentials()) == 3
    assert all(credential.revoked for credential in vault_server.database_credentials())
    assert vault_server.database_connection(BOOTSTRAP) is None


def test_a_failed_bootstrap_leaves_no_master_credentials_in_vault(vault_server, props, monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    vault_server.fail_next(1, status=500, path_prefix="database/rotate-root/")
    with pytest.raises(DatabaseEngineError, match="could not configure the database secrets engine"):
        VaultDatabaseEngineProvider().create(props())
    assert vault_server.database_connection(BOOTSTRAP) is None
    assert vault_server.database_credentials()[0].revoked is True
    # The next run starts over and finishes.
    VaultDatabaseEngineProvider().create(props())
    assert vault_server.database_connection("candlefish-postgres")["connection_details"]["username"] == (
        "vault_admin"
    )


def test_an_unreachable_database_is_explained(vault_server, props):
    vault_server.set_database_reachable(False)
    with pytest.raises(
        DatabaseEngineError, match=r"could not connect to PostgreSQL at .*:5432.*security group"
    ):
        VaultDatabaseEngineProvider().create(props())
    assert vault_server.database_connection(BOOTSTRAP) is None


def test_a_sealed_vault_is_a_clear_error(vault_server, props):
    vault_server.seal()
    with pytest.raises(DatabaseEngineError, match=r"sealed or unavailable \(503\).*unseal it"):
        VaultDatabaseEngineProvider().create(props())


def test_a_token_without_permission_names_the_refused_request(vault_server, props):
    vault_server.put_policy("kv-only", 'path "secret/*" { capabilities = ["read"] }')
    weak = vault_server.create_token(["kv-only"])
    with pytest.raises(
        DatabaseEngineError,
        match=r"may not configure .* \(403 permission denied\); Vault refused POST sys/mounts/database",
    ):
        VaultDatabaseEngineProvider().create(props(token=weak))


def test_a_timeout_is_a_clear_error(vault_server, props, monkeypatch):
    monkeypatch.setattr(engine_module, "TIMEOUT_S", 0.2)
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    vault_server.add_latency(1.0, path_prefix="sys/mounts")
    with pytest.raises(DatabaseEngineError, match=r"did not answer in 0.2s"):
        VaultDatabaseEngineProvider().create(props())


def test_unreachable_vault_is_a_clear_error(props, monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    with pytest.raises(DatabaseEngineError, match=r"could not reach Vault at http://127.0.0.1:9"):
        VaultDatabaseEngineProvider().create(props(address="http://127.0.0.1:9"))


def test_transient_503s_are_retried(vault_server, props):
    vault_server.fail_next(3, status=503, path_prefix="database/creds/")
    outs_of(VaultDatabaseEngineProvider().create(props()))
    assert vault_server.database_connection("candlefish-postgres")["connection_details"]["username"] == (
        "vault_admin"
    )


def test_a_missing_master_secret_is_explained(vault_server, props):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-missing-AbCdEf"
    with pytest.raises(DatabaseEngineError, match=r"master secret .* does not exist \(yet\)"):
        VaultDatabaseEngineProvider().create(props(master_secret_arn=missing))
    assert vault_server.database_connection(BOOTSTRAP) is None


def test_a_mount_of_another_type_is_refused(vault_client, props):
    vault_client.sys.enable_secrets_engine(backend_type="kv", path="database")
    with pytest.raises(DatabaseEngineError, match="already mounted as a kv engine"):
        VaultDatabaseEngineProvider().create(props())


def test_delete_stops_issuing_and_forgets_vault_admin_but_keeps_the_engine(vault_client, props):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    provider.delete("id", outs)  # with the state alone: the token is part of it
    assert "database/" in vault_client.sys.list_mounted_secrets_engines()["data"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_client.secrets.database.list_roles()
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_client.secrets.database.read_connection("candlefish-postgres")


def test_application_policies_grant_only_their_own_credentials(vault_server, vault_client, props):
    VaultDatabaseEngineProvider().create(props())
    for role, other in (("app-readonly", "app-readwrite"), ("app-readwrite", "app-readonly")):
        policy = access.APP_POLICIES[role]
        vault_server.put_policy(policy, access.policy_file(role).read_text())
        app = vault_server.client(token=vault_server.create_token([policy]))
        assert app.secrets.database.generate_credentials(role)["data"]["username"]
        with pytest.raises(hvac.exceptions.Forbidden):
            app.secrets.database.generate_credentials(other)
        with pytest.raises(hvac.exceptions.Forbidden):
            app.secrets.database.read_connection("candlefish-postgres")


def test_the_provider_survives_pulumis_serialisation_in_a_fresh_interpreter(vault_server, props):
    done = call_in_provider_host(VaultDatabaseEngineProvider(), "create", props())
    assert done["id"] == "database/config/candlefish-postgres" and done["outs"]["mounted"] is True
    assert vault_server.database_connection("candlefish-postgres")["connection_details"]["username"] == (
        "vault_admin"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ssl_mode": "verify_full"}, r"ssl_mode is 'verify_full'; allowed: disable, allow, prefer, require"),
        (
            {"ssl_root_cert": "tls/rds-global-bundle.pem"},
            r"ssl_root_cert \(the Database component's rds_ca_bundle_path\) is 'tls/rds-global-bundle.pem'; "
            r"it must be an absolute path",
        ),
    ],
)
def test_tls_inputs_vault_could_not_parse_are_refused_before_any_request(
    vault_server, props, changes, message
):
    with pytest.raises(DatabaseEngineError, match=message):
        VaultDatabaseEngineProvider().create(props(**changes))
    assert vault_server.request_log == []
