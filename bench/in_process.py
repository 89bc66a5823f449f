#!/usr/bin/env python3
"""The application's own CPU per request, without HTTP (run by hand, not in CI). See bench/README.md.

Builds the app as ``serve`` does (``cli/serve.app_factory``) in a child process pinned to one core, and calls it
through ASGI with 64 requests in flight: no sockets, no ``wrk``, no HTTP parser. What is left is the endpoint, its
stores and the middleware, measured in CPU time of the whole process (the WAL checkpointer's thread included).
Between two copies of the package (``--pythonpath``) it tells differences of a few µs per request that the HTTP
rows of ``compare.py`` cannot resolve on a shared machine: the variants run alternately, each on a copy of one
prepared database, and the minimum of each variant's rounds is compared.

    python bench/in_process.py                                    # every row, the installed package
    python bench/in_process.py --rows reference --pythonpath /tmp/old/src, --repeats 3
    python bench/in_process.py --profile /tmp/jwt.prof --rows jwt  # cProfile of one variant's rounds
    python bench/in_process.py --rows refresh --pythonpath /tmp/old/src, --instructions 64,320

``--instructions N1,N2`` counts instructions instead (``valgrind --tool=callgrind``, one round of N1 and one of N2
requests per variant): (Ir(N2) - Ir(N1)) / (N2 - N1) is what one request costs, start-up cancelled out, and the
same to within about 0.03 % from run to run on a quiet machine (under load the server's time-driven work runs more
often, and counts grow: bench/README.md). The RSA key the app generates at
start-up is subtracted (its cost varies by hundreds of millions of instructions). For ``code`` and ``refresh`` it
includes making the request's pool item (an authorization request; for ``refresh`` also the code redeemed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import flows

BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret-0123456789abcdef0123"
ROWS = ("reference", "introspection", "jwt", "code", "refresh")
POOLED = ("code", "refresh")
"""Rows whose every request redeems a one-time artefact (bench/flows.py), made through the app beforehand."""
CONFIG = f"""\
# written by bench/in_process.py
[options.key_management]
signing_algorithms = ["RS256"]

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
api_secrets = ["{SECRET}"]
""" + flows.ours_config(SECRET)

# The child: argv row requests rounds; the configuration and state folder come in serve's environment variables.
CHILD = r"""
import asyncio, base64, json, sys, time
from identityserver.cli.serve import app_factory

row, requests, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SECRET, profile = sys.argv[4], sys.argv[6]
sys.path.insert(0, sys.argv[5])  # bench/, for flows.py


def basic(user):
    return b"Basic " + base64.b64encode(f"{user}:{SECRET}".encode())


async def call(app, path, body, auth):
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"authorization", auth), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def pooled_bodies(app, count):
    # one request body per measured request, each redeeming a code (or refresh token) made through the app
    import flows, httpx

    transport, base = httpx.ASGITransport(app=app), "http://127.0.0.1:8000"
    codes = await flows._ours_codes(base, "/connect/authorize", count, transport)
    if row == "code":
        return [flows.code_body(c).encode() for c in codes]
    auth = basic(flows.CODE_CLIENT).decode()
    return [flows.refresh_body(t).encode() for t in await flows._redeem(base, "/connect/token", auth, codes, transport)]


