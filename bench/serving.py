"""What bench/workers.py and bench/sign_in_load.py share: the configuration they serve, ``identityserver serve``
started and stopped around a block, wrk, and their command-line options. Not a benchmark itself."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from token_endpoint import (  # the sibling script's process and wrk helpers
    free_port,
    kib_to_mib,
    parse_wrk,
    proc_status,
    process_cpu_seconds,
    server_command,
    wait_for_discovery,
)

SECRET = "bench-secret-0123456789abcdef0123"
CLIENTS = {"reference": "bench-ref", "jwt": "bench-jwt"}
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/idsrv_bench"

CONFIG = f"""\
# written by bench/{{script}}
database_url = "{{database_url}}"

[options.key_management]
signing_algorithms = ["{{alg}}"]

[[clients]]
client_id = "bench-ref"
client_secrets = ["{SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[clients]]
client_id = "bench-jwt"
client_secrets = ["{SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def write_token_lua(folder: Path, client_id: str) -> Path:
    script = folder / f"token-{client_id}.lua"
    script.write_text(
        textwrap.dedent(
            f"""\
            wrk.method = "POST"
            wrk.body = "grant_type=client_credentials"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            wrk.headers["Authorization"] = "{basic(client_id, SECRET)}"
            """
        )
    )
    return script


def ensure_postgres_database(url: str) -> None:
    """Create the database of ``url`` when it does not exist (serve migrates an empty database at start-up)."""
    import asyncpg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"--database-url: expected a plain database name, got {name!r}")
    maintenance = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))

    async def create() -> None:
        connection = await asyncpg.connect(maintenance)
        try:
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await connection.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}", flush=True)
        finally:
            await connection.close()

    asyncio.run(create())


def python_children(pid: int) -> list[int]:
    """uvicorn's worker processes: the supervisor's Python children, multiprocessing's resource tracker aside."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if ppid == pid and "python" in cmdline and "resource_tracker" not in cmdline:
                found.append(int(entry.name))
    return sorted(found)


@dataclass
class Server:
    label: str
    proc: subprocess.Popen[bytes]
    base: str
    token_url: str
    workers: int
    cores: str

    def worker_pids(self) -> list[int]:
        """With one worker uvicorn serves in the process it was started as; with several, in its children."""
        return [self.proc.pid] if self.workers == 1 else python_children(self.proc.pid)

    def supervisor_cpu(self) -> float:
        return process_cpu_seconds(self.proc.pid) if self.workers > 1 else 0.0

    def rss_mib(self) -> list[float]:
        return [kib_to_mib(proc_status(p).get("VmRSS", "0 kB")) for p in self.worker_pids()]


@contextlib.contextmanager
def serve(
    args: argparse.Namespace, folder: Path, label: str, workers: int, cores: str, config_text: str
) -> Iterator[Server]:
    """``identityserver serve`` pinned to ``cores``, ready (discovery answers, every worker started); stopped
    with SIGTERM (then SIGKILL of its process group) on exit."""
    sub = folder / label
    sub.mkdir()
    config = sub / "identityserver.toml"
    config.write_text(config_text)
    port = free_port()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath, env.get("PYTHONPATH")]))
    loop = ["--loop", args.loop] if args.loop else []
    command = [
        "taskset", "-c", cores, *server_command(args), "serve", "--config", str(config), "--port", str(port),
        "--workers", str(workers), "--state-path", str(sub / "state"), "--log-level", "warning", *loop,
    ]  # fmt: skip
    log = sub / "server.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=sub, start_new_session=True
        )
        try:
            discovery = wait_for_discovery(f"{base}/.well-known/openid-configuration", proc, log)
            server = Server(label, proc, base, discovery["token_endpoint"], workers, cores)
            deadline = time.monotonic() + 60
            while len(server.worker_pids()) != workers:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{label}: expected {workers} workers, found {server.worker_pids()}")
                time.sleep(0.2)
            yield server
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server (uvicorn stops its workers), SIGKILL to its whole session if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # workers left behind by a supervisor that died


def fetch_token(token_url: str, client_id: str) -> str:
    request = urllib.request.Request(
        token_url,
        data=b"grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic(client_id, SECRET)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token: str = json.loads(response.read())["access_token"]
    return token


def run_wrk(args: argparse.Namespace, url: str, lua: Path, seconds: float, connections: int) -> dict[str, Any]:
    command = [
        "taskset", "-c", str(args.wrk_core), "wrk", "-t", str(args.threads), "-c", str(connections),
        "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "--latency", "-s", str(lua), url,
    ]  # fmt: skip
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def add_common_options(parser: argparse.ArgumentParser, connections: int, token_type: str = "reference") -> None:
    parser.add_argument("--runs", type=int, default=3, help="measured runs of each kind; medians are reported")
    parser.add_argument("--seconds", type=float, default=8, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each measured run")
    parser.add_argument("--connections", type=int, default=connections, help="wrk keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--wrk-core", type=int, default=1)
    parser.add_argument("--token-type", choices=sorted(CLIENTS), default=token_type)
    parser.add_argument("--alg", default="RS256", help="the signing algorithm (of JWT access tokens)")
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL URL (created when missing), e.g. {DEFAULT_PG_URL}; default: a SQLite file per server",
    )
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], help="serve --loop (default: serve's default)")
    parser.add_argument("--pythonpath", help="measure a scratch copy of the package (PYTHONPATH)")
    parser.add_argument("--max-foreign", type=float, default=0.05, help="flag results when other processes "
                        "took more than this share of a core on the benchmark's cores")  # fmt: skip
    parser.add_argument("--json", help="also write the settings, runs and summary to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (configs, server logs)")


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers and wrk are stopped and the temp folder removed."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def check_tools(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is required (apt-get install wrk util-linux)")
    if args.database_url:
        if not args.database_url.startswith(("postgresql:", "postgres:")):
            parser.error("--database-url: a postgresql:// URL (SQLite files are the default)")
        ensure_postgres_database(args.database_url)
