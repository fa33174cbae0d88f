"""The SQL Vault runs against PostgreSQL and the ACL policies for applications, checked as text and HCL."""

import re

import hcl2
import pytest

from components.database import access


def bootstrap_sql():
    (statement,) = access.bootstrap_statements()
    return statement


def test_roles_live_an_hour_and_renew_to_a_day():
    roles = access.vault_roles()
    assert sorted(roles) == ["app-readonly", "app-readwrite"]
    for role in roles.values():
        assert (role["default_ttl"], role["max_ttl"]) == (3600, 86400)


@pytest.mark.parametrize(("role", "group"), sorted(access.APP_ROLES.items()))
def test_each_login_expires_with_its_lease_and_joins_only_its_group(role, group):
    (creation,) = access.vault_roles()[role]["creation_statements"]
    assert creation == (
        f"CREATE ROLE \"{{{{name}}}}\" WITH LOGIN PASSWORD '{{{{password}}}}' "
        f"VALID UNTIL '{{{{expiration}}}}' IN ROLE {group};"
    )
    # Dropping the login removes its group membership; nothing else was granted to it directly.
    assert access.vault_roles()[role]["revocation_statements"] == ['DROP ROLE IF EXISTS "{{name}}";']


def test_bootstrap_is_one_block_vault_runs_whole():
    sql = bootstrap_sql()
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    assert body.startswith("DO $bootstrap$") and body.endswith("$bootstrap$;")
    # Vault's PostgreSQL plugin runs a statement containing END as-is instead of splitting it on ';'.
    assert re.search(r"\bEND\b", body)
    assert body.count("$bootstrap$") == 2


def test_bootstrap_creates_the_groups_and_a_management_user_that_is_not_a_superuser():
    sql = bootstrap_sql()
    for group in access.APP_ROLES.values():
        assert f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{group}') THEN" in sql
        assert f"CREATE ROLE {group} NOLOGIN;" in sql
    assert (
        f"CREATE ROLE {access.MANAGEMENT_USER} WITH LOGIN CREATEROLE NOSUPERUSER NOCREATEDB "
        "PASSWORD '{{password}}';"
    ) in sql
    # ALTER may not name SUPERUSER at all unless run by a superuser (RDS's master user is not one): a
    # re-bootstrap checks rolsuper instead (tests/test_postgres_sql.py runs both paths for real).
    assert (
        f"ALTER ROLE {access.MANAGEMENT_USER} WITH LOGIN CREATEROLE NOCREATEDB PASSWORD '{{{{password}}}}';"
    ) in sql
    assert "rolname = 'vault_admin' AND rolsuper" in sql
    assert f"GRANT app_readonly, app_readwrite TO {access.MANAGEMENT_USER} WITH ADMIN OPTION;" in sql
    assert "rds_superuser" not in sql


def test_bootstrap_grants_reading_to_readonly_and_row_changes_to_readwrite_now_and_later():
    sql = bootstrap_sql()
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_readonly;" in sql
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_readwrite;" in sql
    assert "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_readonly;" in sql
    # Neither group may create objects: a dynamic login that owned one could not be dropped.
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC;" in sql
    assert not re.search(r"GRANT (ALL|CREATE)", sql)


@pytest.mark.parametrize("role", sorted(access.APP_ROLES))
def test_application_policy_grants_reading_its_credentials_only(role):
    policy = hcl2.loads(access.policy_file(role).read_text())
    assert set(policy) - {"__comments__"} == {"path"}
    assert policy["path"] == [
        {f'"database/creds/{role}"': {"capabilities": ['"read"'], "__is_block__": True}}
    ]
    assert access.policy_file(role).name == f"{access.APP_POLICIES[role]}.hcl"
