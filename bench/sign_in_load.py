#!/usr/bin/env python3
"""Sign-in under a token load (issue 15). See bench/README.md.

One ``identityserver serve`` worker pinned to core 0 serves a ``client_credentials`` load from ``wrk`` (32
keep-alive connections, core 1). Each run measures the token load twice: alone, and while a few login loops
(threads of this script, also on core 1) sign in continuously through the login page: ``GET /account/login``
(the anti-forgery cookie and form field), then ``POST`` of the form with the test user's password, checked
against its argon2id hash at the default cost. The two halves alternate in order run by run.

    python bench/sign_in_load.py                               # 3 runs of 8 s, 2 login loops
    python bench/sign_in_load.py --login-loops 4 --runs 5 --json /tmp/sign-in.json
    python bench/sign_in_load.py --token-type reference --database-url postgresql://postgres@127.0.0.1/idsrv_bench

Target (issue 15): the token load's p99 with logins <= 2 x its p99 without.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
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
from token_endpoint import children_cpu_seconds, cpu_busy_seconds, process_cpu_seconds

USERNAME, PASSWORD = "alice", "alice-bench-password"
USERS = f"""
[[users]]
subject_id = "1"
username = "{USERNAME}"
password = "{PASSWORD}"
[users.claims]
name = "Alice Smith"
email = "alice@example.com"
"""
LOGIN_PATH = "/account/login"
TARGET_P99_RATIO = 2.0


class _LoginForm(HTMLParser):
    """The hidden fields of the page's login form (its anti-forgery token and ``returnUrl``)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_login_form = False
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.in_login_form = not self.action and values.get("action", "").endswith(LOGIN_PATH)
            if self.in_login_form:
                self.action = values["action"]
        elif tag == "input" and self.in_login_form and values.get("type") == "hidden" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_login_form = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A successful sign-in answers with a redirect: keep it as the answer instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign_in(base: str) -> tuple[bool, str]:
    """One sign-in as a new browser: (signed in, what went wrong)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(base + LOGIN_PATH, timeout=30) as page:
        form = _LoginForm()
        form.feed(page.read().decode())
    if "__RequestVerificationToken" not in form.fields:
        return False, "no anti-forgery field on the login page"
    body = urllib.parse.urlencode({**form.fields, "username": USERNAME, "password": PASSWORD, "button": "login"})
    request = urllib.request.Request(
        urllib.parse.urljoin(base + LOGIN_PATH, form.action),
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with opener.open(request, timeout=30) as response:
            return False, f"{response.status} instead of a redirect"
    except urllib.error.HTTPError as answer:
        if answer.code not in (302, 303):
            return False, f"{answer.code}"
    if not any(cookie.name != "idsrv.af" for cookie in jar):
        return False, "redirected without a session cookie"
    return True, ""


@dataclass
class LoginLoops:
    """``count`` threads signing in back to back until stopped."""

    base: str
    count: int
    done: list[tuple[float, float]] = field(default_factory=list)
    """(end time, seconds) of each successful sign-in."""
    failures: dict[str, int] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            start = time.monotonic()
            try:
                ok, problem = sign_in(self.base)
            except OSError as error:
                ok, problem = False, type(error).__name__
            with self.lock:
                if ok:
                    self.done.append((time.monotonic(), time.monotonic() - start))
                else:
                    self.failures[problem] = self.failures.get(problem, 0) + 1

    def __enter__(self) -> LoginLoops:
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(self.count)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def between(self, start: float, end: float) -> list[float]:
        with self.lock:
            return [seconds for finished, seconds in self.done if start <= finished <= end]


def thread_cpu_seconds(pid: int) -> float:
    """CPU time of the process's main thread, the one uvicorn runs the event loop in."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Half:
    logins: bool
    run: int
    tokens_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str
    logins_per_s: float = 0.0
    login_p50_ms: float = 0.0
    login_failures: dict[str, int] = field(default_factory=dict)
    worker_cpu: float = 0.0
    loop_cpu: float = 0.0
    """Share of its core the worker's main thread (the event loop) used; the rest went to its other threads
    (argon2 hashing, the database driver's)."""
    """Share of its core the worker used (its argon2 threads included)."""
    foreign_cpu: float = 0.0