async def main():
    app = app_factory()
    to_app, from_app = asyncio.Queue(), asyncio.Queue()
    lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                         to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"
    per_task = max(1, requests // 64)
    token = ("/connect/token", b"grant_type=client_credentials")
    if row in ("code", "refresh"):
        path, auth = "/connect/token", basic("bench-code")
        bodies = iter(await pooled_bodies(app, per_task * 64 * rounds + 1))
        status, answer = await call(app, path, next(bodies), auth)
    else:
        if row == "introspection":
            status, body = await call(app, *token, basic("bench-ref"))
            access_token = json.loads(body)["access_token"]
            path, body, auth = "/connect/introspect", f"token={access_token}".encode(), basic("urn:api1")
        else:
            path, body, auth = *token, basic("bench-ref" if row == "reference" else "bench-jwt")
        bodies = None
        status, answer = await call(app, path, body, auth)
    assert status == 200 and b'"active":false' not in answer, (status, answer)

    async def task():
        for _ in range(per_task):
            status, answer = await call(app, path, next(bodies) if bodies else body, auth)
            assert status == 200, (status, answer)

    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    results = []
    for _ in range(rounds):
        start = time.process_time()
        await asyncio.gather(*(task() for _ in range(64)))
        results.append((time.process_time() - start) / (per_task * 64) * 1e6)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    print(json.dumps(results))
    await to_app.put({"type": "lifespan.shutdown"})
    await from_app.get()
    await lifespan


asyncio.run(main())
"""


def child_env(pythonpath: str, config: Path, state: Path) -> dict[str, str]:
    env = dict(os.environ, IDENTITYSERVER_CONFIG=str(config), IDENTITYSERVER_STATE=str(state))
    env["IDENTITYSERVER_ISSUER"] = "http://127.0.0.1:8000"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def instructions(command: list[str], env: dict[str, str], out: Path) -> int:
    """Instructions the command ran under callgrind, less those of generating RSA keys (every call, inclusive)."""
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    subprocess.run([*valgrind, *command], env=env, check=True, capture_output=True)
    lines = out.read_text().splitlines()
    total = next(int(line.split()[1]) for line in lines if line.startswith(("summary:", "totals:")))
    annotate = ["callgrind_annotate", "--inclusive=yes", str(out)]
    listing = subprocess.run(annotate, check=True, capture_output=True, text=True)
    generation = [line for line in listing.stdout.splitlines() if "rsa::__pyfunction_generate_private_key " in line]
    return total - sum(int(line.split()[0].replace(",", "")) for line in generation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated: " + ", ".join(ROWS))
    parser.add_argument("--requests", type=int, default=6000, help="requests per round")
    parser.add_argument(
        "--pooled-requests", type=int, default=1024, help=f"requests per round of {', '.join(POOLED)} (pool made first)"
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2, help="times each variant runs, alternating")
    parser.add_argument("--pythonpath", default="", help="comma-separated variants ('' = the installed package)")
    parser.add_argument("--core", default="0")
    parser.add_argument("--profile", help="cProfile the first variant's first run into this file")
    parser.add_argument("--instructions", help="N1,N2: instructions per request under callgrind (see above)")
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    if unknown := set(rows) - set(ROWS):
        raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
    variants = args.pythonpath.split(",")
    with tempfile.TemporaryDirectory(prefix="idsrv-inproc-") as folder:
        config = Path(folder) / "config.toml"
        config.write_text(CONFIG)
        child = Path(folder) / "child.py"
        child.write_text(CHILD)
        prepared = {}
        for index, variant in enumerate(variants):
            state = prepared[variant] = Path(folder) / f"state-{index}"
            command = [sys.executable, "-m", "identityserver", "db", "prepare", "--config", str(config)]
            env = child_env(variant, config, state)
            subprocess.run([*command, "--state-path", str(state)], env=env, check=True, capture_output=True)
        if args.instructions:
            low, high = (int(n) for n in args.instructions.split(","))
            for row in rows:
                for variant in variants:
                    counts = []
                    for requests in (low, high):
                        state = Path(folder) / "run"
                        shutil.rmtree(state, ignore_errors=True)
                        shutil.copytree(prepared[variant], state)
                        command = [sys.executable, str(child), row, str(requests), "1", SECRET, str(BENCH), ""]
                        out = Path(folder) / "callgrind.out"
                        counts.append(instructions(command, child_env(variant, config, state), out))
                    label = variant or "installed"
                    per_request = (counts[1] - counts[0]) / (high - low)
                    print(f"{row:14} {label:24} {per_request:14,.0f} Ir/request ({counts[0]:,} and {counts[1]:,})")
            return
        for row in rows:
            best: dict[str, float] = {}
            for repeat in range(args.repeats):
                for variant in variants:
                    state = Path(folder) / "run"
                    shutil.rmtree(state, ignore_errors=True)
                    shutil.copytree(prepared[variant], state)
                    profile = args.profile if args.profile and repeat == 0 and variant == variants[0] else ""
                    command = ["taskset", "-c", args.core, sys.executable, str(child)]
                    requests = args.pooled_requests if row in POOLED else args.requests
                    out = subprocess.run(
                        [*command, row, str(requests), str(args.rounds), SECRET, str(BENCH), profile],
                        env=child_env(variant, config, state),
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    rounds = [float(x) for x in out.strip().splitlines()[-1].strip("[]").split(",")]
                    best[variant] = min(best.get(variant, float("inf")), *rounds)
                    label = variant or "installed"
                    print(f"{row:14} {label:24} " + " ".join(f"{r:6.1f}" for r in rounds) + " µs CPU/request")
            print(f"{row:14} minimum: " + ", ".join(f"{v or 'installed'} {best[v]:.1f} µs" for v in variants))


if __name__ == "__main__":
    main()
