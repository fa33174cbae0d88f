"""CIDR arithmetic, without Pulumi."""

import ipaddress

import pytest

from components.lib import netmath


def test_parse_block_accepts_a_network_address_in_aws_limits():
    assert netmath.parse_block("10.0.0.0/16") == ipaddress.IPv4Network("10.0.0.0/16")
    assert netmath.parse_block("10.0.1.0/28").prefixlen == 28


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10.0.0.0", "a.b.c.d/n"),
        ("10.0.0.300/24", "not an IPv4 CIDR block"),
        ("10.0.0.5/24", "host bits set; the network address is 10.0.0.0/24"),
        ("10.0.0.0/15", "AWS allows /16 to /28"),
        ("10.0.0.0/29", "AWS allows /16 to /28"),
        ("fd00::/64", "not an IPv4 CIDR block"),
    ],
)
def test_parse_block_rejects_with_a_reason(text, words):
    with pytest.raises(netmath.CidrError, match=words.replace("(", r"\(").replace(".", r"\.")):
        netmath.parse_block(text)


def test_overlaps_finds_each_overlapping_pair_once():
    blocks = [
        ("a", ipaddress.IPv4Network("10.0.0.0/24")),
        ("b", ipaddress.IPv4Network("10.0.0.128/25")),
        ("c", ipaddress.IPv4Network("10.0.1.0/24")),
        ("d", ipaddress.IPv4Network("10.0.0.0/23")),
    ]
    found = {(o.first, o.second) for o in netmath.overlaps(blocks)}
    assert found == {("a", "b"), ("a", "d"), ("b", "d"), ("c", "d")}


def test_outside_lists_blocks_not_wholly_inside_the_vpc():
    vpc = ipaddress.IPv4Network("10.0.0.0/16")
    blocks = [("in", ipaddress.IPv4Network("10.0.5.0/24")), ("out", ipaddress.IPv4Network("10.1.0.0/24"))]
    assert netmath.outside(vpc, blocks) == ["out"]


def test_usable_hosts_subtracts_the_five_aws_reserved_addresses():
    assert netmath.usable_hosts(ipaddress.IPv4Network("10.0.1.0/24")) == 251
