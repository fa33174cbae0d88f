"""The SQL templates in components/database/templates/postgres, run for real by an RDS-like master user.

The server (tests/support/postgres.py) has RDS's limits: the master user is not a superuser. Statements
are rendered as Vault renders them (`{{name}}`, `{{password}}`, `{{expiration}}`); the logins they make
then connect and try what their grants allow and what they must not.
"""

import datetime
import os
import secrets
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from components.database import access
from tests.support import loopback_ca
from tests.support.postgres import PostgresServer, sqlstate_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def render(statement, **values):
    for key, value in values.items():
        statement = statement.replace("{{" + key + "}}", value)
    assert "{{" not in statement, f"unrendered placeholder in {statement!r}"
    return statement


def run_as(dsn, statement):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


def bootstrap(database, password=None):
    """What Vault's bootstrap role does: run the bootstrap SQL as the master user."""
    password = password or secrets.token_urlsafe(18)
    (statement,) = access.bootstrap_statements()
    run_as(database.dsn(), render(statement, password=password))
    return password


def issue_login(database, vault_admin_password, role, *, expires_in=datetime.timedelta(hours=1)):
    """What Vault does for `database/creds/<role>`: the role's creation SQL, run as vault_admin."""
    name = f"v-test-{role}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    expiration = (datetime.datetime.now(datetime.UTC) + expires_in).strftime("%Y-%m-%d %H:%M:%S+00")
    (creation,) = access.vault_roles()[role]["creation_statements"]
    admin_dsn = database.dsn(user=access.MANAGEMENT_USER, password=vault_admin_password)
    run_as(admin_dsn, render(creation, name=name, password=password, expiration=expiration))
    return name, password


def revoke_login(database, vault_admin_password, name):
    (revocation,) = access.vault_roles()["app-readonly"]["revocation_statements"]
    admin_dsn = database.dsn(user=access.MANAGEMENT_USER, password=vault_admin_password)
    run_as(admin_dsn, render(revocation, name=name))


def role_attributes(database, name):
    with psycopg.connect(database.dsn()) as conn:
        return conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = %s",
            (name,),
        ).fetchone()


@pytest.fixture
def orders(postgres_database):
    """A table and sequence the master user owns (schema migrations run as the master user)."""
    run_as(
        postgres_database.dsn(),
        "CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL); "
        "INSERT INTO orders (item) VALUES ('example-widget')",
    )
    return postgres_database


# --- the server itself ---------------------------------------------------------------------------------


def test_the_master_user_has_rds_limits_not_superuser(postgres_rds, postgres_database):
    assert role_attributes(postgres_database, postgres_rds.admin_user) == (False, True, True, True)
    with psycopg.connect(postgres_database.dsn()) as conn:
        assert conn.execute("SELECT pg_has_role(current_user, 'rds_superuser', 'MEMBER')").fetchone() == (
            True,
        )
        assert conn.execute("SELECT pg_has_role(current_user, 'pg_monitor', 'USAGE')").fetchone() == (True,)
    assert sqlstate_of(postgres_database.dsn(), "CREATE ROLE would_be_root SUPERUSER") == "42501"
    assert sqlstate_of(postgres_database.dsn(), "ALTER SYSTEM SET work_mem = '8MB'") == "42501"


def test_logins_need_the_right_password(postgres_rds, postgres_database):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_database.dsn(password="example-not-a-secret"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_database.dsn(user="rdsadmin", password="example-not-a-secret"))


