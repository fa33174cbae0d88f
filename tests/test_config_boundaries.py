"""Every numeric or length limit of the stack config, on both sides: at the limit the stack parses, one past
it exactly one problem names the key. The limits are AWS's (tag sizes, KMS and RDS windows, gp3 sizes,
ElastiCache replicas, CloudWatch retention periods) or the deployment guide's, stated here, not read from
the code under test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_config import NS, catalog, parse, problems

LONG_NAME = "a" * 64


def boundary(*case: Any) -> Any:
    """(name, stack, at the limit, one past it, the key named, words of its problem) as one parameter set."""
    name, *values = case
    return pytest.param(*values, id=name)


def tags(**changes: Any) -> dict[str, Any]:
    base = {
        "Environment": "production",
        "Project": "Candlefish-AI",
        "Component": "Secrets",
        "DeployedBy": "CI",
    }
    return {"tags": {**base, **changes}}


BOUNDARIES = [
    # AWS tags: keys 1-128 characters, values up to 256.
    boundary(
        "tag value 256",
        "production",
        tags(Owner="v" * 256),
        tags(Owner="v" * 257),
        "tags.Owner",
        "is longer than 256 characters",
    ),
    boundary(
        "tag key 128",
        "production",
        tags(**{"k" * 128: "x"}),
        tags(**{"k" * 129: "x"}),
        f"tags.{'k' * 129}",
        "is not a usable tag key",
    ),
    boundary(
        "tag key aws: prefix",
        "production",
        tags(awsome="x"),
        tags(**{"AWS:team": "x"}),
        "tags.AWS:team",
        "is not a usable tag key",
    ),
    boundary(
        "tag key metadata characters",
        "production",
        tags(**{"cost-centre:id@x": "x"}),
        tags(**{"cost centre": "x"}),
        "tags.cost centre",
        "cannot be an instance-metadata tag key",
    ),
    # Raft: an odd number of voters from 3 to 7.
    boundary(
        "cluster size 3",
        "production",
        {"vaultClusterSize": 3},
        {"vaultClusterSize": 2},
        "vaultClusterSize",
        "",
    ),
    boundary(
        "cluster size 7",
        "production",
        {"vaultClusterSize": 7},
        {"vaultClusterSize": 9},
        "vaultClusterSize",
        "outside 3 to 7",
    ),
    # KMS waits 7 to 30 days before deleting a key; production keeps the full 30.
    boundary(
        "kms window 7 outside production",
        "dev",
        {"kmsDeletionWindowDays": 7},
        {"kmsDeletionWindowDays": 6},
        "kmsDeletionWindowDays",
        "out of range",
    ),
    boundary(
        "kms window 30",
        "production",
        {"kmsDeletionWindowDays": 30},
        {"kmsDeletionWindowDays": 31},
        "kmsDeletionWindowDays",
        "out of range",
    ),
    boundary(
        "kms window in production",
        "production",
        {"kmsDeletionWindowDays": 30},
        {"kmsDeletionWindowDays": 29},
        "kmsDeletionWindowDays",
        "too short for production",
    ),
    # RDS keeps automated backups up to 35 days; the guide's production keeps 30.
    boundary(
        "db backups 35",
        "production",
        {"dbBackupRetentionDays": 35},
        {"dbBackupRetentionDays": 36},
        "dbBackupRetentionDays",
        "out of range",
    ),
    boundary(
        "db backups in production",
        "production",
        {"dbBackupRetentionDays": 30},
        {"dbBackupRetentionDays": 29},
        "dbBackupRetentionDays",
        "too short for production",
    ),
    boundary(
        "db backups outside production",
        "dev",
        {"dbBackupRetentionDays": 7},
        {"dbBackupRetentionDays": 6},
        "dbBackupRetentionDays",
        "",
    ),
    # gp3 volumes are 20 GiB to 64 TiB.
    boundary(
        "db storage 20 GiB",
        "production",
        {"dbAllocatedStorageGb": 20, "dbMaxAllocatedStorageGb": 100},
        {"dbAllocatedStorageGb": 19, "dbMaxAllocatedStorageGb": 100},
        "dbAllocatedStorageGb",
        "out of range",
    ),
    # RDS storage autoscaling needs a ceiling at least 10% above the allocation.
    boundary(
        "db autoscaling headroom",
        "production",
        {"dbAllocatedStorageGb": 100, "dbMaxAllocatedStorageGb": 110},
        {"dbAllocatedStorageGb": 100, "dbMaxAllocatedStorageGb": 109},
        "dbMaxAllocatedStorageGb",
        "at least 10% above",
    ),
    # RDS windows last at least 30 minutes.
    boundary(
        "db backup window 30 minutes",
        "production",
        {"dbBackupWindow": "03:00-03:30"},
        {"dbBackupWindow": "03:00-03:29"},
        "dbBackupWindow",
        "lasts 29 minutes",
    ),
    # ElastiCache (cluster mode disabled): a primary and up to five replicas; production needs a replica.
    boundary(
        "redis nodes 6", "production", {"redisNodes": 6}, {"redisNodes": 7}, "redisNodes", "out of range"
    ),
    boundary(
        "redis nodes in production",
        "production",
        {"redisNodes": 2},
        {"redisNodes": 1},
        "redisNodes",
        "cannot fail over",
    ),
    boundary(
        "redis snapshots 35",
        "production",
        {"redisSnapshotRetentionDays": 35},
        {"redisSnapshotRetentionDays": 36},
        "redisSnapshotRetentionDays",
        "out of range",
    ),
    # The guide keeps flow logs and the audit trail a year in production.
    boundary(
        "flow logs a year",
        "production",
        {"flowLogRetentionDays": 365},
        {"flowLogRetentionDays": 180},
        "flowLogRetentionDays",
        "too short for production",
    ),
    # Business hours: start 0-23, end 1-24, start before end.
    boundary(
        "business hours start 0",
        "production",
        {"businessHoursStart": 0},
        {"businessHoursStart": -1},
        "businessHoursStart",
        "out of range",
    ),
    boundary(
        "business hours end 24",
        "production",
        {"businessHoursEnd": 24},
        {"businessHoursEnd": 25},
        "businessHoursEnd",
        "out of range",
    ),
    boundary(
        "business hours end after start",
        "production",
        {"businessHoursStart": 17, "businessHoursEnd": 18},
        {"businessHoursStart": 18, "businessHoursEnd": 18},
        "businessHoursEnd",
        "is not after businessHoursStart",
    ),
    # Rotation limits by type: api keys and database credentials 90 days, crypto material a year.
    boundary(
        "crypto rotation a year",
        "dev",
        {"catalog": catalog(rotationDays=365)},
        {"catalog": catalog(rotationDays=366)},
        "catalog.test-secret.rotationDays",
        "1 to 365",
    ),
    boundary(
        "rotation at least a day",
        "dev",
        {"catalog": catalog(rotationDays=1)},
        {"catalog": catalog(rotationDays=0)},
        "catalog.test-secret.rotationDays",
        "",
    ),
    boundary(
        "api key rotation 90",
        "dev",
        {"catalog": catalog(type="api-key", rotationDays=90, configKey="testSecret")},
        {"catalog": catalog(type="api-key", rotationDays=91, configKey="testSecret")},
        "catalog.test-secret.rotationDays",
        "1 to 90",
    ),
    # Secret names become Secrets Manager and Vault path segments: at most 64 characters here.
    boundary(
        "secret name 64",
        "dev",
        {"catalog": {LONG_NAME: catalog()["test-secret"]}},
        {"catalog": {LONG_NAME + "b": catalog()["test-secret"]}},
        f"catalog.{LONG_NAME}b",
        "not a valid secret name",
    ),
]


@pytest.mark.parametrize(("stack", "at_limit", "past_it", "key", "words"), BOUNDARIES)
def test_a_limit_holds_at_the_limit_and_fails_one_past_it(stack, at_limit, past_it, key, words):
    parse(stack, at_limit)  # raises ConfigError listing the problems if the limit itself is refused
    found = problems(stack, **past_it)
    assert len(found) == 1, found
    assert found[0].startswith(f"{NS}:{key}: ") and words in found[0], found
