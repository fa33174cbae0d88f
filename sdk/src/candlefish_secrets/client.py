"""`SecretsClient`: resolve references through the cache, from Vault or Secrets Manager.

`get` for one reference, `get_json` for a JSON document, `resolve_env` for a whole environment (a new
mapping; the caller's is not touched), `aget` / `aget_json` for asyncio code.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from candlefish_secrets import references
from candlefish_secrets.auth import VaultAuth, auth_from_env
from candlefish_secrets.aws import Fallback, SecretsManagerReader, parse_names
from candlefish_secrets.cache import UNPARSED, CacheStats, Entry, RotateCallback, SecretCache
from candlefish_secrets.errors import (
    AccessDenied,
    ConfigurationError,
    SecretsError,
    VaultUnavailable,
)
from candlefish_secrets.values import parse_json, pick_field, pick_from_string
from candlefish_secrets.vault import DEFAULT_POOL_SIZE, VaultSession

log = logging.getLogger("candlefish_secrets")
VAULT, AWS_SM, FALLBACK = "vault", "aws-sm", "aws-sm-fallback"


class SecretsClient:
    """Reads secrets by reference, with one shared cache for sync and asyncio callers."""

    def __init__(
        self,
        *,
        vault: VaultSession | None = None,
        secrets_manager: SecretsManagerReader | None = None,
        kv_mount: str = "secret",
        fallback: Fallback | None = None,
        cache: SecretCache | None = None,
        version_checks: bool = True,
    ) -> None:
        self._vault = vault
        self._sm = secrets_manager or SecretsManagerReader()
        self.kv_mount = kv_mount.strip("/")
        self.fallback = fallback
        self.cache = cache or SecretCache()
        self._entries = self.cache.entries
        self._clock = self.cache.clock
        self._hits = self.cache.hit_counter
        self._version_checks = {VAULT: version_checks, AWS_SM: version_checks}
        self._outage = False
        self._outage_lock = threading.Lock()
        self._fallback_paths: dict[str, str | None] = {}
        self.fallback_reads = 0
        self.outages = 0

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        auth: VaultAuth | None = None,
        **cache_options: Any,
    ) -> SecretsClient:
        """A client configured from environment variables (see the SDK README for the full list)."""
        env = os.environ if environ is None else environ
        vault: VaultSession | None = None
        address = env.get("VAULT_ADDR", "")
        if address:
            if not address.startswith(("http://", "https://")):
                raise ConfigurationError(f"VAULT_ADDR={address!r} is not an http(s) URL")
            verify: bool | str = env.get("VAULT_CACERT") or True
            vault = VaultSession(
                address,
                auth or auth_from_env(env),
                verify=verify,
                timeout_s=_float(env, "CANDLEFISH_VAULT_TIMEOUT", 5.0),
                pool_size=_count(env, "CANDLEFISH_VAULT_POOL_SIZE", DEFAULT_POOL_SIZE),
            )
        fallback = None
        if env.get("CANDLEFISH_FALLBACK_ENV"):
            fallback = Fallback(
                env["CANDLEFISH_FALLBACK_ENV"], names=parse_names(env.get("CANDLEFISH_FALLBACK_NAMES", ""))
            )
        soft_ttl = _float(env, "CANDLEFISH_CACHE_TTL", cache_options.pop("soft_ttl_s", 300.0))
        max_staleness = _float(
            env, "CANDLEFISH_CACHE_MAX_STALENESS", cache_options.pop("max_staleness_s", 3600.0)
        )
        if max_staleness < soft_ttl:
            raise ConfigurationError(
                f"CANDLEFISH_CACHE_MAX_STALENESS={max_staleness:g} is below "
                f"CANDLEFISH_CACHE_TTL={soft_ttl:g}; the hard maximum must be at least the soft TTL"
            )
        cache = SecretCache(soft_ttl_s=soft_ttl, max_staleness_s=max_staleness, **cache_options)
        return cls(
            vault=vault,
            secrets_manager=SecretsManagerReader(
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            ),
            kv_mount=env.get("CANDLEFISH_KV_MOUNT", "secret"),
            fallback=fallback,
            cache=cache,
        )

    def __repr__(self) -> str:
        return f"SecretsClient(vault={self._vault!r}, kv_mount={self.kv_mount!r}, fallback={self.fallback!r})"

    def __enter__(self) -> SecretsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------------------

    def get(self, reference: str) -> str:
        """The value `reference` names (a plain value is returned as it is)."""
        # The hit path, inlined: one dict lookup, one clock read, one counter step; no lock, no copy.
        entry = self._entries.get(reference)
        if entry is not None and entry.fresh_until > self._clock():
            next(self._hits)
            return entry.value
        if not references.is_reference(reference):
            return reference
        return self.cache.get(reference, self._load).value

    def get_json(self, reference: str) -> Any:
        """The value parsed as JSON, read-only (mappings are `MappingProxyType`, lists are tuples)."""
        entry = self._entry(reference)
        document = entry.document
        if document is UNPARSED:
            document = entry.document = parse_json(entry.value, reference)
        return document

    async def aget(self, reference: str) -> str:
        """`get` for asyncio: a cached value (fresh, or stale while it refreshes in the background) returns
        at once on the loop. A `vault://` miss is read on the loop itself, without a thread, when nothing
        else fetches it and the answer is a plain 200; every other fetch (waiting for another caller's,
        a token due for renewal, any failure, `aws-sm://`) runs in a worker thread."""
        entry = self._entries.get(reference)
        if entry is not None and entry.expires_at > self._clock():
            return self.get(reference)  # never blocks: a hit, or a stale serve that queues a refresh
        if not references.is_reference(reference):
            return reference
        if entry is None:
            fetched = await self._aload_vault(reference)
            if fetched is not None:
                return fetched.value
        return await asyncio.to_thread(self.get, reference)

    async def _aload_vault(self, text: str) -> Entry | None:
        """A `vault://` miss fetched on the event loop, stored in the shared cache; None: not this way."""
        if self._vault is None or not text.startswith("vault://"):
            return None
        flight = self.cache.lead_flight(text)
        if flight is None:
            return None
        entry: Entry | None = None
        try:
            reference = references.require(text)
            read = await self._vault.akv_read(self.kv_mount, reference.path, reference.version)
            if read is not None:
                value = pick_field(read.data, reference.field, reference.text)
                entry = Entry(value, read.version, VAULT, self._clock(), created_epoch=read.created_epoch)
                self._vault_back()
        except SecretsError:
            entry = None  # the synchronous fetch raises it again, and caches the failure
        finally:
            self.cache.land_flight(text, flight, entry)
        return entry

    async def aget_json(self, reference: str) -> Any:
        """`get_json` for asyncio (the same rules as `aget`)."""
        await self.aget(reference)
        return self.get_json(reference)

    def resolve_env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """A new mapping with every reference resolved; all failures are reported together, by variable."""
        source = os.environ if environ is None else environ
        resolved: dict[str, str] = {}
        failures: list[tuple[str, SecretsError]] = []
        for name, value in source.items():
            if not references.is_reference(value):
                resolved[name] = value
                continue
            try:
                resolved[name] = self.get(value)
            except SecretsError as error:
                failures.append((name, error))
        if failures:
            first = failures[0][1]
            message = "; ".join(f"{name}: {error}" for name, error in failures)
            raise type(first)(message, reference=first.reference)
        return resolved

    def describe(self, reference: str) -> dict[str, Any]:
        """Where the cached value of `reference` came from (backend, version, age); no value."""
        entry = self._entry(reference)
        return {
            "reference": reference,
            "backend": entry.backend,
            "version": entry.version,
            "age_s": round(self.cache.clock() - entry.fetched_at, 3),
        }

    def _entry(self, reference: str) -> Entry:
        references.require(reference)
        return self.cache.get(reference, self._load)

    # --- rotation ------------------------------------------------------------------------------------

    def on_rotate(self, callback: RotateCallback, reference: str | None = None) -> None:
        """Call `callback(RotationEvent)` when a refresh finds a new version (of `reference`, or any)."""
        self.cache.on_rotate(callback, reference)

    def credential_refused(self, reference: str, refused_value: str) -> str:
        """Call when a server refused `refused_value`: the current value, fetched once for all callers."""
        return self.cache.refetch_once(reference, refused_value, self._load).value

    def set_ttl(self, reference: str, soft_ttl_s: float) -> None:
        """A soft TTL for this reference only (a frequently rotated credential, a rarely changed key)."""
        references.require(reference)
        try:
            self.cache.set_soft_ttl(reference, soft_ttl_s)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None

    def invalidate(self, reference: str | None = None) -> None:
        """Forget the cached value (and cached failure) of one reference, or of all."""
        self.cache.invalidate(reference)

    # --- loading (called by the cache on a miss or a refresh) -----------------------------------------

    def _load(self, key: str, previous: Entry | None) -> Entry:
        reference = references.require(key)
        if reference.scheme == "aws-sm":
            return self._load_sm(reference, previous)
        return self._load_vault(reference, previous)

    def _unchanged(self, backend: str, previous: Entry | None, current: Any) -> bool:
        return previous is not None and previous.backend == backend and previous.version == current

    def _load_vault(self, reference: references.Reference, previous: Entry | None) -> Entry:
        if self._vault is None:
            raise ConfigurationError(f"{reference.text}: no Vault address; set VAULT_ADDR")
        if previous is not None and previous.backend == VAULT and reference.pinned:
            return previous  # a pinned version never changes
        try:
            if self._version_checks[VAULT] and previous is not None and previous.backend == VAULT:
                try:
                    current = self._vault.kv_current_version(self.kv_mount, reference.path)
                    if self._unchanged(VAULT, previous, current):
                        self._vault_back()
                        return previous
                except AccessDenied:
                    self._version_checks[VAULT] = False  # the policy denies metadata: read values instead
            read = self._vault.kv_read(self.kv_mount, reference.path, reference.version)
        except VaultUnavailable as error:
            if self.fallback is None or reference.pinned:
                raise
            return self._load_fallback(reference, error)
        self._vault_back()
        value = pick_field(read.data, reference.field, reference.text)
        return Entry(value, read.version, VAULT, self.cache.clock(), created_epoch=read.created_epoch)

    def _load_sm(self, reference: references.Reference, previous: Entry | None) -> Entry:
        if previous is not None and reference.version_id is not None:
            return previous
        if self._version_checks[AWS_SM] and previous is not None and previous.backend == AWS_SM:
            try:
                current = self._sm.version_for_stage(reference.path, reference.stage or "AWSCURRENT")
                if self._unchanged(AWS_SM, previous, current):
                    return previous
            except AccessDenied:
                self._version_checks[AWS_SM] = False
        read = self._sm.read(reference.path, stage=reference.stage, version_id=reference.version_id)
        value = pick_from_string(read.secret_string, reference.field, reference.text)
        return Entry(value, read.version_id, AWS_SM, self.cache.clock(), created_epoch=read.created_epoch)

    def _load_fallback(self, reference: references.Reference, cause: VaultUnavailable) -> Entry:
        assert self.fallback is not None
        secret_id = self._fallback_secret(reference.path)
        if secret_id is None:
            raise VaultUnavailable(
                f"{cause}; no Secrets Manager copy is known for {reference.path} (map it in "
                "CANDLEFISH_FALLBACK_NAMES as <kv path>=<catalog name>)",
                reference=reference.text,
            )
        with self._outage_lock:
            first = not self._outage
            self._outage = True
            self.fallback_reads += 1
            if first:
                self.outages += 1
        if first:
            log.warning(
                "candlefish-secrets: Vault unavailable (%s); reading the catalog's Secrets Manager copies "
                "until it is back",
                cause,
            )
        read = self._sm.read(secret_id, where=f"{reference.text} (fallback {secret_id})")
        value = pick_from_string(read.secret_string, _sm_field(reference.field), reference.text)
        return Entry(value, read.version_id, FALLBACK, self.cache.clock(), created_epoch=read.created_epoch)

    def _fallback_secret(self, path: str) -> str | None:
        assert self.fallback is not None
        name = self.fallback.name_for(path)
        if name is not None or not self.fallback.discover_by_tag:
            return name
        if path not in self._fallback_paths:
            try:
                found = self._sm.find_by_tag(self.fallback.prefix, "VaultPath", path)
            except SecretsError as error:
                log.warning("candlefish-secrets: looking up the fallback for %s failed: %s", path, error)
                return None
            self._fallback_paths[path] = found
        return self._fallback_paths[path]

    def _vault_back(self) -> None:
        if self._outage:
            with self._outage_lock:
                was_down, self._outage = self._outage, False
            if was_down:
                log.warning("candlefish-secrets: Vault is reachable again; fallback reads stopped")

    # --- status --------------------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        return self.cache.stats()

    def status(self) -> dict[str, Any]:
        """Who the client is in Vault, whether Vault answers, the token's TTL and the cache's counters."""
        report: dict[str, Any] = {"vault": None, "cache": vars_of(self.stats())}
        report["fallback"] = {
            "outages": self.outages,
            "reads": self.fallback_reads,
            "in_outage": self._outage,
        }
        if self._vault is None:
            return report
        vault: dict[str, Any] = {"address": self._vault.address}
        try:
            health = self._vault.health()
            vault.update(
                reachable=True,
                sealed=health.get("sealed"),
                standby=health.get("standby"),
                version=health.get("version"),
            )
        except SecretsError as error:
            vault.update(reachable=False, error=str(error))
        if vault.get("reachable") and not vault.get("sealed"):
            try:
                token = self._vault.token_state()
                vault["token"] = {
                    "auth_method": token.method,
                    "display_name": token.display_name,
                    "policies": list(token.policies),
                    "ttl_s": None if token.ttl_s is None else round(token.ttl_s),
                    "renewable": token.renewable,
                    "logins": token.logins,
                    "renewals": token.renewals,
                }
            except SecretsError as error:
                vault["token_error"] = str(error)
        report["vault"] = vault
        return report

    def close(self) -> None:
        self.cache.close()
        if self._vault is not None:
            self._vault.close()


def _sm_field(field: str | None) -> str | None:
    """The catalog's Vault `value` key is the whole Secrets Manager string."""
    return None if field == "value" else field


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigurationError(f"{name}={raw!r} must be greater than 0")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name}={raw!r} must be a whole number of at least 1")
    return int(raw)


def vars_of(stats: CacheStats) -> dict[str, Any]:
    return {name: getattr(stats, name) for name in stats.__dataclass_fields__}
