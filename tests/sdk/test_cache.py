"""The cache alone, with a controlled clock and loader: TTLs, single flight, backoff, bounds, rotation."""

import threading
import time

import pytest
from candlefish_secrets import AccessDenied, SecretNotFound, VaultUnavailable
from candlefish_secrets.cache import Entry, RotationEvent, SecretCache

from tests.sdk.conftest import wait_for


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Source:
    """A loader whose value, version and failures the test sets; counts its calls."""

    def __init__(self, clock, value="example-not-a-secret-1", version=1):
        self.clock = clock
        self.value = value
        self.version = version
        self.calls = 0
        self.version_checks = 0
        self.fail: Exception | None = None
        self.gate: threading.Event | None = None
        self.created_epoch = None

    def __call__(self, key, previous):
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        if previous is not None and previous.version == self.version:
            self.version_checks += 1
            return previous
        return Entry(self.value, self.version, "vault", self.clock(), created_epoch=self.created_epoch)


@pytest.fixture
def clock():
    return Clock()


def make_cache(clock, **options):
    return SecretCache(clock=clock, soft_ttl_s=300, max_staleness_s=3600, **options)


def test_a_hit_within_the_soft_ttl_returns_the_same_object_without_the_loader(clock):
    cache, source = make_cache(clock), Source(clock)
    first = cache.get("vault://a", source)
    clock.now += 299
    assert cache.get("vault://a", source) is first
    assert source.calls == 1
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (1, 1)


def test_past_the_soft_ttl_the_old_value_is_served_while_one_background_refresh_runs(clock):
    cache, source = make_cache(clock), Source(clock)
    cache.get("vault://a", source)
    source.value, source.version = "example-not-a-secret-2", 2
    source.gate = threading.Event()
    clock.now += 301
    served = [cache.get("vault://a", source).value for _ in range(50)]
    assert served == ["example-not-a-secret-1"] * 50  # never blocked, never a second refresh
    source.gate.set()
    wait_for(lambda: cache.entry("vault://a").value == "example-not-a-secret-2")
    assert source.calls == 2
    assert cache.stats().stale_serves == 50


def test_a_refresh_that_finds_the_same_version_keeps_the_entry(clock):
    cache, source = make_cache(clock), Source(clock)
    entry = cache.get("vault://a", source)
    clock.now += 301
    cache.get("vault://a", source)
    wait_for(lambda: cache.entry("vault://a").fresh_until > clock.now)
    assert cache.entry("vault://a") is entry
    assert source.version_checks == 1
    assert cache.stats().rotations == 0


def test_past_the_hard_maximum_the_value_is_not_served_and_a_failure_is_raised(clock):
    cache, source = make_cache(clock), Source(clock)
    cache.get("vault://a", source)
    source.fail = VaultUnavailable("vault://a: Vault unreachable")
    clock.now += 3601
    with pytest.raises(VaultUnavailable, match="unreachable"):
        cache.get("vault://a", source)


def test_a_failed_refresh_keeps_serving_and_backs_off(clock):
    cache, source = make_cache(clock, negative_ttl_s=10), Source(clock)
    cache.get("vault://a", source)
    source.fail = VaultUnavailable("down")
    clock.now += 301
    assert cache.get("vault://a", source).value == "example-not-a-secret-1"
    wait_for(lambda: cache.stats().refresh_errors == 1)
    wait_for(lambda: not cache.entry("vault://a").refreshing)
    cache.get("vault://a", source)  # within the backoff: no new refresh
    assert source.calls == 2
    clock.now += 10.1  # past the largest jittered first backoff (10 s)
    cache.get("vault://a", source)
    wait_for(lambda: cache.stats().refresh_errors == 2)
    assert source.calls == 3


def test_a_refresh_that_finds_the_secret_gone_or_denied_stops_serving_it(clock):
    cache, source = make_cache(clock), Source(clock)
    cache.get("vault://a", source)
    source.fail = AccessDenied("vault://a: permission denied")
    clock.now += 301
    cache.get("vault://a", source)
    wait_for(lambda: cache.entry("vault://a") is None)
    with pytest.raises(AccessDenied, match="permission denied"):
        cache.get("vault://a", source)
    assert source.calls == 2  # the failure itself is cached


def test_misses_are_cached_with_a_jittered_exponential_backoff(clock):
    cache, source = make_cache(clock, negative_ttl_s=2, max_backoff_s=8), Source(clock)
    source.fail = SecretNotFound("vault://missing: not found")
    delays = []
    for _ in range(5):
        with pytest.raises(SecretNotFound):
            cache.get("vault://missing", source)
        calls = source.calls
        with pytest.raises(SecretNotFound, match="not found"):
            cache.get("vault://missing", source)  # answered from the negative cache
        assert source.calls == calls
        retry_at = cache._misses["vault://missing"].retry_at
        delays.append(retry_at - clock.now)
        clock.now = retry_at + 0.001
    caps = [2, 4, 8, 8, 8]
    assert all(cap / 2 <= delay <= cap for delay, cap in zip(delays, caps, strict=True)), delays
    assert cache.stats().negative_hits == 5


def test_the_jitter_spreads_retries_of_many_keys(clock):
    cache = make_cache(clock, negative_ttl_s=4)
    source = Source(clock)
    source.fail = VaultUnavailable("down")
    for index in range(40):
        with pytest.raises(VaultUnavailable):
            cache.get(f"vault://k{index}", source)
    retry_times = {round(miss.retry_at, 6) for miss in cache._misses.values()}
    assert len(retry_times) > 30


