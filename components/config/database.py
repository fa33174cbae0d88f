"""The database section of the stack config: RDS PostgreSQL and ElastiCache Redis.

Each rule below is one AWS accepts or rejects on its own (window formats and overlap, storage autoscaling
headroom, Multi-AZ needing two Redis nodes) or one production adds (Multi-AZ, 30 days of backups,
deletion protection, year-long logs). Defaults are the production-safe choice; the dev stack picks
cheaper ones explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config.reader import ConfigReader
from components.lib import timewindows

# RDS for PostgreSQL majors in standard support (13 moved to paid Extended Support in February 2026).
POSTGRES_MAJORS = (14, 15, 16, 17, 18)
DEFAULT_POSTGRES_MAJOR = 17
# ElastiCache Redis OSS releases with transit_encryption_mode (7.0 and later) and engine-log delivery (6.2+).
REDIS_VERSIONS = ("7.0", "7.1")
SIZES = r"(?:nano|micro|small|medium|large|\d*xlarge|metal(?:-\d+xl)?)"
DB_INSTANCE_CLASS_PATTERN = rf"db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.{SIZES}"
CACHE_NODE_TYPE_PATTERN = rf"cache\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.{SIZES}"
# gp3 storage for RDS for PostgreSQL: 20 GiB to 64 TiB.
GP3_MIN_GIB, GP3_MAX_GIB = 20, 65536
# RDS refuses a storage autoscaling ceiling less than 10% above the allocated storage.
AUTOSCALING_HEADROOM_PERCENT = 10
MIN_WINDOW_MINUTES = 30
MIN_BACKUP_DAYS, MAX_BACKUP_DAYS, PRODUCTION_BACKUP_DAYS = 7, 35, 30
MAX_REDIS_NODES = 6  # a primary and up to five replicas (cluster mode disabled)
MAX_SNAPSHOT_DAYS, PRODUCTION_MIN_SNAPSHOT_DAYS = 35, 7
PRODUCTION_MIN_LOG_DAYS = 365


@dataclass(frozen=True)
class PostgresConfig:
    """The RDS PostgreSQL instance."""

    engine_major: int
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    multi_az: bool
    deletion_protection: bool

    @property
    def engine_version(self) -> str:
        """The major only: RDS applies minor releases itself (auto minor version upgrade)."""
        return str(self.engine_major)

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_major}"


@dataclass(frozen=True)
class RedisConfig:
    """The ElastiCache Redis replication group."""

    engine_version: str
    node_type: str
    nodes: int
    snapshot_retention_days: int
    # Raising the generation issues a new AUTH token; the strategy says what happens to the old one:
    # ROTATE keeps it valid beside the new one, SET then makes the new one the only one.
    auth_token_generation: int = 1
    auth_token_update_strategy: str = "ROTATE"  # noqa: S105 - a strategy name, not a credential
    # Days between scheduled rotations of the token in Secrets Manager (ROTATE, then SET one period later);
    # 0 leaves only the manual path above.
    auth_rotation_days: int = 0

    @property
    def multi_az(self) -> bool:
        """Multi-AZ and automatic failover need a replica to fail over to."""
        return self.nodes >= 2


@dataclass(frozen=True)
class DatabaseConfig:
    """PostgreSQL, Redis, and how long their CloudWatch logs are kept."""

    postgres: PostgresConfig
    redis: RedisConfig
    log_retention_days: int


def read_database(reader: ConfigReader, *, production: bool, log_retention_days: int) -> DatabaseConfig:
    """Read the `db*` and `redis*` keys, recording a problem for each mistake.

    `databaseLogRetentionDays` is read beside the other log retention keys and arrives checked.
    """
    return DatabaseConfig(
        postgres=_postgres(reader, production=production),
        redis=_redis(reader, production=production),
        log_retention_days=log_retention_days,
    )


def _postgres(reader: ConfigReader, *, production: bool) -> PostgresConfig:
    major = _engine_major(reader)
    instance_class = reader.string(
        "dbInstanceClass",
        "db.t4g.medium",
        pattern=DB_INSTANCE_CLASS_PATTERN,
        allowed="an RDS instance class db.<family>.<size>, e.g. db.r7g.large",
    )
    # Performance Insights has no instance-class restriction on RDS for PostgreSQL (AWS lists the
    # micro/small burstable classes as unsupported for MySQL and MariaDB only), so every class passes.
    allocated = reader.integer("dbAllocatedStorageGb", GP3_MIN_GIB, low=GP3_MIN_GIB, high=GP3_MAX_GIB)
    ceiling = reader.integer("dbMaxAllocatedStorageGb", 100, low=GP3_MIN_GIB, high=GP3_MAX_GIB)
    if allocated is not None and ceiling is not None:
        # In whole GiB, without floating point (100 * 1.10 is 110.00000000000001, which ceil makes 111).
        needed = min(-(-allocated * (100 + AUTOSCALING_HEADROOM_PERCENT) // 100), GP3_MAX_GIB)
        if ceiling < needed:
            reader.problem(
                "dbMaxAllocatedStorageGb",
                f"{ceiling} GiB leaves no room to autoscale from {allocated} GiB: "
                "RDS needs the ceiling at least 10% above the allocated storage",
                f"{needed} or more",
            )
    retention = _backup_retention(reader, production=production)
    backup_window, maintenance_window = _windows(reader)
    multi_az = reader.boolean("dbMultiAz", True)
    if production and multi_az is False:
        reader.problem("dbMultiAz", "production keeps a standby in a second zone", "true in production")
    protection = reader.boolean("dbDeletionProtection", True)
    if production and protection is False:
        reader.problem(
            "dbDeletionProtection",
            "production databases cannot be deletable by one call",
            "true in production",
        )
    return PostgresConfig(
        engine_major=major or DEFAULT_POSTGRES_MAJOR,
        instance_class=instance_class or "",
        allocated_storage_gb=allocated or GP3_MIN_GIB,
        max_allocated_storage_gb=ceiling or GP3_MIN_GIB,
        backup_retention_days=retention or MIN_BACKUP_DAYS,
        backup_window=backup_window,
        maintenance_window=maintenance_window,
        multi_az=multi_az is not False,
        deletion_protection=protection is not False,
    )


def _engine_major(reader: ConfigReader) -> int | None:
    majors = ", ".join(map(str, POSTGRES_MAJORS))
    version = reader.string(
        "dbEngineVersion",
        str(DEFAULT_POSTGRES_MAJOR),
        pattern=r"\d+(?:\.\d+)?",
        allowed=f"a PostgreSQL major version: {majors}",
    )
    if version is None:
        return None
    major, _, minor = version.partition(".")
    if int(major) not in POSTGRES_MAJORS:
        reader.problem(
            "dbEngineVersion", f"PostgreSQL {major} is not a major RDS supports", f"one of {majors}"
        )
        return None
    if minor:
        reader.problem(
            "dbEngineVersion",
            f"{version!r} pins a minor release, but RDS applies minor upgrades itself (auto minor version "
            "upgrade), after which every `pulumi up` would try to downgrade",
            f"the major only, e.g. {major}",
        )
    return int(major)


def _backup_retention(reader: ConfigReader, *, production: bool) -> int | None:
    days = reader.integer("dbBackupRetentionDays", PRODUCTION_BACKUP_DAYS, low=0, high=MAX_BACKUP_DAYS)
    if days is None:
        return None
    if days < MIN_BACKUP_DAYS:
        reader.problem(
            "dbBackupRetentionDays",
            f"{days} days of automated backups is too few; 0 turns backups off",
            f"{MIN_BACKUP_DAYS} to {MAX_BACKUP_DAYS}",
        )
    elif production and days < PRODUCTION_BACKUP_DAYS:
        reader.problem(
            "dbBackupRetentionDays",
            f"{days} days is too short for production",
            f"{PRODUCTION_BACKUP_DAYS} to {MAX_BACKUP_DAYS}",
        )
    return days


def _windows(reader: ConfigReader) -> tuple[str, str]:
    """The daily backup window and the weekly maintenance window: formats, lengths, and no overlap."""
    backup_text = reader.string("dbBackupWindow", "03:00-03:30")
    maintenance_text = reader.string("dbMaintenanceWindow", "sun:04:00-sun:05:00")
    backup = _window(reader, "dbBackupWindow", backup_text, "hh24:mi-hh24:mi in UTC, e.g. 03:00-03:30")
    maintenance = _window(
        reader,
        "dbMaintenanceWindow",
        maintenance_text,
        "ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:04:00-sun:05:00",
    )
    if backup is not None and maintenance is not None and timewindows.overlap(backup, maintenance):
        reader.problem(
            "dbBackupWindow",
            f"{backup_text} overlaps the maintenance window {maintenance_text}, which RDS rejects",
            "a backup window outside the maintenance window",
        )
    return backup_text or "", maintenance_text or ""


def _window(reader: ConfigReader, key: str, text: str | None, allowed: str) -> timewindows.Window | None:
    if text is None:
        return None
    try:
        window = (
            timewindows.parse_weekly(text) if key == "dbMaintenanceWindow" else timewindows.parse_daily(text)
        )
    except timewindows.WindowError as err:
        reader.problem(key, str(err), allowed)
        return None
    if window.length < MIN_WINDOW_MINUTES:
        reader.problem(key, f"{text} lasts {window.length} minutes", f"{MIN_WINDOW_MINUTES} minutes or more")
        return None
    return window


# ElastiCache's auth_token_update_strategy values for a token change (DELETE would turn AUTH off).
AUTH_TOKEN_STRATEGIES = ("ROTATE", "SET")
MAX_AUTH_TOKEN_GENERATION = 1_000_000
# A token stays valid for up to two rotation periods (the old one is dropped one period after the new one is
# added), so production rotates at least monthly; elsewhere quarterly by default.
PRODUCTION_AUTH_ROTATION_DAYS = 30
DEFAULT_AUTH_ROTATION_DAYS = 90
MAX_AUTH_ROTATION_DAYS = 365


def _redis(reader: ConfigReader, *, production: bool) -> RedisConfig:
    version = reader.string("redisEngineVersion", REDIS_VERSIONS[-1])
    if version is not None and version not in REDIS_VERSIONS:
        reader.problem(
            "redisEngineVersion",
            f"{version!r} is not a supported Redis OSS release: transit encryption mode needs 7.0 or later",
            "one of " + ", ".join(REDIS_VERSIONS),
        )
        version = None
    node_type = reader.string(
        "redisNodeType",
        "cache.t4g.small",
        pattern=CACHE_NODE_TYPE_PATTERN,
        allowed="an ElastiCache node type cache.<family>.<size>, e.g. cache.r7g.large",
    )
    nodes = reader.integer("redisNodes", 2, low=1, high=MAX_REDIS_NODES)
    if production and nodes is not None and nodes < 2:
        reader.problem(
            "redisNodes",
            f"{nodes} node cannot fail over: production runs Multi-AZ with automatic failover",
            f"2 to {MAX_REDIS_NODES} in production",
        )
    snapshots = reader.integer(
        "redisSnapshotRetentionDays", PRODUCTION_MIN_SNAPSHOT_DAYS, low=0, high=MAX_SNAPSHOT_DAYS
    )
    if production and snapshots is not None and snapshots < PRODUCTION_MIN_SNAPSHOT_DAYS:
        reader.problem(
            "redisSnapshotRetentionDays",
            f"{snapshots} days of snapshots is too few for production; 0 turns snapshots off",
            f"{PRODUCTION_MIN_SNAPSHOT_DAYS} to {MAX_SNAPSHOT_DAYS} in production",
        )
    generation = reader.integer("redisAuthTokenGeneration", 1, low=1, high=MAX_AUTH_TOKEN_GENERATION)
    strategy = reader.choice("redisAuthTokenUpdateStrategy", AUTH_TOKEN_STRATEGIES, "ROTATE")
    rotation_days = reader.integer(
        "redisAuthRotationDays",
        PRODUCTION_AUTH_ROTATION_DAYS if production else DEFAULT_AUTH_ROTATION_DAYS,
        low=0,
        high=MAX_AUTH_ROTATION_DAYS,
    )
    if production and rotation_days is not None and not 1 <= rotation_days <= PRODUCTION_AUTH_ROTATION_DAYS:
        reader.problem(
            "redisAuthRotationDays",
            f"{rotation_days} does not rotate the Redis AUTH token at least monthly",
            f"1 to {PRODUCTION_AUTH_ROTATION_DAYS} in production (0, no schedule, only elsewhere)",
        )
    return RedisConfig(
        engine_version=version or REDIS_VERSIONS[-1],
        node_type=node_type or "",
        nodes=nodes or 2,
        snapshot_retention_days=snapshots if snapshots is not None else PRODUCTION_MIN_SNAPSHOT_DAYS,
        auth_token_generation=generation or 1,
        auth_token_update_strategy=strategy or "ROTATE",
        auth_rotation_days=rotation_days if rotation_days is not None else DEFAULT_AUTH_ROTATION_DAYS,
    )
