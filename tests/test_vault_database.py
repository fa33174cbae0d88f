"""VaultDatabaseEngine's drift handling and failure modes, against real OpenBao and real PostgreSQL.

The happy path, root rotation, TLS and the credentials' rights are in tests/test_vault_database_real.py;
this file shares its fixtures. Faults (sealed, 5xx, latency) come from the proxy in front of the session's
dev server (`real_vault`); each test has its own mount and its own database.
"""

import hvac.exceptions
import psycopg
import pytest

from components.database import access
from providers import vault_database as engine_module
from providers.vault_database import DatabaseEngineError, VaultDatabaseEngineProvider, connection_url
from tests.support.provider_host import call_in_provider_host
from tests.test_vault_database_real import (  # noqa: F401  (fixtures)
    CONNECTION,
    bootstrap_passwords,
    connections,
    engine_props,
    fast_retries,
    master_secret,
    outs_of,
)

pytestmark = [pytest.mark.openbao, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def mount(real_vault):
    path = f"database-{real_vault.prefix}"
    yield path
    real_vault.root().sys.disable_secrets_engine(path)


@pytest.fixture
def props(real_vault, postgres_database, master_secret, mount):  # noqa: F811
    """Through the fault proxy (the provisioner policy's sufficiency is tested in the real-server file)."""

    def build(**changes):
        return engine_props(
            real_vault.url, real_vault.root_token, postgres_database, master_secret, mount, **changes
        )

    return build


def test_the_connection_url_is_templated_and_verifies_the_server_certificate():
    url = connection_url(
        {
            "host": "candlefish-test-postgres.cexample.us-east-1.rds.amazonaws.com",
            "port": 5432,
            "database": "candlefish",
            "ssl_mode": "verify-full",
            "ssl_root_cert": "/etc/vault.d/tls/rds-global-bundle.pem",
        }
    )
    assert url == (
        "postgresql://{{username}}:{{password}}@candlefish-test-postgres.cexample.us-east-1.rds.amazonaws.com"
        ":5432/candlefish?sslmode=verify-full&sslrootcert=/etc/vault.d/tls/rds-global-bundle.pem"
    )


def test_roles_issue_hour_long_logins_that_join_their_group(real_vault, postgres_database, props, mount):
    VaultDatabaseEngineProvider().create(props())
    database = real_vault.root().secrets.database
    for role, group in access.APP_ROLES.items():
        definition = database.read_role(role, mount_point=mount)["data"]
        assert (definition["db_name"], definition["default_ttl"], definition["max_ttl"]) == (
            CONNECTION,
            3600,
            86400,
        )
        creds = database.generate_credentials(role, mount_point=mount)
        assert creds["lease_duration"] == 3600
        with psycopg.connect(postgres_database.dsn()) as conn:
            member_of = conn.execute(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
                " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                (creds["data"]["username"],),
            ).fetchall()
        assert member_of == [(group,)]


def test_a_changed_role_is_reported_by_refresh_and_corrected_by_the_next_up(
    real_vault,
    props,
    mount,
    bootstrap_passwords,  # noqa: F811
):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    root = real_vault.root()
    root.secrets.database.create_role(
        name="app-readonly",
        db_name=CONNECTION,
        creation_statements=["CREATE ROLE \"{{name}}\" WITH LOGIN SUPERUSER PASSWORD '{{password}}';"],
        default_ttl="720h",
        max_ttl="720h",
        mount_point=mount,
    )
    refreshed = outs_of(provider.read(f"{mount}/config/{CONNECTION}", outs))
    assert refreshed["drift"] == "role app-readonly differs from its declaration"
    assert refreshed["roles"]["app-readonly"]["default_ttl"] == 2592000
    assert provider.diff("id", refreshed, props()).changes is True
    provider.update("id", refreshed, props())
    corrected = root.secrets.database.read_role("app-readonly", mount_point=mount)["data"]
    assert (corrected["default_ttl"], corrected["max_ttl"]) == (3600, 86400)
    assert "SUPERUSER" not in corrected["creation_statements"][0]
    assert len(bootstrap_passwords) == 1  # no re-bootstrap for a role change


def test_the_engine_is_mounted_saying_what_it_issues(real_vault, props, mount):
    VaultDatabaseEngineProvider().create(props())
    mounts = real_vault.root().sys.list_mounted_secrets_engines()["data"]
    assert (
        mounts[f"{mount}/"]["description"] == "Short-lived PostgreSQL credentials for platform applications"
    )


def test_a_deleted_role_is_recreated_and_a_dropped_role_removed(real_vault, props, mount):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    root = real_vault.root()
    root.secrets.database.delete_role("app-readwrite", mount_point=mount)
    assert outs_of(provider.read("id", outs))["drift"] == "role app-readwrite is missing"
    provider.update("id", outs, props())
    assert root.secrets.database.list_roles(mount_point=mount)["data"]["keys"] == [
        "app-readonly",
        "app-readwrite",
    ]
    only_readonly = props(roles={"app-readonly": access.vault_roles()["app-readonly"]})
    updated = outs_of(provider.update("id", outs, only_readonly))
    # The state keeps saying this resource mounted the engine: an update does not forget it.
    assert outs["mounted"] is True and updated["mounted"] is True
    assert root.secrets.database.list_roles(mount_point=mount)["data"]["keys"] == ["app-readonly"]
    connection = root.secrets.database.read_connection(CONNECTION, mount_point=mount)["data"]
    assert connection["allowed_roles"] == ["app-readonly"]


def test_a_new_token_is_a_change_but_the_same_inputs_are_not(props):
    provider = VaultDatabaseEngineProvider()
    outs = outs_of(provider.create(props()))
    # A new provisioner token is a change (state must carry it), but only re-applies the roles.
    assert provider.diff("id", outs, props(token="another-provisioner-token")).changes is True
    assert provider.diff("id", outs, props()).changes is False


def test_a_failed_bootstrap_leaves_no_master_credentials_in_vault(real_vault, props, mount, monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    real_vault.fail_next(1, status=500, path_prefix=f"{mount}/rotate-root/")
    with pytest.raises(DatabaseEngineError, match="could not configure the database secrets engine"):
        VaultDatabaseEngineProvider().create(props())
    root = real_vault.root()
    assert f"{CONNECTION}-bootstrap" not in connections(root, mount)  # it held the master password
    # The next run starts over and finishes.
    VaultDatabaseEngineProvider().create(props())
    details = root.secrets.database.read_connection(CONNECTION, mount_point=mount)["data"][
        "connection_details"
    ]
    assert details["username"] == access.MANAGEMENT_USER


def test_an_unreachable_database_is_explained(real_vault, props, mount):
    with pytest.raises(
        DatabaseEngineError, match=r"could not connect to PostgreSQL at 127\.0\.0\.1:9.*security group"
    ):
        VaultDatabaseEngineProvider().create(
            props(host="127.0.0.1", port=9, ssl_mode="disable", ssl_root_cert="")
        )
    assert connections(real_vault.root(), mount) == []


def test_a_sealed_vault_is_a_clear_error(real_vault, props):
    real_vault.seal()
    with pytest.raises(DatabaseEngineError, match=r"sealed or unavailable \(503\).*unseal it"):
        VaultDatabaseEngineProvider().create(props())


def test_a_token_without_permission_names_the_refused_request(real_vault, props, mount):
    real_vault.put_policy("kv-only", 'path "secret/*" { capabilities = ["read"] }')
    weak = real_vault.create_token(["kv-only"])
    with pytest.raises(
        DatabaseEngineError,
        match=rf"may not configure .* \(403 permission denied\); Vault refused POST sys/mounts/{mount}",
    ):
        VaultDatabaseEngineProvider().create(props(token=weak))


def test_a_timeout_is_a_clear_error(real_vault, props, monkeypatch):
    monkeypatch.setattr(engine_module, "TIMEOUT_S", 0.2)
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    real_vault.add_latency(1.0, path_prefix="sys/mounts")
    with pytest.raises(DatabaseEngineError, match=r"did not answer in 0.2s"):
        VaultDatabaseEngineProvider().create(props())


def test_unreachable_vault_is_a_clear_error(props, monkeypatch):
    monkeypatch.setattr(engine_module, "RETRY_TOTAL", 0)
    with pytest.raises(DatabaseEngineError, match=r"could not reach Vault at http://127.0.0.1:9"):
        VaultDatabaseEngineProvider().create(props(address="http://127.0.0.1:9"))


def test_transient_503s_are_retried(real_vault, props, mount):
    real_vault.fail_next(3, status=503, path_prefix=f"{mount}/creds/")
    outs_of(VaultDatabaseEngineProvider().create(props()))
    details = real_vault.root().secrets.database.read_connection(CONNECTION, mount_point=mount)["data"]
    assert details["connection_details"]["username"] == access.MANAGEMENT_USER
    assert sum(entry.path.startswith(f"{mount}/creds/") for entry in real_vault.request_log) == 4


def test_a_missing_master_secret_is_explained(real_vault, props, mount):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-missing-AbCdEf"
    with pytest.raises(DatabaseEngineError, match=r"master secret .* does not exist \(yet\)"):
        VaultDatabaseEngineProvider().create(props(master_secret_arn=missing))
    assert connections(real_vault.root(), mount) == []


def test_a_mount_of_another_type_is_refused(real_vault, props, mount):
    real_vault.root().sys.enable_secrets_engine(backend_type="kv", path=mount)
    with pytest.raises(DatabaseEngineError, match="already mounted as a kv engine"):
        VaultDatabaseEngineProvider().create(props())


def test_application_policies_grant_only_their_own_credentials(real_vault, props, mount):
    VaultDatabaseEngineProvider().create(props())
    for role, other in (("app-readonly", "app-readwrite"), ("app-readwrite", "app-readonly")):
        policy = f"{access.APP_POLICIES[role]}-{mount}"
        real_vault.put_policy(policy, access.policy_file(role).read_text().replace("database/", f"{mount}/"))
        app = real_vault.client(token=real_vault.create_token([policy]))
        assert app.secrets.database.generate_credentials(role, mount_point=mount)["data"]["username"]
        with pytest.raises(hvac.exceptions.Forbidden):
            app.secrets.database.generate_credentials(other, mount_point=mount)
        with pytest.raises(hvac.exceptions.Forbidden):
            app.secrets.database.read_connection(CONNECTION, mount_point=mount)


def test_the_provider_survives_pulumis_serialisation_in_a_fresh_interpreter(real_vault, props, mount):
    done = call_in_provider_host(VaultDatabaseEngineProvider(), "create", props())
    assert done["id"] == f"{mount}/config/{CONNECTION}" and done["outs"]["mounted"] is True
    details = real_vault.root().secrets.database.read_connection(CONNECTION, mount_point=mount)["data"]
    assert details["connection_details"]["username"] == access.MANAGEMENT_USER


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
def test_tls_inputs_vault_could_not_parse_are_refused_before_any_request(real_vault, props, changes, message):
    with pytest.raises(DatabaseEngineError, match=message):
        VaultDatabaseEngineProvider().create(props(**changes))
    assert real_vault.request_log == []
