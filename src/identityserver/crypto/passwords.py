"""argon2id password hashing (RFC 9106). One hash takes 0.2-0.4 s and a 64 MiB buffer, so request paths use the
``*_off_loop`` forms: they run in a small dedicated thread pool whose size bounds the concurrent hashes (and the
memory they take), at a lower CPU priority, and the event loop keeps serving other connections meanwhile. The
synchronous forms are for start-up and the command line."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: At most this many hashes run at once per process; further ones queue (each takes 64 MiB while it runs).
MAX_CONCURRENT_HASHES = max(1, min(4, os.cpu_count() or 1))
#: How much nicer than the rest of the process the hashing threads are (Linux): the most there is. Each hash runs
#: four lanes, so at nice +10 (CFS weight 110 each) a sign-in still took 30 % of a saturated core from the event
#: loop and doubled the token requests' p99 (``bench/sign_in_load.py``); at +19 (weight 15) the lanes take what
#: the loop leaves, and a sign-in on an idle worker is as fast as before.
HASHING_NICENESS = 19


def _lower_thread_priority() -> None:
    """Each hash runs four argon2 lanes, threads that inherit this thread's nice value: a burst of logins would
    otherwise keep every core busy and leave the event loop's thread waiting for CPU time, slowing all requests."""
    if not sys.platform.startswith("linux"):  # only Linux takes a thread id here; elsewhere it names a process
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + HASHING_NICENESS))


_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(
    max_workers=MAX_CONCURRENT_HASHES, thread_name_prefix="identityserver-argon2", initializer=_lower_thread_priority
)


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first use, not at import."""
    return _hasher.hash("identityserver-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_verification(password: str) -> None:
    """The work of one verification against a dummy hash, so that an unknown user costs what a known one does."""
    verify_password(_dummy_hash(), password)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password, password)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """``verify_password`` in the hashing pool; ``None`` (no such user) does the same work and returns False."""
    loop = asyncio.get_running_loop()
    if password_hash is None:
        await loop.run_in_executor(_pool, burn_verification, password)
        return False
    return await loop.run_in_executor(_pool, verify_password, password_hash, password)