def measure(args: argparse.Namespace, server: Server, lua: Path, number: int, logins: bool) -> Half:
    (pid,) = server.worker_pids()
    cores = (int(server.cores), args.wrk_core)
    with LoginLoops(server.base, args.login_loops if logins else 0) as loops:
        # the warm-up also lets the logins reach their steady rate before the measured part
        run_wrk(args, server.token_url, lua, args.warmup, args.connections)
        cpu0, loop0, busy0, wrk0, own0, wall0 = (
            process_cpu_seconds(pid), thread_cpu_seconds(pid), cpu_busy_seconds(cores), children_cpu_seconds(),
            own_cpu_seconds(), time.monotonic(),
        )  # fmt: skip
        result = run_wrk(args, server.token_url, lua, args.seconds, args.connections)
        end = time.monotonic()
        worker, loop = process_cpu_seconds(pid) - cpu0, thread_cpu_seconds(pid) - loop0
        ours = worker + children_cpu_seconds() - wrk0 + own_cpu_seconds() - own0
        foreign = max(0.0, cpu_busy_seconds(cores) - busy0 - ours) / (end - wall0)
        times = loops.between(wall0, end)
    return Half(
        logins=logins,
        run=number,
        **result,
        logins_per_s=len(times) / (end - wall0),
        login_p50_ms=median(times) * 1e3 if times else 0.0,
        login_failures=dict(loops.failures),
        worker_cpu=worker / (end - wall0),
        loop_cpu=loop / (end - wall0),
        foreign_cpu=foreign,
    )


def bench(args: argparse.Namespace) -> list[Half]:
    folder = Path(tempfile.mkdtemp(prefix="idsrv-sign-in-"))
    client = CLIENTS[args.token_type]
    lua = write_token_lua(folder, client)
    halves: list[Half] = []
    # the login threads run on wrk's core, away from the server's
    os.sched_setaffinity(0, {args.wrk_core})
    try:
        database_url = args.database_url or f"sqlite:///{folder / 'sign-in.db'}"
        text = CONFIG.format(script="sign_in_load.py", database_url=database_url, alg=args.alg) + USERS
        with serve(args, folder, "server", 1, str(args.server_core), text) as server:
            fetch_token(server.token_url, client)
            ok, problem = sign_in(server.base)
            if not ok:
                raise SystemExit(f"the sign-in through {server.base}{LOGIN_PATH} failed: {problem}")
            print(f"server pid {server.proc.pid} on core {server.cores}, {server.token_url}; sign-in works", flush=True)
            for number in range(1, args.runs + 1):
                for logins in (False, True) if number % 2 else (True, False):
                    half = measure(args, server, lua, number, logins)
                    halves.append(half)
                    print(
                        f"  run {number} {'with' if logins else 'without':<7} logins  {half.tokens_per_s:7.0f} "
                        f"tokens/s  p50 {half.p50_ms:7.1f} ms  p99 {half.p99_ms:7.1f} ms"
                        + (
                            f"  {half.logins_per_s:5.2f} logins/s (p50 {half.login_p50_ms:.0f} ms)"
                            if logins
                            else " " * 34
                        )
                        + f"  worker {half.worker_cpu:.0%} (loop {half.loop_cpu:.0%})  foreign {half.foreign_cpu:.0%}"
                        + (f"  LOGIN FAILURES {half.login_failures}" if half.login_failures else "")
                        + (f"  NON-2XX {half.non_2xx}" if half.non_2xx else "")
                        + (f"  SOCKET ERRORS {half.socket_errors}" if half.socket_errors else ""),
                        flush=True,
                    )
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return halves


