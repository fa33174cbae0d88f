"""The secret cache: soft TTL, hard maximum staleness, one refresh per key, negative caching, counters.

- A hit is a dictionary lookup and a clock read, with no lock and no copy: values are immutable (`str`, or
  read-only mappings and tuples for `get_json`), so the cached object itself is handed out.
- Past its soft TTL an entry is still served while one background refresh per key fetches the new value
  (stale-while-revalidate); the refresh first asks for the version only and keeps the entry when it has
  not changed. Past the hard maximum staleness the entry is not served: the caller waits for one fetch
  that every concurrent caller of that key shares (single flight).
- A failed fetch is cached as a miss and retried after a jittered, exponentially growing backoff, so a
  missing secret or a down server is not hammered.
- A changed version calls the `on_rotate` callbacks with how long after the write the change was seen.
Sync and asyncio callers share one instance: an asyncio miss leads a fetch on its event loop
(`lead_flight`/`land_flight`) that threads wait for like any other, or, when it cannot, runs in a thread.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from candlefish_secrets.errors import AccessDenied, SecretNotFound, SecretsError, VaultUnavailable

log = logging.getLogger("candlefish_secrets")
UNPARSED: Any = object()  # an entry whose JSON document has not been parsed yet


@dataclass(slots=True, eq=False)
class Entry:
    """One cached value with its version and timestamps (monotonic seconds)."""

    value: str = field(repr=False)
    version: int | str | None
    backend: str
    fetched_at: float
    fresh_until: float = 0.0
    expires_at: float = 0.0
    created_epoch: float | None = None
    document: Any = field(default=UNPARSED, repr=False)
    refreshing: bool = False
    retry_refresh_at: float = 0.0
    refresh_failures: int = 0

    def __repr__(self) -> str:
        return f"Entry(backend={self.backend!r}, version={self.version!r}, value=***)"


@dataclass(slots=True)
class _Miss:
    """A cached failure: the error to raise again until `retry_at`."""

    error_type: type[SecretsError]
    message: str
    retry_at: float
    failures: int


@dataclass(frozen=True)
class RotationEvent:
    """A reference whose value changed. `staleness_s`: seconds from the new version's write to noticing it."""

    reference: str
    old_version: int | str | None
    new_version: int | str | None
    backend: str
    staleness_s: float | None


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of the cache's counters."""

    hits: int
    misses: int
    stale_serves: int
    negative_hits: int
    refreshes: int
    refresh_errors: int
    rotations: int
    evictions: int
    entries: int
    oldest_entry_age_s: float
    served_by: dict[str, int]
    last_rotation_staleness_s: float | None
    max_rotation_staleness_s: float | None


