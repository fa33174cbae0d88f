"""The Vault release the nodes install, checked against a table of published advisories.

Vault 1.15.0, the deployment guide's release, is past end of support and affected by several published
advisories. The rule reads the release from the nodes' launch template (its `VaultVersion` tag, else the
`VAULT_VERSION="X.Y.Z"` line of its user data) and reports every advisory whose affected range holds it:
mandatory in production, advisory elsewhere (two rules, one per level, so `--policy-pack-config` can
change either on its own).

The ranges are Vault Community Edition's, as HashiCorp's CVE records and security bulletins state them
(`introduced` inclusive, `fixed` exclusive). Enterprise releases are patched on more branches, so this
table would over-report for them; the stack installs the Community build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_policy import PolicyResource

from . import settings
from .exposure import INSTANCE, LAUNCH_TEMPLATE
from .framework import ADVISORY, HIGH, MANDATORY, Refs, StackContext, StackView, label, stack_policy
from .props import decode_text, has_key
from .vault import CATEGORY, markers

Version = tuple[int, int, int]
VERSION_TEXT = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# The install script's pin as it appears in the (decoded) user data: readonly VAULT_VERSION="2.2.2".
USER_DATA_VERSION = re.compile(r"VAULT_VERSION=\\?[\"']?(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Advisory:
    """One published advisory: its identifiers, what it is, and the Community releases it affects."""

    ids: str
    summary: str
    introduced: Version
    fixed: Version
    source: str

    def affects(self, version: Version) -> bool:
        return self.introduced <= version < self.fixed


def parse_version(text: str) -> Version | None:
    """`X.Y.Z` as a comparable tuple, or None for anything else."""
    match = VERSION_TEXT.match(text.strip())
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def shown(version: Version) -> str:
    return ".".join(str(part) for part in version)


# Looked up on 2026-12-03. Sources: HashiCorp's CVE records (cvelistV5) and the GitHub advisories that cite
# HashiCorp's bulletins (discuss.hashicorp.com HCSEC posts); ranges are the "Vault" (Community) product's.
ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        "HCSEC-2024-26 / CVE-2024-8185",
        "memory exhaustion through the raft cluster join endpoint",
        (0, 0, 0),
        (1, 18, 1),
        "GHSA-g233-2p4r-3q7v: fixed in Vault Community 1.18.1",
    ),
    Advisory(
        "HCSEC-2025-14 / CVE-2025-6000",
        "a privileged operator could execute code on the host through an audit device",
        (0, 0, 0),
        (1, 20, 1),
        "GHSA-mr4h-qf9j-f665: fixed in Vault Community Edition 1.20.1",
    ),
    Advisory(
        "HCSEC-2026-08 / CVE-2026-5807",
        "unauthenticated root-token generation and rekey calls can block operators (denial of service)",
        (0, 0, 0),
        (2, 0, 0),
        "GHSA-88v5-9hxc-f85r: Community Edition up to 1.21.4 affected, fixed in 2.0.0",
    ),
    Advisory(
        "CVE-2026-3605",
        "published by HashiCorp on 2026-04-17 for Vault 0.10.0 up to 2.0.0",
        (0, 10, 0),
        (2, 0, 0),
        "CVE record: Vault affected from 0.10.0, less than 2.0.0",
    ),
    Advisory(
        "CVE-2026-89322",
        "ACL policies were not consistently evaluated",
        (0, 0, 1),
        (2, 1, 2),
        "CVE record (2026-10-07): Vault affected less than 2.1.2",
    ),
    Advisory(
        "CVE-2026-105816",
        "plugin catalog entries were not consistently checked to stay inside the plugin directory",
        (0, 0, 1),
        (2, 1, 2),
        "CVE record (2026-10-07): Vault affected less than 2.1.2",
    ),
    Advisory(
        "CVE-2026-92735",
        "published by HashiCorp on 2026-11-12 for Vault 1.2.0 up to 2.2.2",
        (1, 2, 0),
        (2, 2, 2),
        "CVE record (2026-11-12): Vault affected from 1.2.0, less than 2.2.2",
    ),
    Advisory(
        "CVE-2026-93333",
        "audit devices did not validate their configuration's contents",
        (0, 7, 0),
        (2, 2, 2),
        "CVE record (2026-11-12): Vault affected from 0.7.0, less than 2.2.2",
    ),
    Advisory(
        "CVE-2026-93335",
        "published by HashiCorp on 2026-11-12 for Vault 0.2.0 up to 2.2.2",
        (0, 2, 0),
        (2, 2, 2),
        "CVE record (2026-11-12): Vault affected from 0.2.0, less than 2.2.2",
    ),
)


def advisories_for(version: Version, table: Iterable[Advisory] = ADVISORIES) -> list[Advisory]:
    """The advisories whose affected range holds `version`."""
    return [advisory for advisory in table if advisory.affects(version)]


def node_version(view: StackView, resource: PolicyResource) -> str | None:
    """The Vault release a launch template or instance installs: its VaultVersion tag, else its user data."""
    tagged = markers(view, resource).get(settings.VAULT_VERSION_TAG)
    if tagged:
        return tagged
    for key in ("userData", "userDataBase64"):
        if has_key(resource.props, key):
            # Unknown at a first preview: reading it raises, and the engine notes the rule could not run.
            user_data = resource.props.get(key)
            found = USER_DATA_VERSION.search(decode_text(user_data)) if isinstance(user_data, str) else None
            if found:
                return found.group(1)
    return None


def _vault_nodes(view: StackView) -> list[PolicyResource]:
    return [
        r
        for r in view.of_type(LAUNCH_TEMPLATE, INSTANCE)
        if settings.VAULT_CLUSTER_TAG in markers(view, r) or settings.VAULT_VERSION_TAG in markers(view, r)
    ]


def _vulnerable(view: StackView) -> Iterable[tuple[str, str | None]]:
    for node in _vault_nodes(view):
        text = node_version(view, node)
        if text is None:
            yield (
                f"{label(node)} installs a Vault release that cannot be read "
                f'(no {settings.VAULT_VERSION_TAG} tag, no VAULT_VERSION="X.Y.Z" in its user data)',
                node.urn,
            )
            continue
        version = parse_version(text)
        if version is None:
            yield f"{label(node)} installs Vault {text!r}, which is not an X.Y.Z release", node.urn
            continue
        found = advisories_for(version)
        if found:
            first_safe = max(advisory.fixed for advisory in found)
            listed = "; ".join(f"{a.ids} ({a.summary}, fixed in {shown(a.fixed)})" for a in found)
            yield (
                f"{label(node)} installs Vault {text}, affected by {len(found)} published advisor"
                f"{'y' if len(found) == 1 else 'ies'}: {listed}. Set vaultVersion to {shown(first_safe)} "
                "or a later supported release",
                node.urn,
            )


def _production_check(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    yield from _vulnerable(view)


def _elsewhere_check(view: StackView, context: StackContext) -> Iterable[tuple[str, str | None]]:
    if not context.production:
        yield from _vulnerable(view)


SUMMARY = (
    "The Vault release the nodes install (VaultVersion tag, else VAULT_VERSION in the user data) is in no "
    "published advisory's affected range (policies/rules/vault_version.py lists them with their sources)"
)
REMEDIATION = "Set vaultVersion to a currently supported Vault Community release outside every listed range."

vault_version_production = stack_policy(
    "vault-version-advisories",
    f"{SUMMARY}; production stacks.",
    check=_production_check,
    level=MANDATORY,
    severity=HIGH,
    refs=Refs(),
    remediation=REMEDIATION,
    category=CATEGORY,
    production_only=True,
)

vault_version_elsewhere = stack_policy(
    "vault-version-advisories-nonproduction",
    f"{SUMMARY}; every other stack (advisory there).",
    check=_elsewhere_check,
    level=ADVISORY,
    severity=HIGH,
    refs=Refs(),
    remediation=REMEDIATION,
    category=CATEGORY,
)

POLICIES = [vault_version_production, vault_version_elsewhere]
