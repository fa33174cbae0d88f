"""VaultDatabaseEngine against a real OpenBao (dev server) and a real PostgreSQL with RDS's limits.

OpenBao's built-in `postgresql-database-plugin` connects to the session's PostgreSQL through its TLS front
(`sslmode=verify-full`, the test CA as `sslrootcert`), as Vault connects to RDS with the RDS CA bundle.
The RDS master secret lives in moto. Each test uses its own mount and its own database, so the session's
servers are shared without one test seeing another's roles.
"""

import json

import hvac
import hvac.exceptions
import psycopg
import pytest

from components.database import access
from providers import vault_database as engine_module
from providers.vault_database import DatabaseEngineError, VaultDatabaseEngineProvider
from tests.support.postgres import sqlstate_of

pytestmark = [pytest.mark.openbao, pytest.mark.postgres, pytest.mark.slow]
CONNECTION = "candlefish-postgres"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_BACKOFF_S", 0.01)


@pytest.fixture
def master_secret(aws, postgres_rds):
    """The secret RDS manages for the master user, holding the real server's master credentials."""
    import boto3

    secret = {"username": postgres_rds.admin_user, "password": postgres_rds.admin_password}
    client = boto3.client("secretsmanager")
    return client.create_secret(Name=f"rds!db-{postgres_rds.port}", SecretString=json.dumps(secret))["ARN"]


@pytest.fixture
def mount(openbao_client, unique_path):
    """A database mount of this test's own; disabled afterwards (that also revokes its leases)."""
    path = f"database-{unique_path}"
    yield path
    openbao_client.sys.disable_secrets_engine(path)


def engine_props(address, token, postgres_database, master_secret, mount, /, **changes):
    """The engine's inputs for one test's mount and database, reached at `address` with `token`."""
    tls = postgres_database.server.tls
    return {
        "address": address,
        "ca_pem": "",
        "token": token,
        "mount": mount,
        "connection": CONNECTION,
        "host": tls.host,
        "port": tls.port,
        "database": postgres_database.name,
        "ssl_mode": "verify-full",
        "ssl_root_cert": str(tls.ca.ca_cert),
        "management_user": access.MANAGEMENT_USER,
        "master_secret_arn": master_secret,
        "region": "us-east-1",
        "bootstrap_statements": access.bootstrap_statements(),
        "roles": access.vault_roles(),
        "rebootstrap": "",
        **changes,
    }


@pytest.fixture
def props(openbao_dev, postgres_database, master_secret, mount):
    def build(**changes):
        return engine_props(
            openbao_dev.addr, openbao_dev.root_token, postgres_database, master_secret, mount, **changes
        )

    return build


@pytest.fixture
def bootstrap_passwords(monkeypatch):
    """The passwords the bootstrap role hands out: vault_admin's first ones, as the provider sees them."""
    seen = []
    original = hvac.api.secrets_engines.Database.generate_credentials

    def recording(self, name, *args, **kwargs):
        answer = original(self, name, *args, **kwargs)
        if name.endswith("-bootstrap"):
            seen.append(answer["data"]["password"])
        return answer

    monkeypatch.setattr(hvac.api.secrets_engines.Database, "generate_credentials", recording)
    return seen


def outs_of(result):
    assert result.outs is not None
    return result.outs


def connections(client, mount):
    """The connections configured on `mount` (Vault answers 404 for none)."""
    try:
        return client.secrets.database.list_connections(mount_point=mount)["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return []


def login_dsn(database, creds):
    """Through the TLS front with verify-full, as an application connects to RDS."""
    return database.tls_dsn(user=creds["data"]["username"], password=creds["data"]["password"])


def role_exists(database, name):
    with psycopg.connect(database.dsn()) as conn:
        return conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)).fetchone() == (1,)


@pytest.fixture
def orders(postgres_database):
    with psycopg.connect(postgres_database.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)")
        conn.execute("INSERT INTO orders (item) VALUES ('example-widget')")
    return postgres_database


# --- bootstrap and root rotation --------------------------------------------------------------------------


