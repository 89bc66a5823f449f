#!/usr/bin/env python3
"""CPU time per token from one to two workers (issue 15, scale-out on one host). See bench/README.md.

Two ``identityserver serve`` processes share nothing but the machine: one with ``--workers 1`` (pinned to core
0), one with ``--workers 2`` (cores 0 and 1), each on a database of its own (a SQLite file in a temp folder, or
one PostgreSQL database for both with ``--database-url``). ``wrk`` (64 keep-alive connections, core 1) posts
``grant_type=client_credentials`` to one then the other, alternately, run after run. The figure is the CPU time
(user + system, from ``/proc/<pid>/stat``) of all worker processes per token: with two workers and wrk on two
cores, wrk shares a core with a worker, so tokens/s says little; CPU per token says what a second process
costs (locks, a shared database file, cache traffic).

    python bench/workers.py                                    # reference tokens on SQLite, 3 runs of 8 s each
    python bench/workers.py --token-type jwt --runs 5 --json /tmp/workers.json
    python bench/workers.py --database-url postgresql://postgres@127.0.0.1:5432/idsrv_bench

Target (issue 15): CPU per token with 2 workers <= 1.10 x CPU per token with 1 worker.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import (
    CLIENTS,
    CONFIG,
    Server,
    add_common_options,
    check_tools,
    fetch_token,
    median,
    own_cpu_seconds,
    run_wrk,
    serve,
    stop_on_sigterm,
    write_token_lua,
)
from token_endpoint import children_cpu_seconds, cpu_busy_seconds, parse_wrk, process_cpu_seconds

TARGET_RATIO = 1.10
UNEVEN_SHARE = 0.75


def run_load(args: argparse.Namespace, url: str, lua: Path, seconds: float) -> dict[str, Any]:
    """``--wrk-processes`` wrk processes sharing ``--connections``, each started ``--stagger`` seconds after the
    previous one: a worker busy with the first batch leaves the next to an idle one (see ``uneven``). Rates are
    summed, p50 is the request-weighted mean of the processes' p50 and p99 the largest p99."""
    count = args.wrk_processes
    if count == 1:
        return run_wrk(args, url, lua, seconds, args.connections)
    procs: list[subprocess.Popen[str]] = []
    try:
        for i in range(count):
            if i:
                time.sleep(args.stagger)
            command = [
                "taskset", "-c", str(args.wrk_core), "wrk", "-t", str(args.threads),
                "-c", str(args.connections // count + (i < args.connections % count)),
                "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "--latency", "-s", str(lua), url,
            ]  # fmt: skip
            procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [p.communicate() for p in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        if proc.returncode:
            raise SystemExit(f"wrk exited with {proc.returncode}: {err}")
    parts = [parse_wrk(out) for out, _ in outputs]
    requests = sum(p["requests"] for p in parts)
    return {
        "tokens_per_s": sum(p["tokens_per_s"] for p in parts),
        "p50_ms": sum(p["p50_ms"] * p["requests"] for p in parts) / max(requests, 1),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "requests": requests,
        "non_2xx": sum(p["non_2xx"] for p in parts),
        "socket_errors": "; ".join(p["socket_errors"] for p in parts if p["socket_errors"]),
    }


def all_cores(*specs: str) -> tuple[int, ...]:
    cores: set[int] = set()
    for spec in specs:
        for part in spec.split(","):
            low, _, high = part.partition("-")
            cores.update(range(int(low), int(high or low) + 1))
    return tuple(sorted(cores))


@dataclass
class Run:
    workers: int
    run: int
    tokens_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str
    cpu_us_per_token: float
    """CPU time (user + system) of all worker processes per token."""
    supervisor_us_per_token: float
    """The uvicorn supervisor's CPU time per token (with two workers; not part of ``cpu_us_per_token``)."""
    workers_cpu: float
    """Cores the workers used during the run (1.0 = one core saturated)."""
    worker_split: list[float]
    """Each worker's share of the workers' CPU time."""
    wrk_cpu: float
    foreign_cpu: float
    """Share of a core other processes used on the cores of the run."""
    rss_mib: list[float]


def measure(args: argparse.Namespace, server: Server, lua: Path, number: int) -> Run:
    run_load(args, server.token_url, lua, args.warmup)
    pids = server.worker_pids()
    cores = all_cores(server.cores, str(args.wrk_core))
    cpu0 = {p: process_cpu_seconds(p) for p in pids}
    sup0, busy0, wrk0, own0, wall0 = (
        server.supervisor_cpu(), cpu_busy_seconds(cores), children_cpu_seconds(), own_cpu_seconds(), time.monotonic()
    )  # fmt: skip
    result = run_load(args, server.token_url, lua, args.seconds)
    wall = time.monotonic() - wall0
    if server.worker_pids() != pids:
        raise SystemExit(f"{server.label}: the worker processes changed during the run ({pids} -> now "
                         f"{server.worker_pids()}): a worker died; see its server.log (--keep)")  # fmt: skip
    per_worker = [process_cpu_seconds(p) - cpu0[p] for p in pids]
    workers_cpu, supervisor = sum(per_worker), server.supervisor_cpu() - sup0
    wrk_cpu = children_cpu_seconds() - wrk0
    ours = workers_cpu + supervisor + wrk_cpu + own_cpu_seconds() - own0
    tokens = max(result["requests"], 1)
    return Run(
        workers=server.workers,
        run=number,
        **result,
        cpu_us_per_token=workers_cpu * 1e6 / tokens,
        supervisor_us_per_token=supervisor * 1e6 / tokens,
        workers_cpu=workers_cpu / wall,
        worker_split=[c / workers_cpu if workers_cpu else 0.0 for c in per_worker],
        wrk_cpu=wrk_cpu / wall,
        foreign_cpu=max(0.0, cpu_busy_seconds(cores) - busy0 - ours) / wall,
        rss_mib=server.rss_mib(),
    )


def uneven(run: Run) -> bool:
    """One worker did most of the work: the listening socket is shared, and the worker that wakes first accepts
    every connection queued (asyncio accepts up to its backlog in one go), so wrk's 64 connections, opened at
    once, can land on one worker and stay there (keep-alive)."""
    return run.workers > 1 and max(run.worker_split) > UNEVEN_SHARE


def bench(args: argparse.Namespace) -> list[Run]:
    folder = Path(tempfile.mkdtemp(prefix="idsrv-workers-"))
    client = CLIENTS[args.token_type]
    lua = write_token_lua(folder, client)
    runs: list[Run] = []
    try:
        with contextlib.ExitStack() as stack:
            servers: list[Server] = []
            for workers, cores in ((1, args.cores_1), (2, args.cores_2)):
                database_url = args.database_url or f"sqlite:///{folder / f'workers-{workers}.db'}"
                text = CONFIG.format(script="workers.py", database_url=database_url, alg=args.alg)
                server = stack.enter_context(serve(args, folder, f"workers-{workers}", workers, cores, text))
                token = fetch_token(server.token_url, client)
                kind = "JWT" if token.count(".") == 2 else "reference"
                if (kind == "JWT") != (args.token_type == "jwt"):
                    raise SystemExit(f"{server.label}: expected a {args.token_type} token, got {token[:40]}...")
                print(
                    f"{server.label}: pids {server.worker_pids()} on cores {cores}, {server.token_url}, "
                    f"{kind} token of {len(token)} chars",
                    flush=True,
                )
                servers.append(server)
            for number in range(1, args.runs + 1):
                order = servers if number % 2 else servers[::-1]  # neither always goes first after a quiet spell
                for server in order:
                    run = measure(args, server, lua, number)
                    runs.append(run)
                    split = "/".join(f"{s:.0%}" for s in run.worker_split)
                    print(
                        f"  run {number} workers={run.workers} {run.tokens_per_s:8.0f} tokens/s  "
                        f"p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  {run.cpu_us_per_token:6.0f} us CPU/token "
                        f"(split {split}, supervisor {run.supervisor_us_per_token:.0f} us)  "
                        f"workers {run.workers_cpu:.2f} cores  wrk {run.wrk_cpu:.0%}  foreign {run.foreign_cpu:.0%}  "
                        f"RSS {'/'.join(f'{r:.0f}' for r in run.rss_mib)} MiB"
                        + (f"  UNEVEN (one worker did {max(run.worker_split):.0%})" if uneven(run) else "")
                        + (f"  NON-2XX {run.non_2xx}" if run.non_2xx else "")
                        + (f"  SOCKET ERRORS {run.socket_errors}" if run.socket_errors else ""),
                        flush=True,
                    )
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return runs


def summarize(runs: list[Run]) -> dict[str, Any]:
    def of(workers: int) -> list[Run]:
        return [r for r in runs if r.workers == workers]

    one, two = of(1), of(2)
    pairs = [b.cpu_us_per_token / a.cpu_us_per_token for a, b in zip(one, two, strict=True) if a.cpu_us_per_token]
    summary: dict[str, Any] = {
        str(n): {
            "tokens_per_s": median([r.tokens_per_s for r in rs]),
            "p50_ms": median([r.p50_ms for r in rs]),
            "p99_ms": median([r.p99_ms for r in rs]),
            "cpu_us_per_token": median([r.cpu_us_per_token for r in rs]),
            "supervisor_us_per_token": median([r.supervisor_us_per_token for r in rs]),
            "workers_cpu": median([r.workers_cpu for r in rs]),
            "foreign_cpu": median([r.foreign_cpu for r in rs]),
            "rss_mib": max((max(r.rss_mib) for r in rs), default=float("nan")),
            "non_2xx": sum(r.non_2xx for r in rs),
            "uneven_runs": sum(uneven(r) for r in rs),
        }
        for n, rs in ((1, one), (2, two))
    }
    summary["ratio"] = summary["2"]["cpu_us_per_token"] / summary["1"]["cpu_us_per_token"]
    summary["ratio_of_pairs"] = median(pairs)
    summary["pass"] = summary["ratio"] <= TARGET_RATIO and not summary["1"]["non_2xx"] and not summary["2"]["non_2xx"]
    return summary


def report(summary: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\n{args.token_type} tokens ({args.alg if args.token_type == 'jwt' else 'stored grants'}) on "
        f"{'PostgreSQL' if args.database_url else 'SQLite files'}, {args.connections} connections from "
        f"{args.wrk_processes} wrk process(es) {args.stagger:g} s apart, "
        f"medians of {args.runs} runs of {args.seconds:g} s"
    )
    head = f"{'workers':>7} {'tokens/s':>9} {'p50 ms':>7} {'p99 ms':>8} {'CPU us/token':>12} {'cores used':>10} "
    print(head + f"{'RSS MiB':>8} {'foreign':>8}")
    for n in ("1", "2"):
        s = summary[n]
        print(
            f"{n:>7} {s['tokens_per_s']:9.0f} {s['p50_ms']:7.1f} {s['p99_ms']:8.1f} {s['cpu_us_per_token']:12.0f} "
            f"{s['workers_cpu']:10.2f} {s['rss_mib']:8.1f} {s['foreign_cpu']:8.0%}"
        )
    verdict = "PASS" if summary["pass"] else "FAIL"
    print(
        f"\n  {verdict}  CPU per token, 2 workers / 1 worker <= {TARGET_RATIO:.2f}: {summary['ratio']:.3f} "
        f"(median of the per-pair ratios {summary['ratio_of_pairs']:.3f}; the supervisor adds "
        f"{summary['2']['supervisor_us_per_token']:.0f} us/token)"
    )
    if summary["2"]["uneven_runs"]:
        print(
            f"  UNEVEN: in {summary['2']['uneven_runs']} of {args.runs} runs one worker did more than "
            f"{UNEVEN_SHARE:.0%} of the work (connections are not spread over the workers): the ratio then says "
            "little about two busy workers"
        )
    if max(summary["1"]["foreign_cpu"], summary["2"]["foreign_cpu"]) > args.max_foreign:
        print(f"  NOISY: other processes took more than {args.max_foreign:.0%} of a core meanwhile")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(parser, connections=64)
    parser.add_argument("--cores-1", default="0", help="taskset cores of the one-worker server")
    parser.add_argument("--cores-2", default="0,1", help="taskset cores of the two-worker server")
    parser.add_argument(
        "--wrk-processes",
        type=int,
        default=2,
        help="wrk processes sharing the connections, started --stagger seconds apart (connections opened at once "
        "all land on one worker)",
    )
    parser.add_argument("--stagger", type=float, default=0.5, help="seconds between the starts of the wrk processes")
    args = parser.parse_args()
    stop_on_sigterm()
    if not 1 <= args.wrk_processes <= args.connections:
        parser.error("--wrk-processes: between 1 and --connections")
    check_tools(parser, args)
    runs = bench(args)
    summary = summarize(runs)
    report(summary, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"settings": vars(args), "summary": summary, "runs": [asdict(r) for r in runs]}, indent=2)
        )
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
