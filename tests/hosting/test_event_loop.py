"""Nothing heavy runs on the event loop: argon2 password checks and key-file I/O happen in worker threads and
protected signing keys load without a second RSA check, so that one slow request never stalls the others that
the same loop serves.

The probe runs a 10 ms ticker and client_credentials token requests beside ten password logins (0.2-0.4 s of
argon2 each) and reads asyncio's debug-mode report of callbacks that held the loop for more than 50 ms. The time
the OS kept the loop's thread waiting for a CPU, on a busy machine, is left out of every measure."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from identityserver.crypto.passwords import MAX_CONCURRENT_HASHES, hash_password, verify_password
from identityserver.models.keys import KeyContainer
from identityserver.models.users import TestUser
from identityserver.options import KeyManagementOptions
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.key_management.key_manager import DefaultKeyManager
from identityserver.services.key_management.serializer import serialize_key
from identityserver.stores import file_system
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore, InMemorySigningKeyStore
from identityserver.stores.in_memory import users as in_memory_users
from tests.support.clock import FakeClock
from tests.support.data import RSA_CLIENT_KEY
from tests.support.data import test_configuration as configuration_with
from tests.support.quick import quick_builder
from tests.support.server import Server, running

LIMIT = 0.05
"""The longest the loop may be held, in seconds; one argon2 verification takes four times that or more."""
TOKEN_LATENCY_LIMIT = 2 * LIMIT
TICK = 0.01
ATTEMPTS = 3
"""Blocking work fails every attempt; a stray stall of a busy machine fails one."""

USERNAME, PASSWORD = "carol", "carol's password"
USERS = 4
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "api1"}


class RunQueueWait:
    """Seconds the calling thread has spent ready to run but waiting for a CPU (Linux schedstat; 0 elsewhere).
    On a busy machine the OS leaves the loop's thread waiting now and then: that is no work done on the loop,
    and every measurement below leaves it out."""

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def __call__(self) -> float:
        if self._fd is None:
            return 0.0
        return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class LoopReport:
    max_gap: float = 0.0
    max_token_latency: float = 0.0
    token_requests: int = 0
    slow_callbacks: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.max_gap < LIMIT and self.max_token_latency < TOKEN_LATENCY_LIMIT and not self.slow_callbacks


class _SlowCallbacks(logging.Handler):
    def __init__(self, step_wait: Callable[[], float]) -> None:
        super().__init__(logging.WARNING)
        self.step_wait = step_wait
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Executing %s took %.3f seconds" and isinstance(record.args, tuple):
            callback, seconds = record.args
            assert isinstance(seconds, float)
            held = seconds - self.step_wait()
            if held >= LIMIT:
                self.messages.append(f"{held:.3f} s ({seconds:.3f} s in all): {str(callback)[:200]}")


@contextlib.asynccontextmanager
async def slow_callback_log(waited: RunQueueWait) -> AsyncIterator[list[str]]:
    """The callbacks that held the running loop longer than ``LIMIT``, as asyncio's debug mode logs them."""
    loop = asyncio.get_running_loop()
    last_step_wait = 0.0
    run = asyncio.events.Handle._run

    def timed_run(handle: asyncio.Handle) -> None:
        # debug mode logs a slow step as soon as it ends: the handler reads this step's wait for a CPU
        nonlocal last_step_wait
        before = waited()
        try:
            run(handle)
        finally:
            last_step_wait = waited() - before

    logger = logging.getLogger("asyncio")
    handler = _SlowCallbacks(lambda: last_step_wait)
    saved = loop.get_debug(), loop.slow_callback_duration, logger.level
    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    loop.set_debug(True)
    loop.slow_callback_duration = LIMIT
    # the loop times a step when debug mode is on as the step begins, and logs it once it ends: each switch
    # of the mode is followed by a fresh step
    await asyncio.sleep(0)
    try:
        yield handler.messages
    finally:
        await asyncio.sleep(0)
        loop.set_debug(saved[0])
        loop.slow_callback_duration = saved[1]
        await asyncio.sleep(0)
        logger.setLevel(saved[2])
        logger.removeHandler(handler)
        asyncio.events.Handle._run = run  # type: ignore[method-assign]


