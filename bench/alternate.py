"""Two or more copies of the package on one row of ``compare.py``, over HTTP, measured in turn (run by hand).

``compare.py`` measures one package against the peer; ``in_process.py`` compares copies without HTTP and on SQLite
only. This serves every copy at once (each its own ``serve``, pinned to the server core, on one database: the same
SQLite file is not shared, PostgreSQL is) and measures one row on each in turn, round after round, the order
swapped every round, so that the host's drift falls on every copy alike. It prints each run and, per copy, the
medians of rate, CPU time a request and ``foreign`` (the share of a core other processes took: on the PostgreSQL
rows, mostly PostgreSQL itself). Our servers only; no peer.

    git archive HEAD src | tar -x -C /tmp/old && python -m compileall -q /tmp/old/src
    python bench/alternate.py --row refresh_postgres --pythonpath /tmp/old/src, --rounds 4
    python bench/alternate.py --row code_sqlite --pythonpath /tmp/a/src,/tmp/b/src --rounds 6

A PostgreSQL checkpoint that begins during a run makes every first change to a page write the whole page into the
WAL, and can take a run's rate down by two thirds (docs/performance-stored-grants.md, nineteenth pass): look at
``foreign`` before believing one run.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import sys
import tempfile
from pathlib import Path

import compare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--row", default="refresh_postgres", help="one row of compare.py")
    parser.add_argument("--pythonpath", default="/tmp/old/src,", help="comma-separated copies ('' = the installed one)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool-probe", type=int, default=3000)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--wrk-core", type=int, default=1)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/idsrv_bench")
    parser.add_argument("--peer-dir", default=str(Path(tempfile.gettempdir()) / "identityserver-bench-peer"))
    parser.add_argument("--loop", help="serve --loop")
    args = parser.parse_args()
    row = next((r for r in compare.ROWS if r.name == args.row), None)
    if row is None:
        parser.error(f"unknown row: {args.row} (the rows of compare.py: {', '.join(r.name for r in compare.ROWS)})")
    key = row.name.split("_")[0]
    copies = args.pythonpath.split(",")
    runs: dict[str, list[compare.Run]] = {path: [] for path in copies}
    with contextlib.ExitStack() as stack:
        servers = {}
        for number, path in enumerate(copies):
            own = copy.copy(args)
            own.pythonpath = path or None
            folder = Path(tempfile.mkdtemp(prefix=f"idsrv-alternate-{number}-"))
            servers[path] = (own, stack.enter_context(compare.ours(own, row.db, folder)))
        for number in range(args.rounds):
            for path in copies if number % 2 == 0 else copies[::-1]:
                own, server = servers[path]
                run = compare.measure(own, server, row, key)
                runs[path].append(run)
                print(
                    f"  round {number + 1} {path or 'installed':<20} {run.rps:7.0f}/s {run.cpu_us:6.0f} us CPU/req "
                    f"p50 {run.p50_ms:6.1f} p99 {run.p99_ms:7.1f} ms RSS {run.rss_mib:5.1f} MiB err {run.errors} "
                    f"foreign {run.foreign:.0%}",
                    flush=True,
                )
    for path, own_runs in runs.items():
        rate = statistics.median(r.rps for r in own_runs)
        cpu = statistics.median(r.cpu_us for r in own_runs)
        foreign = statistics.median(r.foreign for r in own_runs)
        each = ", ".join(f"{r.cpu_us:.0f}" for r in own_runs)
        print(f"{path or 'installed':<22} {rate:7.0f}/s {cpu:6.0f} us CPU/req (runs: {each}) foreign {foreign:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
