#!/usr/bin/env python3
"""What SQLite itself costs per stored grant (issue 15; run by hand, not in CI). See bench/README.md.

The floor under ``SqlPersistedGrantStore.store`` on SQLite: the store's own compiled upsert, bound as the server
binds it, run straight on ``sqlite3`` with the server's pragmas, in group commits of ``--batch`` rows, with a
checkpoint after every ``CHECKPOINT_EVERY_WRITES`` statements as ``WalCheckpointer`` does (here inline, so that
the process's CPU time holds everything). No event loop, no futures, no HTTP: what is left is SQLite, the C
binding and the kernel's file writes. Rows look like reference tokens (a hashed key, a protected payload of about
730 characters), keyed as the server keys new handles: led by their issue time, or at random with ``--keys random``
(``options.persisted_grants.time_ordered_handles = false``).

    python bench/sqlite_floor.py                              # batches of 1, 10, 30 and 64 rows
    python bench/sqlite_floor.py --batch 30 --page-size 2048 --cache-kib 8000
    python bench/sqlite_floor.py --keys random               # IdentityServer's handles: a random index page each
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import store_path
from sqlalchemy import create_engine

from identityserver.clock import SystemClock
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.storage.sqlalchemy.entities.operational import persisted_grants
from identityserver.storage.sqlalchemy.mappers import persisted_grant_to_row
from identityserver.storage.sqlalchemy.sqlite_inline import CHECKPOINT_EVERY_WRITES, RESTART_WAL_FRAMES
from identityserver.storage.sqlalchemy.stores.persisted_grants import _upsert

PRAGMAS = ("journal_mode = WAL", "synchronous = NORMAL", "wal_autocheckpoint = 0")
"""The server's (fast_path.SqliteFastPath._connect)."""
PAYLOAD = '{"PersistentGrantDataContainerVersion":1,"DataProtected":true,"Payload":"' + "A" * 660 + '"}'


def create_database(path: Path, page_size: int) -> None:
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA page_size = {page_size}")  # before the first table, or it has no effect
    raw.close()
    engine = create_engine(f"sqlite:///{path}")
    persisted_grants.metadata.create_all(engine, tables=[persisted_grants])
    engine.dispose()


def connect(path: Path, cache_kib: int) -> sqlite3.Connection:
    raw = sqlite3.connect(path, isolation_level=None)
    for pragma in (*PRAGMAS, f"cache_size = -{cache_kib}"):
        raw.execute(f"PRAGMA {pragma}").fetchall()
    return raw


def rows(count: int, time_ordered: bool) -> list[list[Any]]:
    """Parameters as the server binds them: ``persisted_grant_to_row`` then the compiled statement's processors,
    keyed as the server keys a new handle (``time_ordered``: ``options.persisted_grants.time_ordered_handles``)."""
    compiled = _upsert("sqlite").compiled(create_engine("sqlite://").dialect)
    handles = DefaultHandleGenerationService(SystemClock(), time_ordered)
    made = []
    for _ in range(count):
        grant = store_path.grant(hashed_grant_key(handles.generate_handle(), "reference_token"), PAYLOAD)
        made.append(compiled.parameters(persisted_grant_to_row(grant)))
    return made


def insert(
    writer: sqlite3.Connection,
    checkpointer: sqlite3.Connection,
    sql: str,
    batches: list[list[list[Any]]],
    every: int = CHECKPOINT_EVERY_WRITES,
    restart: int = RESTART_WAL_FRAMES,
) -> None:
    """Group commits, checkpointed as ``WalCheckpointer`` does: ``PASSIVE`` once ``every`` statements were written
    since the last, ``RESTART`` when the log then held ``restart`` frames."""
    written = 0
    for batch in batches:
        writer.execute("BEGIN IMMEDIATE")
        for parameters in batch:
            writer.execute(sql, parameters)
        writer.execute("COMMIT")
        written += len(batch)
        if written >= every:
            written = 0
            frames = checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            if frames >= restart:
                checkpointer.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()


def measure(batch: int, args: argparse.Namespace, folder: Path) -> None:
    path = folder / f"floor-{batch}.db"
    create_database(path, args.page_size)
    writer, checkpointer = connect(path, args.cache_kib), connect(path, 512)
    sql = _upsert("sqlite").compiled(create_engine("sqlite://").dialect).sql
    prefill = rows(args.prefill, args.keys == "ordered")
    insert(writer, checkpointer, sql, [prefill[i : i + 64] for i in range(0, len(prefill), 64)])
    checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    measured = rows(args.rows, args.keys == "ordered")
    batches = [measured[i : i + batch] for i in range(0, len(measured), batch)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    insert(writer, checkpointer, sql, batches, args.checkpoint_every, args.restart_frames)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    wal = os.path.getsize(f"{path}-wal")
    writer.close()
    checkpointer.close()
    print(
        f"  batch {batch:4d}: {cpu / args.rows * 1e6:6.1f} us CPU/row  {wall / args.rows * 1e6:6.1f} us wall/row  "
        f"WAL at the end {wal / 2**20:6.1f} MiB",
        flush=True,
    )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", default="1,10,30,64", help="comma-separated rows per commit")
    parser.add_argument("--rows", type=int, default=60_000, help="rows measured per batch size")
    parser.add_argument("--prefill", type=int, default=200_000, help="rows in the table before the measurement")
    parser.add_argument("--page-size", type=int, default=4096)
    parser.add_argument("--cache-kib", type=int, default=2000, help="the writer's page cache (the server's: 2000)")
    parser.add_argument(
        "--checkpoint-every", type=int, default=CHECKPOINT_EVERY_WRITES, help="statements between two checkpoints"
    )
    parser.add_argument("--restart-frames", type=int, default=RESTART_WAL_FRAMES, help="log frames for a RESTART")
    parser.add_argument(
        "--keys",
        choices=("ordered", "random"),
        default="ordered",
        help="keys of time-ordered handles (the default), or of IdentityServer's random ones",
    )
    parser.add_argument("--core", type=int, default=0, help="pin to this core (-1: do not pin)")
    parser.add_argument("--dir", help="folder for the database (default: a temporary one)")
    args = parser.parse_args()
    if args.core >= 0:
        os.sched_setaffinity(0, {args.core})
    folder = Path(args.dir or tempfile.mkdtemp(prefix="idsrv-floor-"))
    print(
        f"SQLite {sqlite3.sqlite_version}, page {args.page_size} B, cache {args.cache_kib} KiB, {args.keys} keys, "
        f"{args.prefill} rows before, {args.rows} measured, in {folder}"
    )
    for batch in (int(b) for b in args.batch.split(",")):
        measure(batch, args, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