def test_first_run_makes_vault_admin_and_only_vault_knows_its_password(
    openbao_client, postgres_database, props, mount, bootstrap_passwords
):
    outs = VaultDatabaseEngineProvider().create(props()).outs
    assert outs is not None and outs["mounted"] is True
    with psycopg.connect(postgres_database.dsn()) as conn:
        attributes = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles "
            "WHERE rolname = 'vault_admin'"
        ).fetchone()
    assert attributes == (False, True, False, True)
    # The password the bootstrap set was rotated away by rotate-root: it no longer logs in.
    (first_password,) = bootstrap_passwords
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_database.tls_dsn(user="vault_admin", password=first_password))
    details = openbao_client.secrets.database.read_connection(CONNECTION, mount_point=mount)["data"]
    assert details["connection_details"]["username"] == "vault_admin"
    assert "password" not in details["connection_details"]  # Vault never reads it back
    # No master credentials stay in Vault: the bootstrap connection and role are gone.
    assert connections(openbao_client, mount) == [CONNECTION]
    assert sorted(openbao_client.secrets.database.list_roles(mount_point=mount)["data"]["keys"]) == sorted(
        access.APP_ROLES
    )
    assert postgres_database.server.admin_password not in json.dumps(outs)


def test_root_rotation_again_keeps_credentials_coming(openbao_client, postgres_database, props, mount):
    VaultDatabaseEngineProvider().create(props())
    openbao_client.secrets.database.rotate_root_credentials(CONNECTION, mount_point=mount)
    creds = openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)
    with psycopg.connect(login_dsn(postgres_database, creds)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (creds["data"]["username"],)


def test_a_rebootstrap_as_rds_master_user_resets_vault_admin(
    openbao_client, postgres_database, props, mount, bootstrap_passwords
):
    """The rebootstrap trigger runs the bootstrap SQL over an existing vault_admin (ALTER ROLE path)."""
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    provider.update("id", outs, props(rebootstrap="2026-12-03 restored from snapshot"))
    assert len(bootstrap_passwords) == 2
    creds = openbao_client.secrets.database.generate_credentials("app-readwrite", mount_point=mount)
    with psycopg.connect(login_dsn(postgres_database, creds)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (creds["data"]["username"],)


def test_a_new_database_host_triggers_a_rebootstrap(
    openbao_client, postgres_database, props, mount, bootstrap_passwords
):
    """A replaced database (a new host) needs vault_admin made again there: the same server is reached
    here under another name its certificate covers (`localhost` for 127.0.0.1), so verify-full still holds."""
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    assert props()["host"] != "localhost"
    assert provider.diff("id", outs, props(host="localhost")).changes is True
    provider.update("id", outs, props(host="localhost"))
    assert len(bootstrap_passwords) == 2
    assert connections(openbao_client, mount) == [CONNECTION]  # the bootstrap connection is gone again
    url = openbao_client.secrets.database.read_connection(CONNECTION, mount_point=mount)["data"]
    assert "@localhost:" in url["connection_details"]["connection_url"]
    creds = openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)
    with psycopg.connect(login_dsn(postgres_database, creds)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (creds["data"]["username"],)


def test_a_rerun_adopts_the_working_connection(openbao_client, props, mount, bootstrap_passwords):
    VaultDatabaseEngineProvider().create(props())
    again = VaultDatabaseEngineProvider().create(props()).outs
    assert again is not None and again["mounted"] is False
    assert len(bootstrap_passwords) == 1  # no second bootstrap
    assert openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)


# --- dynamic credentials ----------------------------------------------------------------------------------


def test_readonly_credentials_log_in_over_tls_and_only_read(openbao_client, orders, props, mount):
    VaultDatabaseEngineProvider().create(props())
    creds = openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)
    assert creds["lease_duration"] == access.DEFAULT_TTL_S
    dsn = login_dsn(orders, creds)
    with psycopg.connect(dsn) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT item FROM orders").fetchall() == [("example-widget",)]
        assert conn.execute(
            "SELECT pg_has_role(current_user, 'app_readonly', 'MEMBER'), "
            "pg_has_role(current_user, 'app_readwrite', 'MEMBER')"
        ).fetchone() == (True, False)
    assert sqlstate_of(dsn, "INSERT INTO orders (item) VALUES ('x')") == "42501"
    assert sqlstate_of(dsn, "CREATE TABLE mine (id int)") == "42501"


