"""Creates, rotates, caches and retires signing keys (Duende ``DefaultKeyManager``).

Lifecycle of a key: announced (in JWKS, not signing) for ``propagation_time``; signs until it is
``rotation_interval`` old; stays in JWKS for ``retention_duration`` more; then it is retired and deleted.
A new key is created while the youngest key still has ``propagation_time`` to live, so the successor is
announced long enough before it signs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtector
from identityserver.models.keys import KeyContainer, SerializedKey
from identityserver.options import KeyManagementOptions
from identityserver.services.key_management.serializer import deserialize_key, generate_key, serialize_key
from identityserver.stores.protocols import SigningKeyStore
from identityserver.telemetry import KEY_ROTATIONS

logger = logging.getLogger("identityserver.keys")


def options_problem(options: KeyManagementOptions) -> tuple[str, str] | None:
    """The first invalid ``KeyManagementOptions`` field and what is wrong with it, or ``None``."""
    from identityserver.constants import SUPPORTED_SIGNING_ALGORITHMS
    from identityserver.crypto.jwk import MAX_RSA_BITS, MIN_RSA_BITS

    if not options.signing_algorithms:
        return "signing_algorithms", "must name at least one algorithm"
    for alg in options.signing_algorithms:
        if alg not in SUPPORTED_SIGNING_ALGORITHMS:
            supported = ", ".join(SUPPORTED_SIGNING_ALGORITHMS)
            return "signing_algorithms", f"unsupported algorithm {alg!r} (use {supported})"
    if len(set(options.signing_algorithms)) != len(options.signing_algorithms):
        return "signing_algorithms", "lists an algorithm twice"
    for name in ("propagation_time", "rotation_interval", "retention_duration"):
        if getattr(options, name) <= 0:
            return name, "must be a positive number of seconds"
    for name in ("key_cache_duration", "initialization_duration", "initialization_key_cache_duration"):
        if getattr(options, name) < 0:
            return name, "must not be negative"
    if options.rotation_interval <= options.propagation_time:
        return "rotation_interval", "must be greater than propagation_time"
    if not MIN_RSA_BITS <= options.rsa_key_size <= MAX_RSA_BITS:
        return "rsa_key_size", f"must be between {MIN_RSA_BITS} and {MAX_RSA_BITS} bits"
    return None


class SigningKeysUnreadable(RuntimeError):
    """The store holds live keys of an algorithm that this server cannot read, and none that it can.

    A new key would be one that the servers reading the others do not publish, so that their tokens and this
    server's would not validate on each other's JWKS (security.md F6): the manager refuses to create it."""

    def __init__(self, algorithm: str, unreadable: list[SerializedKey]) -> None:
        self.algorithm = algorithm
        self.unreadable = unreadable
        self.key_ids = [key.id for key in unreadable]
        kids = ", ".join(self.key_ids)
        super().__init__(
            f"the signing-key store holds {len(self.key_ids)} live {algorithm} key(s) that this server cannot read "
            f"({kids}) and none that it can, so it creates no new one: check that [options.data_protection] "
            "application_name and the key-encryption key are those of the servers that created them; if those "
            "keys are lost for good, remove them with `identityserver keys retire <kid> --yes`"
        )


REFUSAL_RETRY_SECONDS = 5.0
"""Seconds a :class:`SigningKeysUnreadable` refusal is answered from memory before the store is read again: a node in
that state would otherwise read the store and log the refusal for every request."""


def validate_options(options: KeyManagementOptions) -> None:
    problem = options_problem(options)
    if problem is not None:
        raise ValueError(f"key_management.{problem[0]} {problem[1]}")


class DefaultKeyManager:
    """The default ``KeyManager`` (Duende ``KeyManager``): one signing key per configured algorithm, created, rotated
    and retired automatically, encrypted at rest; override a step to change the policy."""

    def __init__(
        self,
        options: KeyManagementOptions,
        store: SigningKeyStore,
        protector: DataProtector | None,
        clock: Clock,
        lock: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        validate_options(options)
        self.options = options
        self.store = store
        self.protector = protector if options.data_protect_keys else None
        self.clock = clock
        self._cross_process_lock = lock
        self._local_lock = asyncio.Lock()
        self._cache: list[KeyContainer] | None = None
        self._cache_expires = 0.0
        self._current: list[KeyContainer] | None = None
        self._current_expires = 0.0
        self._refresh_task: asyncio.Future[list[KeyContainer]] | None = None
        self._parsed: dict[tuple[str, str], KeyContainer] = {}
        """Keys already decrypted and parsed, by (id, stored data): a reload only parses new keys."""
        self._unreadable: list[SerializedKey] = []
        """The stored keys that the last reload could not read and that are not retired (by their stored date)."""
        self._refusal: tuple[SigningKeysUnreadable, float] | None = None
        """The last refusal to create a key, and until when (clock timestamp) it stands without a reload."""
        self.propagation = timedelta(seconds=options.propagation_time)
        self.rotation = timedelta(seconds=options.rotation_interval)
        self.retention = timedelta(seconds=options.retention_duration)

    # -- public API -------------------------------------------------------------------------------------

    async def get_current_keys(self) -> list[KeyContainer]:
        """The signing key of each configured algorithm, in ``signing_algorithms`` order."""
        if self._current is not None and self.clock.timestamp() < self._current_expires:
            return self._current
        keys = await self.get_all_keys()
        now = self.clock.utc_now()
        current = []
        for alg in self.options.signing_algorithms:
            key = self.get_current_signing_key(keys, alg, now)
            if key is not None:
                current.append(key)
        # the choice only changes on day boundaries of the lifecycle; recompute at most once a minute
        self._current, self._current_expires = current, min(self._cache_expires, self.clock.timestamp() + 60)
        return current

    async def get_all_keys(self) -> list[KeyContainer]:
        """All keys that are not retired: the ones to publish in JWKS.

        When the cache has expired but its keys are still good (no rotation is due), the stale keys are
        returned at once and the store is re-read in the background: token requests never queue behind a
        reload (stale-while-revalidate)."""
        if self._cache is not None and self.clock.timestamp() < self._cache_expires:
            return self._cache
        if self._cache is not None:
            now = self.clock.utc_now()
            if not self.is_key_rotation_required(self._cache, now) and not any(
                self.is_retired(k, now) for k in self._cache
            ):
                self._schedule_refresh()
                return self._cache
        return await self.refresh_keys()

    async def refresh_keys(self, force: bool = False) -> list[KeyContainer]:
        """Re-read the store, create keys that are due, and re-fill the cache (``force``: even while the cache is
        fresh). When that fails, the cached keys stay as they were, except after a refusal."""
        async with self._local_lock:
            now = self.clock.utc_now()
            if not force and self._cache is not None and self.clock.timestamp() < self._cache_expires:
                return self._cache
            if self._refusal is not None and self.clock.timestamp() < self._refusal[1]:
                refused = self._refusal[0]  # a new exception each time: re-raising one would grow its traceback
                raise SigningKeysUnreadable(refused.algorithm, refused.unreadable)
            self._refusal = None
            keys = await self.get_keys_from_store(now)
            try:
                if self.is_key_rotation_required(keys, now):
                    async with self._lock():
                        keys = await self.get_keys_from_store(now)
                        if self.is_key_rotation_required(keys, now):
                            for alg in self._algorithms_needing_a_key(keys, now):
                                self.check_readable(alg, keys, now)
                                keys.append(await self.create_and_store_new_key(alg, now))
            except SigningKeysUnreadable as refusal:
                self._refusal = (refusal, self.clock.timestamp() + REFUSAL_RETRY_SECONDS)
                # fail closed: the cached keys (kept while the store seemed fine) may be gone from the store, so
                # that signing with them would make tokens other nodes no longer publish the key of
                self._cache, self._current = None, None
                raise
            self._cache_keys(keys, now)
            return keys

    async def reload_keys(self) -> list[KeyContainer]:
        """Read the store again now, whatever the cache's age (a key another node made: ``KeyMaterialService``);
        when the read fails, the cached keys stay."""
        return await self.refresh_keys(force=True)

    def _schedule_refresh(self) -> None:
        if self._refresh_task is not None and not self._refresh_task.done():
            return
        self._refresh_task = asyncio.ensure_future(self.refresh_keys())
        self._refresh_task.add_done_callback(self._refresh_done)

    @staticmethod
    def _refresh_done(task: asyncio.Future[list[KeyContainer]]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if not isinstance(task.exception(), SigningKeysUnreadable):  # that one was logged where it was decided
            logger.error("refreshing signing keys failed: %s", task.exception())

    def invalidate_cache(self) -> None:
        """Forget cached keys and a standing refusal (the next call reloads from the store)."""
        self._cache, self._current, self._refusal = None, None, None

    # -- steps (overridable) ----------------------------------------------------------------------------

    async def get_keys_from_store(self, now: datetime) -> list[KeyContainer]:
        """The readable, unretired keys in the store (deleting retired ones when ``delete_retired_keys``); an unreadable
        key is logged and skipped."""
        keys: list[KeyContainer] = []
        parsed: dict[tuple[str, str], KeyContainer] = {}
        unreadable: list[SerializedKey] = []
        for stored in await self.store.load_keys():
            cache_key = (stored.id, stored.data)
            key = self._parsed.get(cache_key)
            if key is None:
                try:
                    key = await deserialize_key(stored, self.protector)
                except Exception as exc:  # an unreadable key is skipped, never fatal (security.md item 148)
                    logger.error("skipping signing key %s: %s", stored.id, exc)
                    created = stored.created if stored.created.tzinfo else stored.created.replace(tzinfo=UTC)
                    if not self._retired_at(created, now):
                        unreadable.append(stored)
                    continue
            parsed[cache_key] = key
            if self.is_retired(key, now):
                if self.options.delete_retired_keys:
                    await self.store.delete_key(key.id)
                continue
            keys.append(key)
        self._parsed = parsed
        self._unreadable = unreadable
        keys.sort(key=lambda k: k.created)
        return keys

    def check_readable(self, algorithm: str, keys: list[KeyContainer], now: datetime) -> None:
        """Raise :class:`SigningKeysUnreadable` when no key of ``keys`` may sign with ``algorithm`` while the last
        reload skipped live keys of it: the case where a new key would split the deployment's JWKS (security.md
        F6 and item 148). A readable key that can still sign, or no unreadable one, lets a key be created."""
        unreadable = [k for k in self._unreadable if k.algorithm == algorithm]
        if not unreadable:
            return
        usable = [k for k in keys if k.algorithm == algorithm and not self.is_expired(k, now)]
        if self.get_current_signing_key(usable, algorithm, now) is None:
            refusal = SigningKeysUnreadable(algorithm, unreadable)
            logger.critical("%s", refusal)
            raise refusal

    async def create_and_store_new_key(self, algorithm: str, now: datetime) -> KeyContainer:
        """Generate a key for ``algorithm`` (off the event loop), store it encrypted and return it."""
        key = await asyncio.to_thread(generate_key, algorithm, now, self.options.rsa_key_size)
        stored = await serialize_key(key, self.protector)
        await self.store.store_key(stored)
        self._parsed[(stored.id, stored.data)] = key
        logger.info("created signing key %s (%s)", key.id, algorithm)
        KEY_ROTATIONS.add(1, {"algorithm": algorithm})
        return key

    def is_retired(self, key: KeyContainer, now: datetime) -> bool:
        """Whether the key is past rotation and retention: no longer published."""
        return self._retired_at(key.created, now)

    def is_expired(self, key: KeyContainer, now: datetime) -> bool:
        """Whether the key is past its rotation interval: no longer used to sign."""
        return self._age(key, now) >= self.rotation

    def can_be_used_for_signing(self, key: KeyContainer, now: datetime, ignore_activation_delay: bool = False) -> bool:
        """Whether the key may sign: announced for the propagation time (unless ``ignore_activation_delay``) and not
        expired."""
        age = self._age(key, now)
        if age >= self.rotation:
            return False
        return ignore_activation_delay or age >= self.propagation

    def get_current_signing_key(self, keys: list[KeyContainer], alg: str, now: datetime) -> KeyContainer | None:
        """The oldest active key of the algorithm; on a cold start, the oldest unexpired one."""
        candidates = sorted((k for k in keys if k.algorithm == alg), key=lambda k: k.created)
        for key in candidates:
            if self.can_be_used_for_signing(key, now):
                return key
        for key in candidates:
            if self.can_be_used_for_signing(key, now, ignore_activation_delay=True):
                return key
        return None

    def is_key_rotation_required(self, keys: list[KeyContainer], now: datetime) -> bool:
        """Whether some algorithm needs a new key (none, or the youngest expires within the propagation time)."""
        return bool(self._algorithms_needing_a_key(keys, now))

    # -- internals -------------------------------------------------------------------------------------

    def _algorithms_needing_a_key(self, keys: list[KeyContainer], now: datetime) -> list[str]:
        needed = []
        for alg in self.options.signing_algorithms:
            alg_keys = [k for k in keys if k.algorithm == alg and not self.is_expired(k, now)]
            active = self.get_current_signing_key(alg_keys, alg, now)
            if active is None:
                needed.append(alg)
                continue
            youngest = max(alg_keys, key=lambda k: k.created)
            if youngest.created + self.rotation - now <= self.propagation:
                needed.append(alg)
        return needed

    def _age(self, key: KeyContainer, now: datetime) -> timedelta:
        return self._age_at(key.created, now)

    def _retired_at(self, created: datetime, now: datetime) -> bool:
        return self._age_at(created, now) >= self.rotation + self.retention

    @staticmethod
    def _age_at(created: datetime, now: datetime) -> timedelta:
        age = now - created
        return age if age > timedelta(0) else timedelta(0)  # a key "from the future" counts as new

    def _cache_keys(self, keys: list[KeyContainer], now: datetime) -> None:
        duration = min(self.options.key_cache_duration, self.options.propagation_time // 2)
        if any(self._age(k, now) < timedelta(seconds=self.options.initialization_duration) for k in keys):
            # capped too: with nodes sharing the store, a node that cached the keys just before another node
            # created one must publish it before it can sign (propagation_time), whatever the cache settings
            duration = min(self.options.initialization_key_cache_duration, self.options.propagation_time // 2)
        self._cache = keys
        # timed by the injected clock (as Duende's key cache uses ``ISystemClock``), so that the lifecycle
        # advances with the clock the rest of the manager reads
        self._cache_expires = now.timestamp() + duration
        self._current = None

    def _lock(self) -> AbstractAsyncContextManager[None]:
        if self._cross_process_lock is not None:
            return self._cross_process_lock()
        return contextlib.nullcontext()
