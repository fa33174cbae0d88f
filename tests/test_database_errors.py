"""How a database error Vault reports becomes an instruction (providers/database_errors.py).

The texts are Vault's own: the first as real OpenBao reported a statement real PostgreSQL refused
(tests/test_vault_database_real.py runs that end to end); the second is a password failure worded without
pgx's "failed to connect to `user=...`" prefix, which a real server cannot be made to send.
"""

from providers.database_errors import explain

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-master-example"
PROPS = {"host": "db.example.internal", "port": 5432, "master_secret_arn": ARN, "management_user": "vault"}


def test_a_refused_statement_names_postgresqls_own_reason_without_vaults_wrapping():
    text = (
        "1 error occurred:\n\t* failed to execute query: ERROR: permission denied to alter role "
        "(SQLSTATE 42501)\n\n"
    )
    assert explain(text, "configure the engine", PROPS) == (
        "PostgreSQL at db.example.internal:5432 refused a statement Vault ran for the database engine "
        "(permission denied to alter role (SQLSTATE 42501)\n\n); check the bootstrap and role SQL "
        "(components/database/templates/postgres) against the master user's privileges (RDS's master "
        "user is not a superuser)"
    )


def test_a_refused_password_without_a_named_user_says_the_user_is_unknown():
    text = 'pq: password authentication failed for user "candlefish_admin" (SQLSTATE 28P01)'
    assert explain(text, "configure the engine", PROPS) == (
        f"PostgreSQL at db.example.internal:5432 refused the RDS master credentials from {ARN} (user ?); "
        "if RDS is rotating the master password right now, re-run `pulumi up`"
    )


def test_a_certificate_from_an_unknown_authority_names_the_bundle_and_the_ssl_mode():
    text = (
        "failed to connect: tls: failed to verify certificate: x509: certificate signed by unknown authority"
    )
    given = {**PROPS, "ssl_mode": "verify-full", "ssl_root_cert": "/etc/vault.d/rds-ca.pem"}
    assert explain(text, "configure the engine", given) == (
        "PostgreSQL at db.example.internal:5432 presented a certificate that the CA bundle does not sign "
        "(ssl_root_cert (the Database component's rds_ca_bundle_path) = /etc/vault.d/rds-ca.pem); with "
        "ssl_mode verify-full it must be the CA bundle of the database's region"
    )


def test_vault_refused_its_own_password_points_at_the_rebootstrap_trigger():
    # pgx names the user it logged in as; this one is the management user Vault rotated.
    text = (
        "failed to connect to `user=vault database=app`: 10.0.1.5:5432 (db.example.internal): server error: "
        'FATAL: password authentication failed for user "vault" (SQLSTATE 28P01)'
    )
    assert explain(text, "configure the engine", PROPS) == (
        "PostgreSQL at db.example.internal:5432 refused the password Vault holds for vault (was the database "
        "restored or replaced?); change the `rebootstrap` text to make it again"
    )
