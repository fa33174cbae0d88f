"""The Vault release rules (which advisories a release is in, which stacks each rule checks) and the
internet-facing load balancer rule."""

import base64

import pytest

from policies.rules import ALL_POLICIES, props, vault_version
from tests.policies import cases_vault
from tests.policies.support import DEV, PRODUCTION, check_resource, check_stack


def test_each_vault_version_rule_checks_only_its_own_environments():
    assert check_stack("vault-version-advisories", cases_vault.vault_nodes("1.15.0", DEV)) == []
    assert check_stack("vault-version-advisories-nonproduction", cases_vault.vault_nodes("1.15.0")) == []
    levels = {p.name: p.enforcement_level and p.enforcement_level.value for p in ALL_POLICIES}
    assert levels["vault-version-advisories"] == "mandatory"
    assert levels["vault-version-advisories-nonproduction"] == "advisory"


def test_the_version_tag_wins_and_names_the_first_release_clear_of_every_advisory():
    nodes = cases_vault.vault_nodes("2.2.2")
    nodes[1].props["tags"]["VaultVersion"] = "1.21.4"
    [message] = check_stack("vault-version-advisories", nodes)
    assert "installs Vault 1.21.4" in message and "HCSEC-2026-08 / CVE-2026-5807" in message
    assert "HCSEC-2024-26" not in message and "CVE-2025-6000" not in message  # fixed before 1.21.4
    assert message.endswith("Set vaultVersion to 2.2.2 or a later supported release")


def test_a_vault_node_whose_release_cannot_be_read_is_reported():
    nodes = cases_vault.vault_nodes("2.2.2")
    del nodes[1].props["userData"]
    assert check_stack("vault-version-advisories", nodes) == [
        "vault-lt: vault-lt (aws:ec2/launchTemplate:LaunchTemplate) installs a Vault release that cannot be "
        'read (no VaultVersion tag, no VAULT_VERSION="X.Y.Z" in its user data)'
    ]


@pytest.mark.parametrize(
    ("version", "affected"), [("1.1.9", False), ("1.2.0", True), ("2.2.1", True), ("2.2.2", False)]
)
def test_an_advisory_range_includes_its_start_and_excludes_its_fix(version, affected):
    advisory = vault_version.Advisory("CVE-0000-0000", "example", (1, 2, 0), (2, 2, 2), "a test")
    parsed = vault_version.parse_version(version)
    assert parsed is not None
    assert (vault_version.advisories_for(parsed, [advisory]) == [advisory]) is affected


def test_every_advisory_range_is_well_formed_and_sourced():
    for advisory in vault_version.ADVISORIES:
        assert advisory.introduced < advisory.fixed, advisory.ids
        assert "CVE-" in advisory.ids and advisory.source


def test_an_internet_facing_load_balancer_is_left_alone_outside_production():
    load_balancer = "aws:lb/loadBalancer:LoadBalancer"
    assert check_resource("lb-not-internet-facing", load_balancer, {"tags": DEV}) == []
    [message] = check_resource("lb-not-internet-facing", load_balancer, {"tags": PRODUCTION})
    assert "restrict allowedCidrs" in message  # `internal` unset: AWS's default is internet-facing


def test_a_vault_release_that_is_not_x_y_z_is_named_with_its_node():
    nodes = cases_vault.vault_nodes("2.2.2")
    nodes[1].props["tags"]["VaultVersion"] = "latest"
    assert check_stack("vault-version-advisories", nodes) == [
        "vault-lt: vault-lt (aws:ec2/launchTemplate:LaunchTemplate) installs Vault 'latest', which is not an "
        "X.Y.Z release"
    ]


def test_a_node_whose_release_cannot_be_read_does_not_hide_the_next_nodes_advisories():
    unreadable = cases_vault.vault_nodes("2.2.2")[1]
    del unreadable.props["userData"]
    vulnerable = cases_vault.vault_nodes("1.21.4")[1]
    vulnerable.name = "vault-lt-next"
    messages = check_stack(
        "vault-version-advisories", [*cases_vault.vault_nodes("2.2.2")[:1], unreadable, vulnerable]
    )
    assert [message.split(" ", 1)[0] for message in messages] == ["vault-lt:", "vault-lt-next:"]
    assert "installs a Vault release that cannot be read" in messages[0]
    assert "installs Vault 1.21.4, affected by" in messages[1]


def test_an_internet_facing_load_balancer_is_told_what_to_do_instead():
    load_balancer = "aws:lb/loadBalancer:LoadBalancer"
    balancer = {"tags": PRODUCTION, "internal": False, "loadBalancerType": "network"}
    assert check_resource("lb-not-internet-facing", load_balancer, balancer) == [
        "network load balancer is internet-facing (internal is not true): Vault's API, with its "
        "unauthenticated sys/ endpoints, is reachable from the internet wherever the security group "
        "allows. Make it internal (loadBalancerScheme: internal) and reach it over VPN, Direct Connect "
        "or PrivateLink; if it must stay public, restrict allowedCidrs to the known client ranges and "
        "put AWS WAF in front"
    ]


@pytest.mark.parametrize(
    ("plain", "decoded"),
    [
        # 12 bytes encode to 16 base64 characters, the shortest text read as encoded user data.
        (b"twelve bytes", True),
        # 9 bytes encode to 12: as short as an ordinary word that happens to be valid base64 ("abcd1234").
        (b"nine byte", False),
    ],
)
def test_base64_text_is_decoded_from_16_characters(plain, decoded):
    encoded = base64.b64encode(plain).decode()
    assert props.decode_text(encoded) == (plain.decode() if decoded else encoded)