class _Flight:
    __slots__ = ("done", "entry", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.entry: Entry | None = None
        self.error: SecretsError | None = None


Loader = Callable[[str, Entry | None], Entry]
"""Fetch `key`; given the previous entry it may check the version only and return that entry unchanged."""

RotateCallback = Callable[[RotationEvent], None]


class SecretCache:
    """A bounded, thread-safe cache of secret values keyed by reference text."""

    def __init__(
        self,
        *,
        soft_ttl_s: float = 300.0,
        max_staleness_s: float = 3600.0,
        max_entries: int = 1024,
        negative_ttl_s: float = 2.0,
        max_backoff_s: float = 60.0,
        refresh_workers: int = 4,
        wait_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if soft_ttl_s <= 0 or max_staleness_s < soft_ttl_s:
            raise ValueError("need 0 < soft_ttl_s <= max_staleness_s")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.soft_ttl_s = soft_ttl_s
        self.max_staleness_s = max_staleness_s
        self.max_entries = max_entries
        self.negative_ttl_s = negative_ttl_s
        self.max_backoff_s = max_backoff_s
        self.wait_timeout_s = wait_timeout_s
        self.clock = clock
        self._soft_ttls: dict[str, float] = {}
        self._entries: dict[str, Entry] = {}
        self._misses: dict[str, _Miss] = {}
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        # Hits are counted with `next()` on an itertools.count: one C call, atomic under the GIL, no lock.
        self.hit_counter = itertools.count()
        self._refresher = ThreadPoolExecutor(refresh_workers, thread_name_prefix="candlefish-secrets-refresh")
        self._callbacks: list[tuple[str | None, RotateCallback]] = []
        self._counts = {
            "misses": 0,
            "stale_serves": 0,
            "negative_hits": 0,
            "refreshes": 0,
            "refresh_errors": 0,
            "rotations": 0,
            "evictions": 0,
        }
        self._served_by: dict[str, int] = {}
        self._last_staleness: float | None = None
        self._max_staleness: float | None = None

    # --- reads ---------------------------------------------------------------------------------------

    @property
    def entries(self) -> dict[str, Entry]:
        """The live mapping (read-only by convention): `SecretsClient.get` reads it directly on a hit."""
        return self._entries

    def fresh(self, key: str) -> Entry | None:
        """The entry for `key` if it is within its soft TTL (counted as a hit), else None. Never blocks."""
        entry = self._entries.get(key)
        if entry is not None and entry.fresh_until > self.clock():
            next(self.hit_counter)
            return entry
        return None

    def get(self, key: str, loader: Loader) -> Entry:
        """The entry for `key`: fresh, stale while one refresh runs, or fetched once for every waiter."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None:
            if entry.fresh_until > now:
                next(self.hit_counter)
                return entry
            if entry.expires_at > now:
                self._serve_stale(key, entry, loader, now)
                return entry
        return self._load(key, loader, entry)

    def _serve_stale(self, key: str, entry: Entry, loader: Loader, now: float) -> None:
        with self._lock:
            self._counts["stale_serves"] += 1
            if entry.refreshing or now < entry.retry_refresh_at or self._entries.get(key) is not entry:
                return
            entry.refreshing = True
        self._refresher.submit(self._refresh, key, entry, loader)

    def _refresh(self, key: str, previous: Entry, loader: Loader) -> None:
        try:
            updated = loader(key, previous)
        except (SecretNotFound, AccessDenied) as error:
            # Gone or no longer allowed: stop serving the old value.
            with self._lock:
                self._counts["refresh_errors"] += 1
                if self._entries.get(key) is previous:
                    del self._entries[key]
                self._remember_miss(key, error)
            log.warning("candlefish-secrets: refreshing %s failed: %s", key, error)
            return
        except Exception as error:
            with self._lock:
                self._counts["refresh_errors"] += 1
                previous.refresh_failures += 1
                previous.retry_refresh_at = self.clock() + self._backoff(previous.refresh_failures)
                previous.refreshing = False
            log.warning(
                "candlefish-secrets: refreshing %s failed, serving the cached value: %s", key, _safe(error)
            )
            return
        self._store(key, updated, previous, refreshed=True)

    def _load(self, key: str, loader: Loader, previous: Entry | None) -> Entry:
        with self._lock:
            miss = self._misses.get(key)
            if miss is not None and miss.retry_at > self.clock():
                self._counts["negative_hits"] += 1
                raise miss.error_type(miss.message, reference=key)
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self._counts["misses"] += 1
        if not leader:
            if not flight.done.wait(self.wait_timeout_s):
                raise VaultUnavailable(f"{key}: no answer within {self.wait_timeout_s:.0f}s", reference=key)
            if flight.error is not None:
                raise type(flight.error)(str(flight.error), reference=key)
            if flight.entry is None:  # an asyncio leader handed the fetch back: lead or join the next one
                return self._load(key, loader, previous)
            return flight.entry
        try:
            entry = loader(key, previous)
        except SecretsError as error:
            with self._lock:
                self._remember_miss(key, error)
                flight.error = error
                del self._flights[key]
            flight.done.set()
            raise
        except BaseException:
            with self._lock:
                flight.error = VaultUnavailable(f"{key}: the fetch failed unexpectedly", reference=key)
                del self._flights[key]
            flight.done.set()
            raise
        self._store(key, entry, previous, refreshed=False)
        with self._lock:
            flight.entry = entry
            del self._flights[key]
        flight.done.set()
        return entry

    def lead_flight(self, key: str) -> _Flight | None:
        """For an asyncio caller: lead the fetch of a `key` that has no entry, no cached failure and no
        fetch under way, so that other callers wait for it as for any fetch. None when it may not; then
        the caller goes the synchronous way. End it with `land_flight`."""
        with self._lock:
            if key in self._flights or key in self._entries:
                return None
            miss = self._misses.get(key)
            if miss is not None and miss.retry_at > self.clock():
                return None
            flight = self._flights[key] = _Flight()
            return flight

    def land_flight(self, key: str, flight: _Flight, entry: Entry | None) -> None:
        """End a flight from `lead_flight`: store the fetched entry, or (None) hand the fetch back, so
        that a waiting caller leads it the synchronous way (which handles every failure)."""
        if entry is not None:
            with self._lock:
                self._counts["misses"] += 1
            self._store(key, entry, None, refreshed=False)
        with self._lock:
            flight.entry = entry
            del self._flights[key]
        flight.done.set()

    # --- writes --------------------------------------------------------------------------------------

    def _store(self, key: str, entry: Entry, previous: Entry | None, *, refreshed: bool) -> None:
        now = self.clock()
        if entry is previous:
            # The version check found no change: the same value is good for another soft TTL.
            with self._lock:
                entry.fetched_at = now
                entry.fresh_until = now + self._soft_ttls.get(key, self.soft_ttl_s)
                entry.expires_at = now + self.max_staleness_s
                entry.refreshing = False
                entry.refresh_failures = 0
                self._counts["refreshes"] += int(refreshed)
            return
        entry.fresh_until = now + self._soft_ttls.get(key, self.soft_ttl_s)
        entry.expires_at = now + self.max_staleness_s
        event: RotationEvent | None = None
        with self._lock:
            self._misses.pop(key, None)
            self._counts["refreshes"] += int(refreshed)
            self._served_by[entry.backend] = self._served_by.get(entry.backend, 0) + 1
            if key not in self._entries and len(self._entries) >= self.max_entries:
                oldest = next(iter(self._entries))
                del self._entries[oldest]
                self._counts["evictions"] += 1
            self._entries.pop(key, None)  # re-insert at the end: eviction takes the longest-unrefreshed
            self._entries[key] = entry
            if (
                previous is not None
                and previous.backend == entry.backend  # a fallback copy's version is not comparable
                and previous.version is not None
                and previous.version != entry.version
            ):
                event = self._rotation(key, previous, entry)
        if event is not None:
            self._notify(event)

    def _rotation(self, key: str, previous: Entry, entry: Entry) -> RotationEvent:
        staleness = None if entry.created_epoch is None else max(0.0, time.time() - entry.created_epoch)
        self._counts["rotations"] += 1
        if staleness is not None:
            self._last_staleness = staleness
            self._max_staleness = max(self._max_staleness or 0.0, staleness)
        return RotationEvent(key, previous.version, entry.version, entry.backend, staleness)

    def _notify(self, event: RotationEvent) -> None:
        for reference, callback in list(self._callbacks):
            if reference is not None and reference != event.reference:
                continue
            try:
                callback(event)
            except Exception as error:
                log.warning(
                    "candlefish-secrets: an on_rotate callback for %s raised %s",
                    event.reference,
                    type(error).__name__,
                )

    def _remember_miss(self, key: str, error: SecretsError) -> None:
        previous = self._misses.get(key)
        failures = previous.failures + 1 if previous else 1
        self._misses[key] = _Miss(type(error), str(error), self.clock() + self._backoff(failures), failures)

    def _backoff(self, failures: int) -> float:
        delay = min(self.max_backoff_s, self.negative_ttl_s * 2 ** (failures - 1))
        return float(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not cryptography

    # --- control -------------------------------------------------------------------------------------

    def on_rotate(self, callback: RotateCallback, reference: str | None = None) -> None:
        """Call `callback` when a refresh finds a new version (of `reference`, or of any reference)."""
        with self._lock:
            self._callbacks.append((reference, callback))

    def set_soft_ttl(self, key: str, seconds: float) -> None:
        """Give one reference its own soft TTL (from its next fetch or refresh on)."""
        if not 0 < seconds <= self.max_staleness_s:
            raise ValueError(f"soft TTL for {key}: {seconds} s is not within (0, {self.max_staleness_s:g}] s")
        with self._lock:
            self._soft_ttls[key] = seconds

    def invalidate(self, key: str | None = None) -> None:
        """Forget one reference (or everything), including cached failures."""
        with self._lock:
            if key is None:
                self._entries.clear()
                self._misses.clear()
            else:
                self._entries.pop(key, None)
                self._misses.pop(key, None)

    def refetch_once(self, key: str, seen: str, loader: Loader, *, recent_s: float = 1.0) -> Entry:
        """The value after `seen` was refused: fetched once however many callers report the same value.

        Concurrent reports share one fetch; a report arriving after the value changed, or within `recent_s`
        of the last fetch, gets the cached entry without another one.
        """
        entry = self._entries.get(key)
        if entry is not None and (entry.value != seen or self.clock() - entry.fetched_at < recent_s):
            return entry
        with self._lock:
            self._misses.pop(key, None)
        return self._load(key, loader, entry)

    def entry(self, key: str) -> Entry | None:
        """The cached entry for `key`, fresh or not (for status and tests); no counters change."""
        return self._entries.get(key)

    def stats(self) -> CacheStats:
        now = self.clock()
        with self._lock:
            ages = [now - entry.fetched_at for entry in self._entries.values()]
            return CacheStats(
                hits=int(repr(self.hit_counter)[len("count(") : -1]),  # reading does not advance it
                entries=len(self._entries),
                oldest_entry_age_s=max(ages, default=0.0),
                served_by=dict(self._served_by),
                last_rotation_staleness_s=self._last_staleness,
                max_rotation_staleness_s=self._max_staleness,
                **self._counts,
            )

    def close(self) -> None:
        self._refresher.shutdown(wait=False, cancel_futures=True)


def _safe(error: BaseException) -> str:
    """An error's text if it is one of ours (whose messages hold no values), else only its type."""
    return str(error) if isinstance(error, SecretsError) else type(error).__name__
