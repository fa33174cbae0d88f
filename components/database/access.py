"""Who gets into PostgreSQL and how: Vault's database roles, the SQL they run, and the management user.

Applications never hold a standing database password. They read `database/creds/app-readonly` or
`database/creds/app-readwrite` (Vault ACL policies in vault/templates/vault-policies) and get a login that
lives an hour, renewable to a day, as a member of the `app_readonly` or `app_readwrite` group. Vault
makes those logins as `vault_admin`, which the bootstrap SQL creates (providers/vault_database.py has
the sequence). The SQL is kept as files in templates/postgres; this module only reads and names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.vault.policies import POLICY_DIR

TEMPLATES = Path(__file__).resolve().parent / "templates"
MOUNT = "database"
CONNECTION = "candlefish-postgres"
DATABASE_NAME = "candlefish"
MANAGEMENT_USER = "vault_admin"
DEFAULT_TTL_S = 60 * 60
MAX_TTL_S = 24 * 60 * 60
# Vault role → the PostgreSQL group its logins join (created by the bootstrap SQL).
APP_ROLES = {"app-readonly": "app_readonly", "app-readwrite": "app_readwrite"}
# Vault role → the ACL policy file that lets applications read its credentials.
APP_POLICIES = {"app-readonly": "app-db-readonly", "app-readwrite": "app-db-readwrite"}


def sql(name: str) -> str:
    """One SQL template from templates/postgres, as Vault receives it (one statement list entry)."""
    return (TEMPLATES / "postgres" / name).read_text().strip()


def bootstrap_statements() -> list[str]:
    """What the RDS master user runs, once, to create the groups and `vault_admin`."""
    return [sql("bootstrap-vault-admin.sql")]


def vault_roles() -> dict[str, dict[str, Any]]:
    """The application roles as the database engine's `roles/:name` takes them (TTLs in seconds)."""
    return {
        role: {
            "creation_statements": [sql(f"{role}-create.sql")],
            "revocation_statements": [sql("app-revoke.sql")],
            "default_ttl": DEFAULT_TTL_S,
            "max_ttl": MAX_TTL_S,
        }
        for role in APP_ROLES
    }


def policy_file(role: str) -> Path:
    """The Vault ACL policy (HCL) that grants reading the role's credentials."""
    return POLICY_DIR / f"{APP_POLICIES[role]}.hcl"
