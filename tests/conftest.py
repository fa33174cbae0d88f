pytest_plugins = ["tests.support.vault_fixtures"]