def summarize(halves: list[Half]) -> dict[str, Any]:
    def side(logins: bool) -> dict[str, Any]:
        hs = [h for h in halves if h.logins == logins]
        return {
            "tokens_per_s": median([h.tokens_per_s for h in hs]),
            "p50_ms": median([h.p50_ms for h in hs]),
            "p99_ms": median([h.p99_ms for h in hs]),
            "logins_per_s": median([h.logins_per_s for h in hs]),
            "login_p50_ms": median([h.login_p50_ms for h in hs]),
            "login_failures": sum(sum(h.login_failures.values()) for h in hs),
            "worker_cpu": median([h.worker_cpu for h in hs]),
            "loop_cpu": median([h.loop_cpu for h in hs]),
            "foreign_cpu": median([h.foreign_cpu for h in hs]),
            "non_2xx": sum(h.non_2xx for h in hs),
        }

    without, with_logins = side(False), side(True)
    by_run = {(h.run, h.logins): h for h in halves}
    pairs = [by_run[r, True].p99_ms / by_run[r, False].p99_ms for r in sorted({h.run for h in halves})]
    ratio = with_logins["p99_ms"] / without["p99_ms"]
    return {
        "without_logins": without,
        "with_logins": with_logins,
        "p99_ratio": ratio,
        "p99_ratio_of_pairs": statistics.median(pairs),
        "pass": ratio <= TARGET_P99_RATIO
        and not with_logins["login_failures"]
        and with_logins["logins_per_s"] > 0
        and not (without["non_2xx"] or with_logins["non_2xx"]),
    }


def report(summary: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\n{args.token_type} client_credentials tokens on one worker (core {args.server_core}), wrk "
        f"-t{args.threads} -c{args.connections} (core {args.wrk_core}), {args.login_loops} login loops; medians of "
        f"{args.runs} runs of {args.seconds:g} s"
    )
    head = f"{'':<16} {'tokens/s':>9} {'p50 ms':>7} {'p99 ms':>8} {'logins/s':>9} {'login p50':>10}"
    print(head + f" {'worker':>7} {'loop':>5}")
    for name, key in (("without logins", "without_logins"), ("with logins", "with_logins")):
        s = summary[key]
        print(
            f"{name:<16} {s['tokens_per_s']:9.0f} {s['p50_ms']:7.1f} {s['p99_ms']:8.1f} {s['logins_per_s']:9.2f} "
            f"{s['login_p50_ms']:8.0f} ms {s['worker_cpu']:7.0%} {s['loop_cpu']:5.0%}"
        )
    with_logins = summary["with_logins"]
    print(
        f"\n  {'PASS' if summary['pass'] else 'FAIL'}  token p99 with logins <= {TARGET_P99_RATIO:g} x without: "
        f"{summary['p99_ratio']:.2f} (median of the per-run ratios {summary['p99_ratio_of_pairs']:.2f})"
    )
    if with_logins["login_failures"] or not with_logins["logins_per_s"]:
        print(f"  FAIL  sign-ins: {with_logins['login_failures']} failed, {with_logins['logins_per_s']:.2f}/s")
    foreign = max(summary["without_logins"]["foreign_cpu"], with_logins["foreign_cpu"])
    if foreign > args.max_foreign:
        print(f"  NOISY: other processes took {foreign:.0%} of a core meanwhile (more than {args.max_foreign:.0%})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(parser, connections=32, token_type="jwt")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--login-loops", type=int, default=2, help="threads signing in back to back")
    args = parser.parse_args()
    stop_on_sigterm()
    if args.login_loops < 1:
        parser.error("--login-loops must be at least 1")
    check_tools(parser, args)
    halves = bench(args)
    summary = summarize(halves)
    report(summary, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"settings": vars(args), "summary": summary, "runs": [asdict(h) for h in halves]}, indent=2)
        )
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
