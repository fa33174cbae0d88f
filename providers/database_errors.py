"""Why Vault's PostgreSQL plugin could not use the database connection, as an instruction naming the setting.

Vault answers a failed `database/config/<name>` write with the plugin's (pgx's) own text. The phrases matched
here are the ones a real OpenBao/Vault sends (tests/test_vault_database_real.py provokes each against a real
PostgreSQL): the CA bundle file missing or not PEM (found while parsing the connection URL, before any
connection), a server certificate the bundle does not sign, a plaintext client refused by a server that
requires TLS, and refused passwords. None of these texts carries a password: Vault keeps the URL templated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Where ssl_root_cert comes from in the stack: a path on the Vault nodes, fetched by their install script.
CA_SETTING = "ssl_root_cert (the Database component's rds_ca_bundle_path)"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_LOGIN_USER = re.compile(r"failed to connect to `user=(?P<user>[^\s`]+)")


def input_problems(props: Mapping[str, Any]) -> list[str]:
    """Mistakes in the TLS inputs that Vault would only report as a parse error."""
    problems = []
    mode = props.get("ssl_mode")
    if mode not in SSL_MODES:
        problems.append(f"ssl_mode is {mode!r}; allowed: {', '.join(SSL_MODES)}")
    root_cert = str(props.get("ssl_root_cert") or "")
    if root_cert and not root_cert.startswith("/"):
        problems.append(
            f"{CA_SETTING} is {root_cert!r}; it must be an absolute path to the CA bundle on the Vault nodes"
        )
    return problems


def explain(text: str, doing: str, props: Mapping[str, Any]) -> str | None:
    """An instruction for a database error Vault reported (None when `text` is not one of these)."""
    where = f"{props['host']}:{int(props['port'])}"
    root_cert = str(props.get("ssl_root_cert") or "")
    bundle = f"{CA_SETTING} = {root_cert or '(empty: the Vault nodes system roots)'}"
    if "unable to read CA file" in text:
        reason = text.rpartition(": ")[2] if ": " in text else text
        return (
            f"the CA bundle for the database connection cannot be read on the Vault server ({bundle}: "
            f"{reason}); put the RDS CA bundle there (the Vault nodes' install script fetches it) or point "
            "the setting at where it is"
        )
    if "unable to add CA to cert pool" in text:
        return (
            f"the CA bundle for the database connection holds no PEM certificate ({bundle}); it must be the "
            "RDS CA bundle in PEM form (-----BEGIN CERTIFICATE-----)"
        )
    if "x509:" in text or "tls: failed to verify" in text:
        if "signed by unknown authority" in text:
            return (
                f"PostgreSQL at {where} presented a certificate that the CA bundle does not sign ({bundle}); "
                f"with ssl_mode {props.get('ssl_mode')} it must be the CA bundle of the database's region"
            )
        return (
            f"PostgreSQL at {where} presented a certificate Vault does not accept for that name ({bundle}; "
            f"{_tail(text)}); connect by the instance's endpoint address"
        )
    if "no encryption" in text:
        return (
            f"PostgreSQL at {where} accepts only TLS connections but ssl_mode is "
            f"{props.get('ssl_mode')}; use verify-full with the RDS CA bundle"
        )
    if "SQLSTATE 28P01" in text or "password authentication failed" in text:
        match = _LOGIN_USER.search(text)
        user = match.group("user") if match else "?"
        if user == props.get("management_user"):
            return (
                f"PostgreSQL at {where} refused the password Vault holds for {user} (was the database "
                "restored or replaced?); change the `rebootstrap` text to make it again"
            )
        return (
            f"PostgreSQL at {where} refused the RDS master credentials from {props.get('master_secret_arn')} "
            f"(user {user}); if RDS is rotating the master password right now, re-run `pulumi up`"
        )
    if "failed to execute query" in text:
        return (
            f"PostgreSQL at {where} refused a statement Vault ran for the database engine ({_tail(text)}); "
            "check the bootstrap and role SQL (components/database/templates/postgres) against the master "
            "user's privileges (RDS's master user is not a superuser)"
        )
    return None


def _tail(text: str) -> str:
    """The innermost reason of a wrapped Go error."""
    return text.rsplit(": ", 2)[-1] if ": " in text else text
