"""CIDR arithmetic for the network layout, kept free of Pulumi so it can be tested directly."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# AWS accepts VPC and subnet IPv4 blocks between /16 and /28.
AWS_MIN_PREFIX = 16
AWS_MAX_PREFIX = 28
# AWS reserves the first four and the last address of every subnet.
AWS_RESERVED_PER_SUBNET = 5


class CidrError(ValueError):
    """A CIDR string that is not a usable IPv4 network block."""


def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """Parse `text` as an IPv4 network block (any size, e.g. for an allow-list) with no host bits set."""
    if not isinstance(text, str) or "/" not in text:
        raise CidrError(f"{text!r} is not in a.b.c.d/n form")
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError as err:
        raise CidrError(f"{text!r} is not an IPv4 CIDR block ({err})") from None
    if str(network) != text.strip():
        raise CidrError(f"{text!r} has host bits set; the network address is {network}")
    return network


def parse_block(text: str) -> ipaddress.IPv4Network:
    """Parse `text` as a VPC or subnet block: an IPv4 CIDR within AWS's size limits."""
    network = parse_cidr(text)
    if not AWS_MIN_PREFIX <= network.prefixlen <= AWS_MAX_PREFIX:
        raise CidrError(
            f"{text!r} has prefix /{network.prefixlen}; AWS allows /{AWS_MIN_PREFIX} to /{AWS_MAX_PREFIX}"
        )
    return network


def usable_hosts(network: ipaddress.IPv4Network) -> int:
    """Addresses an AWS subnet of this size can hand out."""
    return int(network.num_addresses) - AWS_RESERVED_PER_SUBNET


@dataclass(frozen=True)
class Overlap:
    """Two labelled blocks that share addresses."""

    first: str
    second: str


def overlaps(blocks: Sequence[tuple[str, ipaddress.IPv4Network]]) -> list[Overlap]:
    """Every pair of labelled blocks that overlap, in input order."""
    found: list[Overlap] = []
    for index, (label, block) in enumerate(blocks):
        for other_label, other in blocks[index + 1 :]:
            if block.overlaps(other):
                found.append(Overlap(label, other_label))
    return found


def outside(vpc: ipaddress.IPv4Network, blocks: Iterable[tuple[str, ipaddress.IPv4Network]]) -> list[str]:
    """Labels of the blocks that are not wholly inside the VPC block."""
    return [label for label, block in blocks if not block.subnet_of(vpc)]