def test_readwrite_credentials_change_rows_but_not_the_schema(openbao_client, orders, props, mount):
    VaultDatabaseEngineProvider().create(props())
    creds = openbao_client.secrets.database.generate_credentials("app-readwrite", mount_point=mount)
    dsn = login_dsn(orders, creds)
    assert sqlstate_of(dsn, "INSERT INTO orders (item) VALUES ('example-gadget')") is None
    assert sqlstate_of(dsn, "UPDATE orders SET item = 'example-gizmo' WHERE id = 1") is None
    assert sqlstate_of(dsn, "DELETE FROM orders WHERE item = 'example-gadget'") is None
    assert sqlstate_of(dsn, "DROP TABLE orders") == "42501"
    assert sqlstate_of(dsn, "CREATE TABLE mine (id int)") == "42501"


def test_revoking_the_lease_drops_the_login(openbao_client, postgres_database, props, mount):
    VaultDatabaseEngineProvider().create(props())
    creds = openbao_client.secrets.database.generate_credentials("app-readwrite", mount_point=mount)
    username = creds["data"]["username"]
    assert role_exists(postgres_database, username)
    openbao_client.sys.revoke_lease(creds["lease_id"])
    assert not role_exists(postgres_database, username)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(login_dsn(postgres_database, creds))


def test_delete_stops_issuing_and_leases_issued_before_can_then_only_be_forced(
    openbao_client, postgres_database, props, mount
):
    """What the delete docstring warns about, as a real server behaves: revoke the leases first."""
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    creds = openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)
    provider.delete("id", outs)
    with pytest.raises(hvac.exceptions.InvalidPath):
        openbao_client.secrets.database.read_connection(CONNECTION, mount_point=mount)
    for role in access.APP_ROLES:  # the roles go first, each of them
        with pytest.raises(hvac.exceptions.InvalidPath):
            openbao_client.secrets.database.read_role(role, mount_point=mount)
    with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.InvalidPath)):
        openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="failed to find entry for connection"):
        openbao_client.sys.revoke_lease(creds["lease_id"])
    assert role_exists(postgres_database, creds["data"]["username"])  # left to its VALID UNTIL
    openbao_client.sys.revoke_force(f"{mount}/creds/")  # so the mount fixture can disable the engine


def test_postgresql_sees_only_scram_verifiers_never_a_plaintext_password(
    openbao_client, postgres_rds, postgres_database, props, mount
):
    """password_authentication = scram-sha-256: Vault hashes first; statement logs hold no password."""
    with psycopg.connect(postgres_rds.superuser_dsn(), autocommit=True) as conn:  # observing only
        conn.execute(f"ALTER DATABASE \"{postgres_database.name}\" SET log_statement = 'all'")
    VaultDatabaseEngineProvider().create(props())
    logged_before = postgres_rds.log_path.read_text(errors="replace")
    creds = openbao_client.secrets.database.generate_credentials("app-readwrite", mount_point=mount)
    logged = postgres_rds.log_path.read_text(errors="replace")[len(logged_before) :]
    assert f'CREATE ROLE "{creds["data"]["username"]}" WITH LOGIN PASSWORD \'SCRAM-SHA-256$' in logged
    assert creds["data"]["password"] not in logged
    with psycopg.connect(login_dsn(postgres_database, creds)) as conn:  # and the password still works
        assert conn.execute("SELECT current_user").fetchone() == (creds["data"]["username"],)


def test_verify_full_without_a_ca_bundle_names_the_setting(props):
    with pytest.raises(DatabaseEngineError, match=r"does not sign \(ssl_root_cert .* = \(empty: the Vault"):
        VaultDatabaseEngineProvider().create(props(ssl_root_cert=""))


