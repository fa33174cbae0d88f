"""The dynamic providers' diffs, without servers: which input changes replace the resource."""

import pytest

from providers.vault_database import VaultDatabaseEngineProvider

ENGINE = {
    "address": "https://vault.candlefish.example:8200",
    "mount": "database",
    "connection": "candlefish",
    "host": "candlefish.cexample.us-east-1.rds.amazonaws.com",
    "port": 5432,
}


@pytest.mark.parametrize("key", ["mount", "connection"])
def test_a_database_engine_on_another_mount_or_connection_is_replaced_old_one_first(key):
    # Vault keys a connection by its mount and name: a new one is a new object, and the old one (holding the
    # management credentials) is removed first so no orphan keeps them.
    result = VaultDatabaseEngineProvider().diff("id", ENGINE, {**ENGINE, key: "other"})
    assert (result.changes, result.replaces, result.delete_before_replace) == (True, [key], True)


def test_a_database_engine_with_the_same_inputs_is_neither_changed_nor_replaced():
    result = VaultDatabaseEngineProvider().diff("id", ENGINE, dict(ENGINE))
    assert (result.changes, result.replaces) == (False, [])