def test_the_server_runs_as_an_unprivileged_account(postgres_rds):
    status = Path(f"/proc/{postgres_rds.pid}/status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0
    assert real_uid == (postgres_rds.run_as.uid if os.geteuid() == 0 else os.geteuid())


def test_a_private_copy_of_the_server_runs_where_the_venv_is_out_of_reach():
    """A clone under a 0700 home is unreadable for `nobody`: the fixture then copies the server it runs."""
    server = PostgresServer().start(private_binaries=True)
    root = server.log_path.parent
    try:
        assert Path(f"/proc/{server.pid}/exe").resolve().is_relative_to(root)
        with psycopg.connect(server.dsn()) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (
                False,
            )
    finally:
        server.stop()
    assert not root.exists()


# --- the bootstrap SQL ---------------------------------------------------------------------------------


def test_bootstrap_makes_the_groups_and_a_management_user_with_admin_only_on_them(postgres_database):
    password = bootstrap(postgres_database)
    assert role_attributes(postgres_database, "vault_admin") == (False, True, False, True)
    for group in access.APP_ROLES.values():
        assert role_attributes(postgres_database, group) == (False, False, False, False)
    with psycopg.connect(postgres_database.dsn()) as conn:
        memberships = conn.execute(
            "SELECT g.rolname, m.admin_option FROM pg_auth_members m "
            "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
            "WHERE u.rolname = 'vault_admin' ORDER BY 1"
        ).fetchall()
    assert memberships == [("app_readonly", True), ("app_readwrite", True)]
    # The password Vault chose works (Vault then rotates it away).
    with psycopg.connect(postgres_database.dsn(user="vault_admin", password=password)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("vault_admin",)


def test_bootstrap_runs_again_over_an_existing_management_user(postgres_database):
    """A re-bootstrap (rebootstrap trigger, new host) as a master user that is not a superuser (RDS)."""
    bootstrap(postgres_database)
    again = bootstrap(postgres_database)
    with psycopg.connect(postgres_database.dsn(user="vault_admin", password=again)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("vault_admin",)
    assert role_attributes(postgres_database, "vault_admin") == (False, True, False, True)


def test_bootstrap_runs_on_a_replaced_database_whose_roles_survived(postgres_rds, postgres_database):
    """Roles are cluster-wide: a database made anew (or restored) meets the roles of the first bootstrap."""
    bootstrap(postgres_database)
    replacement = f"{postgres_database.name}_new"
    run_as(postgres_rds.dsn("postgres"), f'CREATE DATABASE "{replacement}"')
    try:
        replaced = type(postgres_database)(postgres_rds, replacement)
        password = bootstrap(replaced)
        name, login_password = issue_login(replaced, password, "app-readonly")
        with psycopg.connect(replaced.dsn(user=name, password=login_password)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (name,)
    finally:
        postgres_rds.reset(drop_databases=[replacement])


def test_bootstrap_refuses_to_reset_a_management_user_someone_made_superuser(postgres_rds, postgres_database):
    bootstrap(postgres_database)
    run_as(postgres_rds.superuser_dsn(), "ALTER ROLE vault_admin SUPERUSER")  # what only a superuser can do
    with pytest.raises(errors.InsufficientPrivilege, match="vault_admin is a superuser") as refusal:
        bootstrap(postgres_database)
    assert "ALTER ROLE vault_admin NOSUPERUSER" in (refusal.value.diag.message_hint or "")


# --- the logins Vault issues -----------------------------------------------------------------------------


def test_a_readonly_login_reads_and_may_change_nothing(orders):
    name, password = issue_login(orders, bootstrap(orders), "app-readonly")
    login = orders.dsn(user=name, password=password)
    with psycopg.connect(login) as conn:
        assert conn.execute("SELECT item FROM orders").fetchall() == [("example-widget",)]
    assert sqlstate_of(login, "INSERT INTO orders (item) VALUES ('x')") == "42501"
    assert sqlstate_of(login, "UPDATE orders SET item = 'x'") == "42501"
    assert sqlstate_of(login, "DELETE FROM orders") == "42501"
    assert sqlstate_of(login, "CREATE TABLE mine (id int)") == "42501"


def test_a_readwrite_login_changes_rows_but_not_the_schema(orders):
    name, password = issue_login(orders, bootstrap(orders), "app-readwrite")
    login = orders.dsn(user=name, password=password)
    with psycopg.connect(login, autocommit=True) as conn:
        conn.execute("INSERT INTO orders (item) VALUES ('example-gadget')")  # uses the serial's sequence
        conn.execute("UPDATE orders SET item = 'example-gizmo' WHERE item = 'example-widget'")
        conn.execute("DELETE FROM orders WHERE item = 'example-gadget'")
        assert conn.execute("SELECT item FROM orders").fetchall() == [("example-gizmo",)]
    assert sqlstate_of(login, "CREATE TABLE mine (id int)") == "42501"
    assert sqlstate_of(login, "DROP TABLE orders") == "42501"
    assert sqlstate_of(login, "TRUNCATE orders") == "42501"
    assert sqlstate_of(login, "ALTER TABLE orders ADD COLUMN note text") == "42501"


def test_tables_the_master_user_creates_later_are_granted_too(postgres_database):
    password = bootstrap(postgres_database)
    run_as(postgres_database.dsn(), "CREATE TABLE later (id int); INSERT INTO later VALUES (1)")
    reader, reader_password = issue_login(postgres_database, password, "app-readonly")
    writer, writer_password = issue_login(postgres_database, password, "app-readwrite")
    with psycopg.connect(postgres_database.dsn(user=reader, password=reader_password)) as conn:
        assert conn.execute("SELECT id FROM later").fetchall() == [(1,)]
    assert (
        sqlstate_of(postgres_database.dsn(user=writer, password=writer_password), "DELETE FROM later") is None
    )


def test_revocation_drops_the_login(postgres_database):
    password = bootstrap(postgres_database)
    name, login_password = issue_login(postgres_database, password, "app-readwrite")
    revoke_login(postgres_database, password, name)
    assert role_attributes(postgres_database, name) is None
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_database.dsn(user=name, password=login_password))
    revoke_login(postgres_database, password, name)  # IF EXISTS: a repeated revocation succeeds


def test_a_login_past_its_expiration_cannot_connect(postgres_database):
    password = bootstrap(postgres_database)
    name, login_password = issue_login(
        postgres_database, password, "app-readonly", expires_in=-datetime.timedelta(minutes=1)
    )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_database.dsn(user=name, password=login_password))


def test_the_management_user_cannot_escalate(postgres_database):
    admin = postgres_database.dsn(user="vault_admin", password=bootstrap(postgres_database))
    assert sqlstate_of(admin, 'CREATE ROLE "v-root" SUPERUSER LOGIN') == "42501"
    assert sqlstate_of(admin, 'CREATE ROLE "v-dba" CREATEDB LOGIN') == "42501"
    assert sqlstate_of(admin, 'CREATE ROLE "v-dba" LOGIN IN ROLE rds_superuser') == "42501"
    assert sqlstate_of(admin, "CREATE DATABASE vault_admins_own") == "42501"
    assert sqlstate_of(admin, "GRANT rds_superuser TO vault_admin") == "42501"
    assert sqlstate_of(admin, "SELECT item FROM orders") in {"42501", "42P01"}  # no data access of its own


# --- TLS (through the TLS front: the wheel's server has no TLS of its own) -------------------------------


def test_verify_full_connects_with_the_ca_and_uses_tls(postgres_database):
    with psycopg.connect(postgres_database.tls_dsn()) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT current_user").fetchone() == (postgres_database.server.admin_user,)


def test_verify_full_refuses_a_server_the_ca_did_not_sign(postgres_database, tmp_path):
    # Another CA of the same name: OpenSSL picks it as the issuer by name, then the signature fails.
    other = loopback_ca.issue(tmp_path)
    with pytest.raises(psycopg.OperationalError, match=r"certificate verify failed|signature failure"):
        psycopg.connect(postgres_database.tls_dsn(sslrootcert=str(other.ca_cert)))


def test_verify_full_refuses_a_name_the_certificate_does_not_carry(postgres_database):
    dsn = postgres_database.tls_dsn(host="candlefish-postgres.example.invalid", hostaddr="127.0.0.1")
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(dsn)


def test_a_client_that_does_not_ask_for_tls_is_sqlstate_of(postgres_database):
    with pytest.raises(psycopg.OperationalError, match="accepts only TLS"):
        psycopg.connect(postgres_database.tls_dsn(sslmode="disable"))


def test_sql_identifiers_from_vault_are_quoted(postgres_database):
    """Vault's generated names contain '-' and capitals; the templates quote them."""
    name, password = issue_login(postgres_database, bootstrap(postgres_database), "app-readonly")
    assert "-" in name
    with psycopg.connect(postgres_database.dsn(user=name, password=password)) as conn:
        assert conn.execute(sql.SQL("SELECT current_user")).fetchone() == (name,)
    with pytest.raises(errors.InsufficientPrivilege):
        run_as(postgres_database.dsn(user=name, password=password), "CREATE SCHEMA mine")
