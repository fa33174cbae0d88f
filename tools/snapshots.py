"""Raft snapshots in the backup bucket: listing, download with a full-object SHA-256, and integrity checks.

The hourly job (components' vault-snapshot.sh) uploads `<prefix>YYYY/MM/DD/<stamp>.snap` with user
metadata `sha256` (the hex SHA-256 of the whole file, as `sha256sum` prints it: S3's own checksum of a
multipart upload is a checksum of part checksums and does not compare), `unseal-key-arn` (the KMS key the
cluster was sealed with) and `canary` (the value the job wrote to `secret/canary/snapshot` just before
taking the snapshot). A raft snapshot is a gzipped tar holding `meta.json`, `state.bin`, `SHA256SUMS` over
those two, and `SHA256SUMS.sealed` (the same sums, encrypted by the cluster's barrier).
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SNAPSHOT_SUFFIX = ".snap"
META_SHA256 = "sha256"
META_UNSEAL_KEY = "unseal-key-arn"
META_CANARY = "canary"
CANARY_PATH = "canary/snapshot"  # KV v2 path under secret/ the snapshot job writes before each snapshot
REQUIRED_MEMBERS = ("meta.json", "state.bin", "SHA256SUMS")
CHUNK = 1024 * 1024


class SnapshotInvalid(ValueError):
    """A snapshot file that must not be restored: truncated, altered or not a raft snapshot."""


@dataclass(frozen=True)
class StoredSnapshot:
    """One snapshot object in the backup bucket."""

    bucket: str
    key: str
    last_modified: datetime
    size: int
    sha256: str | None = None
    unseal_key_arn: str | None = None
    canary: str | None = None

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.last_modified).total_seconds()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path: Path) -> dict[str, str]:
    """Check the snapshot's own integrity: a complete gzip, a tar with the raft members, and every file
    matching its line in SHA256SUMS. Returns the sums; raises SnapshotInvalid saying what is wrong."""
    _check_gzip_complete(path)
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for member in archive:
                if not member.isfile():
                    raise SnapshotInvalid(f"{path.name}: unexpected tar entry {member.name!r}")
                handle = archive.extractfile(member)
                contents[member.name] = handle.read() if handle else b""
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        if isinstance(error, SnapshotInvalid):
            raise
        raise SnapshotInvalid(
            f"{path.name} is not a complete raft snapshot (gzipped tar): {error}; it may be truncated, "
            "download it again or pick an older snapshot"
        ) from None
    missing = [name for name in REQUIRED_MEMBERS if name not in contents]
    if missing:
        raise SnapshotInvalid(f"{path.name} lacks {', '.join(missing)}: not a raft snapshot")
    sums = parse_sums(contents["SHA256SUMS"].decode(errors="replace"))
    for name in ("meta.json", "state.bin"):
        if name not in sums:
            raise SnapshotInvalid(f"{path.name}: SHA256SUMS has no line for {name}")
        actual = hashlib.sha256(contents[name]).hexdigest()
        if actual != sums[name]:
            raise SnapshotInvalid(
                f"{path.name}: {name} does not match its SHA256SUMS line (altered or damaged)"
            )
    return sums


def _check_gzip_complete(path: Path) -> None:
    """Read the gzip stream to its end, so its CRC and length trailer are checked: tar stops reading at
    its end-of-archive blocks and would accept a file cut anywhere after them."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(CHUNK):
                pass
    except (EOFError, OSError, zlib.error) as error:
        raise SnapshotInvalid(
            f"{path.name} is not a complete gzip stream ({error}); it may be truncated: download it again "
            "or pick an older snapshot"
        ) from None


def parse_sums(text: str) -> dict[str, str]:
    """`sha256sum` output (`<hex>  <name>` lines) as {name: hex}."""
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def list_snapshots(s3: Any, bucket: str, prefix: str, *, with_metadata: bool = True) -> list[StoredSnapshot]:
    """Every snapshot under `prefix`, newest first (metadata read with HeadObject when asked)."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(SNAPSHOT_SUFFIX):
                found.append(StoredSnapshot(bucket, item["Key"], item["LastModified"], int(item["Size"])))
    # LastModified has one-second resolution; the key's timestamp breaks ties.
    found.sort(key=lambda snapshot: (snapshot.last_modified, snapshot.key), reverse=True)
    return [describe(s3, snapshot) for snapshot in found] if with_metadata else found


def describe(s3: Any, snapshot: StoredSnapshot) -> StoredSnapshot:
    """The snapshot with the metadata its job recorded."""
    head = s3.head_object(Bucket=snapshot.bucket, Key=snapshot.key)
    meta = {key.lower(): value for key, value in (head.get("Metadata") or {}).items()}
    return StoredSnapshot(
        snapshot.bucket,
        snapshot.key,
        head.get("LastModified", snapshot.last_modified),
        int(head.get("ContentLength", snapshot.size)),
        meta.get(META_SHA256),
        meta.get(META_UNSEAL_KEY),
        meta.get(META_CANARY),
    )


def pick(snapshots: Iterable[StoredSnapshot], key: str | None) -> StoredSnapshot:
    """The named snapshot, or the newest."""
    ordered = list(snapshots)
    if not ordered:
        raise SnapshotInvalid("the backup bucket holds no snapshot under that prefix")
    if key is None:
        return ordered[0]
    for snapshot in ordered:
        if snapshot.key == key or snapshot.key.endswith(f"/{key}"):
            return snapshot
    raise SnapshotInvalid(f"no snapshot {key!r}; `python -m tools.restore list` shows what there is")


def download(s3: Any, snapshot: StoredSnapshot, directory: Path, *, require_checksum: bool = True) -> Path:
    """Fetch the object and check it against its recorded SHA-256 before anything else looks at it."""
    target = directory / Path(snapshot.key).name
    s3.download_file(snapshot.bucket, snapshot.key, str(target))
    if snapshot.sha256 is None and not require_checksum:
        return target
    if snapshot.sha256 is None:
        raise SnapshotInvalid(
            f"{snapshot.key} has no recorded sha256 metadata: it was not written by the snapshot job, or "
            "before checksums were recorded; pass --allow-unrecorded-checksum to rely on the archive's own "
            "SHA256SUMS only"
        )
    actual = sha256_of(target)
    if actual != snapshot.sha256.lower():
        raise SnapshotInvalid(
            f"{snapshot.key}: the downloaded file's SHA-256 {actual[:16]}... differs from the recorded "
            f"{snapshot.sha256[:16]}...: the object was altered or the download is incomplete"
        )
    return target


def metadata_for(data: bytes, *, unseal_key_arn: str, canary: str) -> dict[str, str]:
    """The user metadata the snapshot job records with an upload (used by tests and the drill)."""
    return {
        META_SHA256: hashlib.sha256(data).hexdigest(),
        META_UNSEAL_KEY: unseal_key_arn,
        META_CANARY: canary,
    }
