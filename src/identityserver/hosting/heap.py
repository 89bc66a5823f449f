"""A worker gives its freed heap back to the operating system (glibc's ``malloc_trim``).

CPython returns its own arenas once they are empty, but objects over 512 bytes (request bodies, rows, JWTs, JSON)
come from the C library's allocator, whose free pages stay in the process unless they sit at the top of the heap.
After a burst of code-flow and refresh requests a worker on PostgreSQL held 90 MiB, of which ``malloc_trim(0)``
gave back 9 (docs/performance-stored-grants.md, ninth pass): memory the worker no longer used, which the host
could not give to anything else. ``malloc_trim`` releases free pages wherever they are in the heap; a call costs
under a millisecond once the heap has been trimmed before. Only glibc has it: elsewhere there is no job."""

from __future__ import annotations

import asyncio
import ctypes
import sys
from collections.abc import Awaitable, Callable

TRIM_INTERVAL = 2.0
"""Seconds between two trims of a worker's heap. Under a steady code-flow load on PostgreSQL a worker read 79.5-80.8
MiB at 2 s against 84.2-85.0 at 10 s, and no lower at 1 s; a trim there took 0.22-0.25 ms (under 0.02 % of the
core; docs/performance-stored-grants.md, tenth pass)."""

Trim = Callable[[int], int]


def malloc_trim() -> Trim | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Trim = function
    return trim


def heap_trim_job(interval: float = TRIM_INTERVAL, trim: Trim | None = None) -> Callable[[], Awaitable[None]] | None:
    """A background job that trims the heap every ``interval`` seconds; ``None`` without ``malloc_trim``."""
    found = trim or malloc_trim()
    if found is None:
        return None

    async def trim_heap() -> None:
        while True:
            await asyncio.sleep(interval)
            # on the loop's thread: from another thread it would still hold the allocator's lock that this thread's
            # allocations wait for, and it takes well under a millisecond (TRIM_INTERVAL)
            found(0)

    return trim_heap