# --- TLS settings and the CA bundle -------------------------------------------------------------------------


def test_a_missing_ca_bundle_names_the_setting(openbao_client, props, mount, tmp_path):
    missing = tmp_path / "rds-global-bundle.pem"
    with pytest.raises(DatabaseEngineError) as failure:
        VaultDatabaseEngineProvider().create(props(ssl_root_cert=str(missing)))
    message = str(failure.value)
    assert "ssl_root_cert" in message and str(missing) in message
    assert "cannot be read" in message
    assert connections(openbao_client, mount) == []


def test_a_ca_bundle_that_is_not_pem_names_the_setting(openbao_client, props, mount, tmp_path):
    garbage = tmp_path / "rds-global-bundle.pem"
    garbage.write_text("example-not-a-certificate\n")
    with pytest.raises(DatabaseEngineError) as failure:
        VaultDatabaseEngineProvider().create(props(ssl_root_cert=str(garbage)))
    message = str(failure.value)
    assert "ssl_root_cert" in message and str(garbage) in message
    assert "no PEM certificate" in message


def test_a_ca_bundle_that_did_not_sign_the_server_names_the_setting(openbao_client, props, mount, tmp_path):
    from tests.support import loopback_ca

    other = loopback_ca.issue(tmp_path)
    with pytest.raises(DatabaseEngineError) as failure:
        VaultDatabaseEngineProvider().create(props(ssl_root_cert=str(other.ca_cert)))
    message = str(failure.value)
    assert "ssl_root_cert" in message and str(other.ca_cert) in message
    assert "does not sign" in message
    assert connections(openbao_client, mount) == []


def test_plaintext_to_a_server_that_requires_tls_is_explained(props):
    with pytest.raises(
        DatabaseEngineError, match=r"accepts only TLS connections but ssl_mode is disable; use verify-full"
    ):
        VaultDatabaseEngineProvider().create(props(ssl_mode="disable", ssl_root_cert=""))


def test_a_refused_master_password_is_explained(aws, props, master_secret):
    import boto3

    boto3.client("secretsmanager").put_secret_value(
        SecretId=master_secret,
        SecretString=json.dumps({"username": "candlefish_admin", "password": "example-not-a-secret"}),
    )
    with pytest.raises(DatabaseEngineError, match=r"refused the RDS master credentials"):
        VaultDatabaseEngineProvider().create(props())


def test_sql_postgres_refuses_is_explained_and_leaves_no_master_credentials(openbao_client, props, mount):
    broken = ["DO $x$ BEGIN ALTER ROLE candlefish_admin SUPERUSER; END $x$;"]
    # PostgreSQL's own reason, without Vault's "1 error occurred: failed to execute query: ERROR:" wrapping.
    with pytest.raises(
        DatabaseEngineError,
        match=r"refused a statement Vault ran for the database engine \(permission denied to alter role "
        r"\(SQLSTATE 42501\)\s*\); check the bootstrap",
    ):
        VaultDatabaseEngineProvider().create(props(bootstrap_statements=broken))
    assert connections(openbao_client, mount) == []


# --- with the provisioner's own policy ----------------------------------------------------------------------


def test_the_provisioner_policy_is_enough_for_the_whole_sequence(
    openbao_dev, openbao_client, postgres_database, props
):
    from components.vault.policies import render_provisioner_policy

    openbao_client.sys.create_or_update_policy("provisioner", render_provisioner_policy(region="us-east-1"))
    token = openbao_client.auth.token.create(policies=["provisioner"], ttl="1h")["auth"]["client_token"]
    try:
        VaultDatabaseEngineProvider().create(props(mount=access.MOUNT, token=token))
        creds = openbao_client.secrets.database.generate_credentials("app-readonly", mount_point=access.MOUNT)
        with psycopg.connect(login_dsn(postgres_database, creds)) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        openbao_client.sys.disable_secrets_engine(access.MOUNT)