def test_concurrent_misses_of_one_key_share_one_fetch(clock):
    cache, source = make_cache(clock), Source(clock)
    source.gate = threading.Event()
    results, errors = [], []

    def read():
        try:
            results.append(cache.get("vault://a", source).value)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(64)]
    for thread in threads:
        thread.start()
    wait_for(lambda: "vault://a" in cache._flights)
    time.sleep(0.05)
    source.gate.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert results == ["example-not-a-secret-1"] * 64
    assert source.calls == 1
    assert cache.stats().misses == 1


def test_waiters_on_a_failed_fetch_get_the_same_error_type(clock):
    cache, source = make_cache(clock), Source(clock)
    source.gate = threading.Event()
    source.fail = AccessDenied("vault://a: permission denied")
    errors = []

    def read():
        try:
            cache.get("vault://a", source)
        except AccessDenied as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait_for(lambda: "vault://a" in cache._flights)
    time.sleep(0.05)
    source.gate.set()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 8
    assert source.calls == 1


def test_the_cache_is_bounded_and_evicts_the_longest_unrefreshed_entry(clock):
    cache = make_cache(clock, max_entries=3)
    source = Source(clock)
    for key in ("vault://a", "vault://b", "vault://c", "vault://d"):
        cache.get(key, source)
    assert cache.entry("vault://a") is None
    assert [cache.entry(k) is not None for k in ("vault://b", "vault://c", "vault://d")] == [True] * 3
    stats = cache.stats()
    assert (stats.entries, stats.evictions) == (3, 1)


def test_a_new_version_calls_on_rotate_with_the_measured_staleness(clock):
    cache, source = make_cache(clock), Source(clock)
    events: list[RotationEvent] = []
    other: list[RotationEvent] = []
    cache.on_rotate(events.append, "vault://a")
    cache.on_rotate(other.append, "vault://other")
    cache.get("vault://a", source)
    source.value, source.version = "example-not-a-secret-2", 2
    source.created_epoch = time.time() - 42
    clock.now += 301
    cache.get("vault://a", source)
    wait_for(lambda: events)
    event = events[0]
    assert (event.reference, event.old_version, event.new_version, event.backend) == (
        "vault://a",
        1,
        2,
        "vault",
    )
    assert event.staleness_s is not None
    assert 42 <= event.staleness_s < 60
    assert other == []
    stats = cache.stats()
    assert stats.rotations == 1
    assert stats.max_rotation_staleness_s == pytest.approx(event.staleness_s)


def test_a_raising_callback_does_not_stop_the_others(clock, caplog):
    cache, source = make_cache(clock), Source(clock)
    seen: list[RotationEvent] = []

    def broken(event):
        raise RuntimeError("callback bug")

    cache.on_rotate(broken)
    cache.on_rotate(seen.append)
    cache.get("vault://a", source)
    source.version = 2
    clock.now += 3601  # expired: the next read fetches inline
    cache.get("vault://a", source)
    assert len(seen) == 1
    assert "on_rotate callback for vault://a raised RuntimeError" in caplog.text


def test_a_refused_credential_is_refetched_once_for_every_caller_that_saw_it(clock):
    cache, source = make_cache(clock), Source(clock)
    old = cache.get("vault://a", source).value
    source.value, source.version = "example-not-a-secret-2", 2
    clock.now += 5
    new = [cache.refetch_once("vault://a", old, source).value for _ in range(5)]
    assert new == ["example-not-a-secret-2"] * 5
    assert source.calls == 2


def test_a_refused_value_that_is_still_current_is_refetched_at_most_once_a_second(clock):
    cache, source = make_cache(clock), Source(clock)
    seen = cache.get("vault://a", source).value
    clock.now += 5
    source.version = 2  # the server has a new version, with the same value, and keeps refusing it
    for _ in range(3):
        cache.refetch_once("vault://a", seen, source)
    assert source.calls == 2
    clock.now += 1.5
    cache.refetch_once("vault://a", seen, source)
    assert source.calls == 3


def test_a_value_served_by_another_backend_is_not_a_rotation(clock):
    cache, source = make_cache(clock), Source(clock)
    events: list[RotationEvent] = []
    cache.on_rotate(events.append)
    fallback = Source(clock, version="sm-version-id")

    def from_fallback(key, previous):
        entry = fallback(key, previous)
        entry.backend = "aws-sm-fallback"
        return entry

    cache.get("vault://a", from_fallback)
    clock.now += 3601
    cache.get("vault://a", source)  # Vault is back: its version number is not comparable
    assert events == []
    assert cache.stats().served_by == {"aws-sm-fallback": 1, "vault": 1}


def test_hits_are_counted_exactly_across_threads(clock):
    cache, source = make_cache(clock), Source(clock)
    cache.get("vault://a", source)

    def read():
        for _ in range(5000):
            cache.get("vault://a", source)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.stats().hits == 40000


def test_entries_never_show_their_value():
    entry = Entry("example-not-a-secret", 3, "vault", 0.0)
    assert "example-not-a-secret" not in repr(entry)
    assert "***" in repr(entry)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"soft_ttl_s": 0}, "0 < soft_ttl_s <= max_staleness_s"),
        ({"soft_ttl_s": 10, "max_staleness_s": 5}, "0 < soft_ttl_s <= max_staleness_s"),
        ({"max_entries": 0}, "max_entries must be at least 1"),
    ],
)
def test_bad_settings_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        SecretCache(**options)


def test_one_reference_can_have_its_own_soft_ttl(clock):
    cache, source = make_cache(clock), Source(clock)
    cache.set_soft_ttl("vault://short", 10)
    cache.get("vault://short", source)
    cache.get("vault://default", source)
    clock.now += 11
    assert cache.fresh("vault://short") is None
    assert cache.fresh("vault://default") is not None
    with pytest.raises(ValueError, match=r"soft TTL for vault://x: 7200 s is not within \(0, 3600\] s"):
        cache.set_soft_ttl("vault://x", 7200)
