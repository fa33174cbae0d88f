"""Fault injection and the request log (Python-side test controls, not part of Vault's API)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Error text for injected failures, taken from what Vault itself says for that status.
DEFAULT_FAULT_MESSAGES = {
    412: "required index state not present",
    429: 'request path "{path}": rate limit quota exceeded',
    500: "internal error",
    502: "upstream error",
    503: "Vault is sealed",
}


@dataclass
class FaultRule:
    kind: str  # "fail" or "drop"
    remaining: int
    status: int = 503
    message: str | None = None
    path_prefix: str | None = None
    method: str | None = None

    def matches(self, path: str, method: str) -> bool:
        if self.path_prefix is not None and not path.startswith(self.path_prefix.lstrip("/")):
            return False
        return self.method is None or self.method.upper() == method

    def error_message(self, path: str) -> str:
        template = self.message or DEFAULT_FAULT_MESSAGES.get(
            self.status, f"injected fault (HTTP {self.status})"
        )
        return template.replace("{path}", path)


@dataclass
class LatencyRule:
    seconds: float
    path_prefix: str | None
    remaining: int | None  # None: until cleared


@dataclass(frozen=True)
class RequestRecord:
    """One served request. Never holds bodies, tokens or query values -- only what a test asserts on."""

    method: str
    path: str
    token_accessor: str | None
    status: int
    fault: str | None
    duration_ms: float


class FaultInjector:
    """Thread-safe queue of faults consumed by incoming requests, in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._latency: list[LatencyRule] = []

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        path_prefix: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a Vault-style ``errors`` body."""
        with self._lock:
            self._rules.append(FaultRule("fail", count, status, message, path_prefix, method))

    def drop_next(self, count: int = 1, *, path_prefix: str | None = None, method: str | None = None) -> None:
        """Close the connection of the next ``count`` matching requests without sending any response."""
        with self._lock:
            self._rules.append(FaultRule("drop", count, path_prefix=path_prefix, method=method))

    def add_latency(
        self, seconds: float, *, path_prefix: str | None = None, count: int | None = None
    ) -> None:
        """Delay matching requests by ``seconds`` (all of them until ``clear``, or the next ``count``)."""
        with self._lock:
            self._latency.append(LatencyRule(seconds, path_prefix, count))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._latency.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def take(self, path: str, method: str) -> tuple[float, FaultRule | None]:
        """Consume what applies to this request: a delay and at most one failure/drop rule."""
        with self._lock:
            delay = 0.0
            for latency in list(self._latency):
                if latency.path_prefix is None or path.startswith(latency.path_prefix.lstrip("/")):
                    delay += latency.seconds
                    if latency.remaining is not None:
                        latency.remaining -= 1
                        if latency.remaining <= 0:
                            self._latency.remove(latency)
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(path, method):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return delay, rule
            return delay, None


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
