-- Run once by Vault as the RDS master user (the bootstrap role's creation statement), never by a person.
-- One DO block, so Vault's PostgreSQL plugin executes it whole instead of splitting it on semicolons, and
-- idempotent, so a re-bootstrap only resets vault_admin's password (Vault rotates it right after).
DO $bootstrap$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_readonly') THEN
    CREATE ROLE app_readonly NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_readwrite') THEN
    CREATE ROLE app_readwrite NOLOGIN;
  END IF;
  -- Vault's management user: may create and drop login roles, and grant only the two application groups.
  -- Only a superuser may name the SUPERUSER attribute in ALTER ROLE, even to say NOSUPERUSER, and the RDS
  -- master user is not one (SQLSTATE 42501). A role it created can never have become a superuser unless a
  -- superuser did it, so a re-bootstrap checks instead of altering, and stops with a clear message.
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'vault_admin' AND rolsuper) THEN
    RAISE EXCEPTION 'vault_admin is a superuser; the bootstrap will not reset it'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'have a superuser run ALTER ROLE vault_admin NOSUPERUSER (or drop it), then re-run';
  ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = 'vault_admin') THEN
    ALTER ROLE vault_admin WITH LOGIN CREATEROLE NOCREATEDB PASSWORD '{{password}}';
  ELSE
    CREATE ROLE vault_admin WITH LOGIN CREATEROLE NOSUPERUSER NOCREATEDB PASSWORD '{{password}}';
  END IF;
  GRANT app_readonly, app_readwrite TO vault_admin WITH ADMIN OPTION;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO app_readonly, app_readwrite', current_database());
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  GRANT USAGE ON SCHEMA public TO app_readonly, app_readwrite;
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_readonly;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_readwrite;
  GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app_readwrite;
  -- Tables the master user (schema migrations) creates later are granted the same way.
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_readonly;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_readwrite;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO app_readwrite;
END
$bootstrap$;
