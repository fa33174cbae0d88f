"""PostgreSQL settings derived from the instance class and engine version, as plain functions."""

from __future__ import annotations

import pulumi_aws as aws

# Memory (GiB) of the instance classes this platform uses; RDS derives PostgreSQL's default
# max_connections from it as LEAST(DBInstanceClassMemory / 9531392, 5000).
INSTANCE_MEMORY_GIB = {
    "micro": 1,
    "small": 2,
    "medium": 4,
    "large": 8,
    "xlarge": 16,
    "2xlarge": 32,
    "4xlarge": 64,
    "8xlarge": 128,
    "12xlarge": 192,
    "16xlarge": 256,
}
MEMORY_OPTIMISED_FAMILIES = ("r", "x", "z")


def default_max_connections(instance_class: str) -> int:
    """RDS's default PostgreSQL max_connections for a class (memory-optimised classes: twice the memory)."""
    family, size = instance_class.split(".")[1:3]
    memory_gib = INSTANCE_MEMORY_GIB.get(size, 8) * (2 if family.startswith(MEMORY_OPTIMISED_FAMILIES) else 1)
    return min(memory_gib * 1024**3 // 9531392, 5000)


def postgres_parameters(major: int) -> list[aws.rds.ParameterGroupParameterArgsDict]:
    """TLS only, SCRAM password hashes, and every connection and disconnection logged."""
    # PostgreSQL 18 made log_connections a list of aspects; "on" is kept only for compatibility.
    log_connections = "1" if major < 18 else "receipt,authentication,authorization"
    return [
        {"name": "rds.force_ssl", "value": "1"},
        {"name": "password_encryption", "value": "scram-sha-256"},
        {"name": "log_connections", "value": log_connections},
        {"name": "log_disconnections", "value": "1"},
    ]
