"""A worker gives its freed heap back to the operating system (hosting/heap.py): glibc's ``malloc_trim`` does it
where there is one, and the job calls it at its interval."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from identityserver.hosting.heap import heap_trim_job, malloc_trim


def test_malloc_trim_is_found_on_linux_and_nowhere_else() -> None:
    # the machines this runs on are glibc Linux; a C library without it (musl) would also give None
    assert (malloc_trim() is not None) == sys.platform.startswith("linux")


def test_a_trim_gives_back_what_was_freed() -> None:
    """200 MB of objects over CPython's 512-byte limit, freed but for one in fifty (so the heap's top is not
    free and only a trim inside the heap gives the pages back)."""
    probe = """
import random
from identityserver.hosting.heap import malloc_trim

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024

trim = malloc_trim()
kept = []
for _ in range(4):
    junk = [bytes(random.randint(600, 2000)) for _ in range(40_000)]
    kept.extend(junk[::50])
    del junk
before = rss()
trim(0)
print(before, rss())
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    before, after = (int(x) for x in out.stdout.split())
    assert before - after > 20, (before, after)  # MiB


async def test_the_job_trims_every_interval_until_cancelled() -> None:
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 1

    job = heap_trim_job(0.01, trim)
    assert job is not None
    task = asyncio.ensure_future(job())
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(calls) >= 3 and set(calls) == {0}
    count = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == count


def test_without_malloc_trim_there_is_no_job(monkeypatch) -> None:
    monkeypatch.setattr("identityserver.hosting.heap.malloc_trim", lambda: None)
    assert heap_trim_job() is None
