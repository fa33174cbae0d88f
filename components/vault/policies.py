"""Vault ACL policies rendered from the HCL templates in `templates/vault-policies/`.

Each fixed policy is its file, as written, except `provisioner.hcl`, which pins what the provisioner may
configure to this stack's values (the audit devices' options, the region's STS endpoint).
`app-readonly.hcl` is rendered once per path an application owns (`${app_path}` replaced), and an
application's policy (`app-<name>-readonly`) is those blocks together. The rendered texts are inputs of the
bootstrap resource, so a changed template is a diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from string import Template

from providers.vault_config import AUDIT_FILE_PATH, BINDABLE_POLICIES, SYSLOG_FACILITY, SYSLOG_TAG

POLICY_DIR = Path(__file__).resolve().parent / "templates" / "vault-policies"
FIXED_POLICIES = (
    "admin",
    "platform-team",
    "security-team",
    "rotation",
    "snapshot",
    "break-glass",
    # The break-glass broker's login and the drill tokens' policy (providers/vault_break_glass.py).
    "break-glass-broker",
    "break-glass-drill",
    "provisioner",
    # Short-lived PostgreSQL credentials from the database engine (components/database/access.py).
    "app-db-readonly",
    "app-db-readwrite",
    # The load test's token: its own canary secrets only (tools/loadtest.py).
    "loadtest",
)
APP_TEMPLATE = "app-readonly"
PROVISIONER_TEMPLATE = "provisioner"
# An application path is KV path segments: no globs, no "..", no leading or trailing slash.
APP_PATH = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")
APP_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


def template_text(name: str, directory: Path = POLICY_DIR) -> str:
    return (directory / f"{name}.hcl").read_text()


def app_policy_name(app: str) -> str:
    return f"app-{app}-readonly"


def render_app_policy(app: str, paths: Sequence[str], directory: Path = POLICY_DIR) -> str:
    """One application's read-only policy: the template rendered for each of its paths."""
    if not APP_NAME.fullmatch(app):
        raise ValueError(f"application name {app!r}: lowercase letters, digits and hyphens (max 41)")
    if not paths:
        raise ValueError(f"application {app!r} names no KV paths")
    template = Template(template_text(APP_TEMPLATE, directory))
    blocks = []
    for path in paths:
        if not APP_PATH.fullmatch(path):
            raise ValueError(
                f"application {app!r} path {path!r}: KV path segments like 'candlefish/payments' "
                "(lowercase, no wildcards, no leading or trailing slash)"
            )
        blocks.append(template.substitute(app_path=path))
    return "\n".join(blocks)


def render_provisioner_policy(
    *, region: str, audit_file_path: str = AUDIT_FILE_PATH, directory: Path = POLICY_DIR
) -> str:
    """The provisioner policy for a stack: it may re-enable the audit devices only with the options the
    bootstrap declares, point AWS auth only at the region's STS endpoint, and bind `BINDABLE_POLICIES`."""
    return Template(template_text(PROVISIONER_TEMPLATE, directory)).substitute(
        region=region,
        audit_file_path=audit_file_path,
        syslog_facility=SYSLOG_FACILITY,
        syslog_tag=SYSLOG_TAG,
        bindable_policies=json.dumps(list(BINDABLE_POLICIES)),
    )


def render_policies(
    apps: Iterable[tuple[str, Sequence[str]]],
    *,
    region: str,
    audit_file_path: str = AUDIT_FILE_PATH,
    directory: Path = POLICY_DIR,
) -> Mapping[str, str]:
    """Every policy the bootstrap writes, by name: the fixed ones plus one per application."""
    policies = {name: template_text(name, directory) for name in FIXED_POLICIES}
    policies[PROVISIONER_TEMPLATE] = render_provisioner_policy(
        region=region, audit_file_path=audit_file_path, directory=directory
    )
    for app, paths in apps:
        name = app_policy_name(app)
        if name in policies:
            raise ValueError(f"application {app!r} is listed twice")
        policies[name] = render_app_policy(app, paths, directory)
    return policies