@contextlib.contextmanager
def no_full_collections() -> Iterator[None]:
    """A full garbage collection of the test session's heap can itself hold the loop for 50 ms."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def password_login(server: Server, attempt: int = 0, username: str | None = None) -> httpx.Response:
    """A login as one of the users, spread over them by ``attempt``."""
    name = username or f"{USERNAME}{attempt % USERS + 1}"
    data = {"grant_type": "password", "username": name, "password": PASSWORD, "scope": "api1"}
    return await server.token(data, auth=("ropc", "secret"))


async def measure(server: Server, logins: int) -> LoopReport:
    """Run ``logins`` concurrent password logins while a 10 ms ticker and token requests share the loop."""
    loop = asyncio.get_running_loop()
    waited = RunQueueWait()
    report = LoopReport()
    done = asyncio.Event()

    async def ticker() -> None:
        last, last_wait = loop.time(), waited()
        while not done.is_set():
            await asyncio.sleep(TICK)
            now, now_wait = loop.time(), waited()
            report.max_gap = max(report.max_gap, now - last - (now_wait - last_wait))
            last, last_wait = now, now_wait

    async def token_requests() -> None:
        # a request every 10 ms, timed from when it is due: how long a client arriving then would wait
        while not done.is_set():
            due, due_wait = loop.time() + TICK, waited()
            await asyncio.sleep(TICK)
            response = await server.token(CLIENT_CREDENTIALS, auth=("m2m", "secret"))
            latency = loop.time() - due - (waited() - due_wait)
            report.max_token_latency = max(report.max_token_latency, latency)
            report.token_requests += 1
            assert response.status_code == 200, response.text

    async def run_logins() -> list[httpx.Response]:
        try:
            return await asyncio.gather(*(password_login(server, i) for i in range(logins)))
        finally:
            done.set()

    with contextlib.closing(waited):
        async with slow_callback_log(waited) as slow:
            _, _, responses = await asyncio.gather(ticker(), token_requests(), run_logins())
    report.slow_callbacks = slow
    assert [r.status_code for r in responses] == [200] * logins, responses[0].text
    return report


@contextlib.asynccontextmanager
async def warm_server() -> AsyncIterator[Server]:
    """A server with carol, whose password hash has the server's real argon2 cost, and every one-time cost
    (imports, templates, the hashing pool's threads, the dummy hash for unknown users) already paid."""
    config = configuration_with()
    hashed = hash_password(PASSWORD)
    # several users: the login throttle counts attempts in flight per user and address (issue 16 item 2), so one
    # user's sixth concurrent login from one address would be refused before its password is checked
    config.users += [TestUser(f"carol-{i}", f"{USERNAME}{i}", hashed) for i in range(1, USERS + 1)]
    async with running(await quick_builder(config)) as server:
        logins = await asyncio.gather(*(password_login(server, i) for i in range(MAX_CONCURRENT_HASHES)))
        assert [r.status_code for r in logins] == [200] * MAX_CONCURRENT_HASHES, logins[0].text
        assert (await password_login(server, username="nobody")).status_code == 400
        assert (await server.token(CLIENT_CREDENTIALS, auth=("m2m", "secret"))).status_code == 200
        yield server


async def test_password_logins_leave_the_event_loop_free_for_other_requests() -> None:
    async with warm_server() as server:
        reports = []
        for _ in range(ATTEMPTS):
            with no_full_collections():
                reports.append(await measure(server, logins=10))
            if reports[-1].clean:
                break
    assert reports[-1].clean, reports
    assert reports[-1].token_requests > 0


async def test_the_probe_catches_a_password_check_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    async def on_the_loop(password_hash: str | None, password: str) -> bool:
        return password_hash is not None and verify_password(password_hash, password)

    async with warm_server() as server:
        monkeypatch.setattr(in_memory_users, "verify_password_off_loop", on_the_loop)
        with no_full_collections():
            report = await measure(server, logins=3)
    assert report.max_gap >= LIMIT
    assert report.max_token_latency >= TOKEN_LATENCY_LIMIT
    assert report.slow_callbacks, report


async def test_loading_protected_signing_keys_does_not_hold_the_event_loop() -> None:
    """Checking an RSA key costs some 30 ms (2048 bits) under the GIL; keys authenticated by data protection are
    not checked again, so that five of them load without holding the loop."""
    clock = FakeClock()
    store = InMemorySigningKeyStore()
    ring = KeyRingDataProtectionProvider(InMemoryDataProtectionKeyStore(), clock, "tests")
    protector = ring.create_protector("DataProtectionKeyProtector")
    for hours in range(5, 0, -1):
        key = KeyContainer(f"{hours:032X}", "RS256", clock.now - timedelta(hours=hours), RSA_CLIENT_KEY)
        await store.store_key(await serialize_key(key, protector))
    manager = DefaultKeyManager(KeyManagementOptions(), store, protector, clock)
    with no_full_collections(), contextlib.closing(RunQueueWait()) as waited:
        async with slow_callback_log(waited) as slow:
            keys = await manager.get_all_keys()
    assert len(keys) == 5
    assert slow == []


def _recording_threads(threads: list[int], function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return function(*args, **kwargs)

    return wrapper


async def test_file_key_stores_do_their_file_io_in_worker_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    monkeypatch.setattr(file_system, "write_private_file", _recording_threads(threads, file_system.write_private_file))
    monkeypatch.setattr(file_system, "_open_and_lock", _recording_threads(threads, file_system._open_and_lock))
    monkeypatch.setattr(Path, "unlink", _recording_threads(threads, Path.unlink))
    for cls in (file_system.FileSystemSigningKeyStore, file_system.FileSystemDataProtectionKeyStore):
        monkeypatch.setattr(cls, "_read_keys", _recording_threads(threads, cls._read_keys))

    clock = FakeClock()
    signing = file_system.FileSystemSigningKeyStore(tmp_path / "keys")
    key = KeyContainer("AB" * 16, "RS256", clock.now, RSA_CLIENT_KEY)
    async with signing.lock():
        await signing.store_key(await serialize_key(key, None))
    assert [k.id for k in await signing.load_keys()] == [key.id]
    await signing.delete_key(key.id)
    assert await signing.load_keys() == []

    ring = file_system.FileSystemDataProtectionKeyStore(tmp_path / "data-protection")
    protector = KeyRingDataProtectionProvider(ring, clock, "tests").create_protector("purpose")
    assert await protector.unprotect(await protector.protect(b"payload")) == b"payload"
    assert len(await ring.load_keys()) == 1

    # each store: lock, write, two or three reads, and the signing store's delete
    assert len(threads) >= 10
    assert threading.get_ident() not in threads


async def test_a_cancelled_wait_for_the_file_lock_gives_the_lock_back(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    async with file_system.file_lock(path):
        waiter = asyncio.ensure_future(file_system.file_lock(path).__aenter__())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    # the abandoned thread takes the lock once it is free and closes it at once
    async with asyncio.timeout(5), file_system.file_lock(path):
        pass
