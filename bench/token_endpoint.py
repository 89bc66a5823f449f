#!/usr/bin/env python3
"""Token endpoint benchmark (run by hand, not in CI). See bench/README.md.

One ``identityserver serve`` worker pinned to core 0, ``wrk`` (1 thread, 64 keep-alive connections) pinned to
core 1 posting ``grant_type=client_credentials`` with ``client_secret_basic``. In the same run, the
single-core signing rate of ``cryptography`` (the library the server signs with) is measured on core 0, and
the token rate is reported as a fraction of it: the signature is the floor of the per-token cost, so the
ratio says how much of the core the rest of the server takes.

    python bench/token_endpoint.py                     # RS256, 3 runs of 10 s, median reported
    python bench/token_endpoint.py --alg ES256
    python bench/token_endpoint.py --alg RS256,ES256 --runs 5 --json results.json
    python bench/token_endpoint.py --alg RS256,ES256 --nice -20   # on a shared machine (root): see bench/README.md

Targets (issue 2): ratio >= 0.85 of the RS256 signing rate, p99 <= 2 x p50 at 64 connections,
RSS < 80 MiB per worker, ES256 >= 4000 tokens/s.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CLIENT_ID = "bench"
CLIENT_SECRET = "bench-secret"
SCOPE = "api1"
RESOURCE = "urn:api1"
SUPPORTED_ALGS = ("RS256", "ES256", "PS256")

TARGET_RATIO_RS256 = 0.85
TARGET_P99_OVER_P50 = 2.0
TARGET_RSS_MIB = 80.0
TARGET_ES256_TPS = 4000.0

# Runs in a subprocess pinned to the server core: signs a token-sized input with the same primitives the
# server uses (crypto/jwt.py ``sign``) and prints ops per wall-clock second and per CPU second. argv: alg seconds
SIGN_SCRIPT = r"""
import sys, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
alg, seconds = sys.argv[1], float(sys.argv[2])
data = b"e" * 420  # a typical access token's signing input (header.payload) is 350-450 bytes
if alg == "ES256":
    key = ec.generate_private_key(ec.SECP256R1())
    sig = ec.ECDSA(hashes.SHA256())
    op = lambda: key.sign(data, sig)
else:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    h = hashes.SHA256()
    op = lambda: key.sign(data, pad, h)
for _ in range(50):
    op()
batch, count = 20 if alg != "ES256" else 400, 0
start, cpu_start = time.perf_counter(), time.process_time()
deadline = start + seconds
while True:
    for _ in range(batch):
        op()
    count += batch
    now = time.perf_counter()
    if now >= deadline:
        break
print(count / (now - start), count / (time.process_time() - cpu_start))
"""


@dataclass
class RunResult:
    alg: str
    run: int
    tokens_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str
    rss_mib: float
    hwm_mib: float
    sign_rate: dict[str, float] = field(default_factory=dict)
    """Raw single-core signing rate per algorithm (mean of the measurements before and after the load)."""
    sign_spread: dict[str, float] = field(default_factory=dict)
    """Relative difference between the before/after signing measurements (a noise indicator)."""
    sign_cpu_rate: dict[str, float] = field(default_factory=dict)
    """Signatures per CPU second: insensitive to other processes taking the core."""
    server_cpu_us_per_token: float = 0.0
    """Server CPU time (user + system) per request: insensitive to other processes taking the core."""
    server_cpu: float = 0.0
    """Share of one core the server used during the measured run (1.0 = saturated)."""
    client_cpu: float = 0.0
    """Share of one core wrk used."""
    foreign_cpu: float = 0.0
    """CPU used by other processes on the two cores during the measured run, as a share of one core."""
    noisy: bool = False

    @property
    def ratio(self) -> float:
        return self.tokens_per_s / self.sign_rate[self.alg]

    @property
    def cpu_ratio(self) -> float:
        """Signing CPU time / server CPU time per token: the ratio a quiet, saturated core would show."""
        return (1e6 / self.sign_cpu_rate[self.alg]) / self.server_cpu_us_per_token

    @property
    def p99_over_p50(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


# -- helpers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(folder: Path, alg: str) -> Path:
    config = folder / "identityserver.toml"
    config.write_text(
        textwrap.dedent(
            f"""\
            # written by bench/token_endpoint.py
            [options.key_management]
            signing_algorithms = ["{alg}"]

            [[clients]]
            client_id = "{CLIENT_ID}"
            client_secrets = ["{CLIENT_SECRET}"]
            allowed_grant_types = ["client_credentials"]
            allowed_scopes = ["{SCOPE}"]

            [[api_scopes]]
            name = "{SCOPE}"

            [[api_resources]]
            name = "{RESOURCE}"
            scopes = ["{SCOPE}"]
            """
        )
    )
    return config


def basic_header() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode("ascii")


def write_lua(folder: Path) -> Path:
    script = folder / "token.lua"
    script.write_text(
        textwrap.dedent(
            f"""\
            wrk.method = "POST"
            wrk.body = "grant_type=client_credentials"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            wrk.headers["Authorization"] = "{basic_header()}"
            """
        )
    )
    return script


def server_command(args: argparse.Namespace) -> list[str]:
    exe = shutil.which("identityserver", path=str(Path(sys.executable).parent)) or shutil.which("identityserver")
    if args.pythonpath or exe is None:
        # ``python -m`` honours PYTHONPATH first, so a scratch copy of the package can be measured
        return [sys.executable, "-m", "identityserver"]
    return [exe]


def wait_for_discovery(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                doc: dict[str, Any] = json.loads(response.read())
                return doc
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise SystemExit(f"discovery did not answer within {timeout:.0f}s:\n{log.read_text()[-4000:]}")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def check_token(token_endpoint: str, jwks_uri: str, alg: str) -> dict[str, Any]:
    """One request before the load: 200, a JWT of the expected alg, signature valid against the JWKS."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    request = urllib.request.Request(
        token_endpoint,
        data=b"grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic_header()},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    token = body["access_token"]
    head_b64, payload_b64, sig_b64 = token.split(".")
    header = json.loads(b64url_decode(head_b64))
    payload = json.loads(b64url_decode(payload_b64))
    if header.get("alg") != alg:
        raise SystemExit(f"token is signed with {header.get('alg')}, expected {alg}")
    with urllib.request.urlopen(jwks_uri, timeout=10) as response:
        jwks = json.loads(response.read())["keys"]
    jwk = next(k for k in jwks if k.get("kid") == header.get("kid"))
    signing_input = f"{head_b64}.{payload_b64}".encode("ascii")
    signature = b64url_decode(sig_b64)

    def as_int(name: str) -> int:
        return int.from_bytes(b64url_decode(jwk[name]), "big")

    if jwk["kty"] == "RSA":
        public = rsa.RSAPublicNumbers(as_int("e"), as_int("n")).public_key()
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        )
        public.verify(signature, signing_input, pad, hashes.SHA256())
    else:
        ec_public = ec.EllipticCurvePublicNumbers(as_int("x"), as_int("y"), ec.SECP256R1()).public_key()
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        ec_public.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    return {"token_bytes": len(token), "signing_input_bytes": len(signing_input), "header": header, "claims": payload}


def worker_pids(pid: int) -> list[int]:
    """The uvicorn worker processes: the server itself with one worker, its Python children with several."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid and "python" in (entry / "comm").read_text() + (entry / "cmdline").read_text():
                children.append(int(entry.name))
    return children or [pid]


def proc_status(pid: int) -> dict[str, str]:
    status: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        status[name] = value.strip()
    return status


def kib_to_mib(value: str) -> float:
    return int(value.split(maxsplit=1)[0]) / 1024


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_busy_seconds(cores: tuple[int, ...]) -> float:
    """user + nice + system time of the given cores (irq/softirq excluded: that is mostly our own traffic)."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            total += int(fields[0]) + int(fields[1]) + int(fields[2])
    return total / _TICK


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(cores: tuple[int, ...], threshold: float, timeout: float) -> float:
    """Wait (up to ``timeout`` seconds) until other processes use less than ``threshold`` of a core on ``cores``;
    return the last measured share."""
    deadline = time.monotonic() + timeout
    while True:
        before = cpu_busy_seconds(cores)
        time.sleep(1.0)
        share = cpu_busy_seconds(cores) - before
        if share < threshold or time.monotonic() >= deadline:
            return share
        print(f"   waiting for other processes to quieten ({share:.0%} of a core busy)", flush=True)


NICE: list[str] = []
"""``nice -n N`` prefix for everything the benchmark starts (``--nice``)."""
AUTOGROUP_NICE: list[int] = []
"""With autogroup scheduling, nice only orders tasks within one session: ``--nice`` then starts each child in a
session of its own and gives that session's group the nice value."""


def prioritise(pid: int) -> None:
    for value in AUTOGROUP_NICE:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(value))


def run_output(command: list[str]) -> str:
    """Run ``command`` (prioritised with ``--nice``) and return its stdout; raise on failure."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=bool(AUTOGROUP_NICE)
    )
    prioritise(proc.pid)
    out, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, out, err)
    return out


def signing_rate(alg: str, core: int, seconds: float) -> tuple[float, float]:
    """(signatures per wall-clock second, signatures per CPU second) on one core."""
    out = run_output([*NICE, "taskset", "-c", str(core), sys.executable, "-c", SIGN_SCRIPT, alg, str(seconds)])
    wall, cpu = out.split()
    return float(wall), float(cpu)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and total):
        raise SystemExit(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:\s+(.*)", output)
    return {
        "tokens_per_s": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "requests": int(total.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def run_wrk(args: argparse.Namespace, url: str, lua: Path, seconds: float) -> str:
    command = [
        *NICE, "taskset", "-c", str(args.client_core),
        "wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds:g}s",
        "--timeout", "10s", "--latency", "-s", str(lua), url,
    ]  # fmt: skip
    return run_output(command)


# -- one algorithm -----------------------------------------------------------------------------------------


def bench_alg(args: argparse.Namespace, alg: str, sign_algs: list[str]) -> list[RunResult]:
    folder = Path(tempfile.mkdtemp(prefix=f"idsrv-bench-{alg.lower()}-"))
    config = write_config(folder, alg)
    lua = write_lua(folder)
    port = free_port()
    log = folder / "server.log"
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath, env.get("PYTHONPATH")]))
    command = [
        *NICE, "taskset", "-c", str(args.server_core), *server_command(args),
        "serve", "--config", str(config), "--port", str(port), "--workers", "1",
        "--state-path", str(folder / "state"), "--log-level", "warning",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    results: list[RunResult] = []
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=bool(AUTOGROUP_NICE),
        )
        prioritise(proc.pid)
        try:
            discovery = wait_for_discovery(f"{base}/.well-known/openid-configuration", proc, log)
            token_endpoint = discovery["token_endpoint"]
            check = check_token(token_endpoint, discovery["jwks_uri"], alg)
            workers = worker_pids(proc.pid)
            if len(workers) != 1:
                raise SystemExit(f"expected one worker process, found {workers}")
            worker = workers[0]
            status = proc_status(worker)
            print(
                f"\n== {alg}: server pid {worker} on cores {status.get('Cpus_allowed_list')}, {token_endpoint}, "
                f"token {check['token_bytes']} bytes (signing input {check['signing_input_bytes']}), "
                f"claims {sorted(check['claims'])}, RSS at start {kib_to_mib(status['VmRSS']):.1f} MiB",
                flush=True,
            )
            run = 0
            while sum(not r.noisy for r in results) < args.runs and run < args.runs + args.retries:
                run += 1
                if args.wait_quiet:
                    wait_for_quiet((args.server_core, args.client_core), args.max_foreign, args.wait_quiet)
                before = {a: signing_rate(a, args.server_core, args.sign_seconds) for a in sign_algs}
                if args.warmup > 0:
                    parse_wrk(run_wrk(args, token_endpoint, lua, args.warmup))
                cores = (args.server_core, args.client_core)
                busy0, server0, client0, wall0 = (
                    cpu_busy_seconds(cores),
                    process_cpu_seconds(worker),
                    children_cpu_seconds(),
                    time.monotonic(),
                )
                measured = parse_wrk(run_wrk(args, token_endpoint, lua, args.duration))
                wall = time.monotonic() - wall0
                server_cpu = process_cpu_seconds(worker) - server0
                client_cpu = children_cpu_seconds() - client0
                foreign = max(0.0, cpu_busy_seconds(cores) - busy0 - server_cpu - client_cpu)
                status = proc_status(worker)
                after = {a: signing_rate(a, args.server_core, args.sign_seconds) for a in sign_algs}
                result = RunResult(
                    alg=alg,
                    run=run,
                    rss_mib=kib_to_mib(status["VmRSS"]),
                    hwm_mib=kib_to_mib(status["VmHWM"]),
                    sign_rate={a: (before[a][0] + after[a][0]) / 2 for a in sign_algs},
                    sign_spread={
                        a: abs(before[a][0] - after[a][0]) / max(before[a][0], after[a][0]) for a in sign_algs
                    },
                    sign_cpu_rate={a: (before[a][1] + after[a][1]) / 2 for a in sign_algs},
                    server_cpu_us_per_token=server_cpu * 1e6 / max(measured["requests"], 1),
                    server_cpu=server_cpu / wall,
                    client_cpu=client_cpu / wall,
                    foreign_cpu=foreign / wall,
                    **measured,
                )
                result.noisy = result.foreign_cpu > args.max_foreign or max(result.sign_spread.values()) > 0.10
                results.append(result)
                print(
                    f"   run {run}: {result.tokens_per_s:8.1f} tokens/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  RSS {result.rss_mib:5.1f} MiB  "
                    f"{alg} sign {result.sign_rate[alg]:8.1f}/s (+-{result.sign_spread[alg] * 100:.0f}%)  "
                    f"ratio {result.ratio:.3f} (CPU-time ratio {result.cpu_ratio:.3f}, "
                    f"{result.server_cpu_us_per_token:.0f} us CPU/token)  "
                    f"cpu server {result.server_cpu:.0%} wrk {result.client_cpu:.0%} other {result.foreign_cpu:.0%}"
                    + ("  NOISY (other processes on the cores or unstable signing rate)" if result.noisy else "")
                    + (f"  NON-2XX {result.non_2xx}" if result.non_2xx else "")
                    + (f"  SOCKET ERRORS {result.socket_errors}" if result.socket_errors else ""),
                    flush=True,
                )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if args.keep:
                print(f"   kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
    return results


# -- report ------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(alg: str, all_runs: list[RunResult]) -> dict[str, Any]:
    """Medians over the clean runs (all runs when none was clean, flagged ``noisy``)."""
    clean = [r for r in all_runs if not r.noisy]
    runs = clean or all_runs
    return {
        "alg": alg,
        "runs": len(runs),
        "noisy": not clean,
        "discarded_noisy_runs": len(all_runs) - len(clean),
        "foreign_cpu": median([r.foreign_cpu for r in runs]),
        "server_cpu": median([r.server_cpu for r in runs]),
        "tokens_per_s": median([r.tokens_per_s for r in runs]),
        "p50_ms": median([r.p50_ms for r in runs]),
        "p99_ms": median([r.p99_ms for r in runs]),
        "p99_over_p50": median([r.p99_over_p50 for r in runs]),
        "rss_mib": median([r.rss_mib for r in runs]),
        "hwm_mib": max(r.hwm_mib for r in runs),
        "sign_rate": {a: median([r.sign_rate[a] for r in runs]) for a in runs[0].sign_rate},
        "ratio": median([r.ratio for r in runs]),
        "sign_cpu_rate": {a: median([r.sign_cpu_rate[a] for r in runs]) for a in runs[0].sign_cpu_rate},
        "server_cpu_us_per_token": median([r.server_cpu_us_per_token for r in runs]),
        "cpu_ratio": median([r.cpu_ratio for r in runs]),
        "us_per_token": 1e6 / median([r.tokens_per_s for r in runs]),
        "us_beyond_signature": median([1e6 / r.tokens_per_s - 1e6 / r.sign_rate[alg] for r in runs]),
        "non_2xx": sum(r.non_2xx for r in runs),
    }


def print_report(summaries: list[dict[str, Any]], args: argparse.Namespace) -> bool:
    print(f"\nMedian of the clean runs of {args.duration:g}s, wrk -t{args.threads} -c{args.connections}")
    header = (
        f"{'alg':<6} {'tokens/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'RSS MiB':>8} "
        f"{'sign/s':>9} {'ratio':>6} {'us/token':>8} {'us beyond sig':>13} {'runs':>4} {'other cpu':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in summaries:
        print(
            f"{s['alg']:<6} {s['tokens_per_s']:9.1f} {s['p50_ms']:7.2f} {s['p99_ms']:7.2f} {s['p99_over_p50']:7.2f} "
            f"{s['rss_mib']:8.1f} {s['sign_rate'][s['alg']]:9.1f} {s['ratio']:6.3f} {s['us_per_token']:8.0f} "
            f"{s['us_beyond_signature']:13.0f} {s['runs']:>4} {s['foreign_cpu']:9.0%}"
            + ("  (NOISY: no clean run)" if s["noisy"] else "")
        )
    rates = summaries[0]["sign_rate"]
    shown = ", ".join(f"{a} {v:,.0f}/s" for a, v in rates.items())
    print(f"raw single-core signing rate (cryptography, core {args.server_core}): {shown}")
    per_token = [
        f"{s['alg']} server {s['server_cpu_us_per_token']:.0f} us vs signature "
        f"{1e6 / s['sign_cpu_rate'][s['alg']]:.0f} us (CPU-time ratio {s['cpu_ratio']:.3f})"
        for s in summaries
    ]
    print("CPU time per token (less sensitive to other load than wall-clock rates): " + ", ".join(per_token))

    print("\nTargets (issue 2)")
    checks: list[tuple[str, str, bool]] = []
    for s in summaries:
        alg = s["alg"]
        if alg == "RS256":
            checks.append((
                f"RS256 tokens/s >= {TARGET_RATIO_RS256} x RS256 sign rate",
                f"{s['ratio']:.3f} ({s['tokens_per_s']:.0f} / {s['sign_rate']['RS256']:.0f})",
                s["ratio"] >= TARGET_RATIO_RS256,
            ))  # fmt: skip
        if alg == "ES256":
            checks.append((
                f"ES256 tokens/s >= {TARGET_ES256_TPS:.0f}",
                f"{s['tokens_per_s']:.0f} (ratio to ES256 sign rate {s['ratio']:.3f})",
                s["tokens_per_s"] >= TARGET_ES256_TPS,
            ))  # fmt: skip
        checks.append((
            f"{alg} p99 <= {TARGET_P99_OVER_P50:g} x p50 at {args.connections} connections",
            f"{s['p99_ms']:.2f} / {s['p50_ms']:.2f} ms = {s['p99_over_p50']:.2f}",
            s["p99_over_p50"] <= TARGET_P99_OVER_P50,
        ))  # fmt: skip
        checks.append((
            f"{alg} RSS < {TARGET_RSS_MIB:g} MiB per worker",
            f"{s['rss_mib']:.1f} MiB (peak {s['hwm_mib']:.1f})",
            s["rss_mib"] < TARGET_RSS_MIB,
        ))  # fmt: skip
        if s["non_2xx"]:
            checks.append((f"{alg} all responses 200", f"{s['non_2xx']} non-2xx", False))
    width = max(len(c[0]) for c in checks)
    for name, value, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:<{width}}  {value}")
    return all(ok for _, _, ok in checks)


def environment() -> dict[str, Any]:
    import cryptography

    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")),
            "",
        )  # fmt: skip
    wrk_version = subprocess.run(["wrk", "-v"], check=False, capture_output=True, text=True).stdout.splitlines()[:1]
    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "openssl": _openssl_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "wrk": wrk_version[0] if wrk_version else "?",
    }


def package_source(pythonpath: str | None) -> str:
    """Where the server imports ``identityserver`` from, with the git commit (and dirty files) of that tree."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    code = "import identityserver, os; print(os.path.dirname(identityserver.__file__))"

    def output(command: list[str], env: dict[str, str] | None = None) -> str:
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
        return done.stdout.strip()

    where = output([sys.executable, "-c", code], env=env)
    git = ["git", "--no-optional-locks", "-C", where or "."]  # read-only: no index refresh
    head = output([*git, "rev-parse", "--short", "HEAD"])
    if not head:
        return where
    dirty = output([*git, "status", "--porcelain"]).splitlines()
    return f"{where} (commit {head}" + (f", {len(dirty)} changed files)" if dirty else ")")


def _openssl_version() -> str:
    from cryptography.hazmat.backends.openssl.backend import backend

    return str(backend.openssl_version_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alg", default="RS256", help="signing algorithm(s), comma-separated: RS256, ES256, PS256")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per algorithm; the median is reported")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each measured run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.03,
        help="a run is noisy (repeated, left out of the median) when other processes use more than this share "
        "of a core on the two benchmark cores, or the signing rate moves by more than 10%% across it",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each run, wait up to this long for the two cores to be idle (useful on a shared machine)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the server, wrk and the signing measurement with this nice value (negative needs root; with "
        "autogroup scheduling each gets its own session group with that nice value): on a shared machine, -20 keeps "
        "other processes from taking the benchmark cores; they are slowed down meanwhile",
    )
    parser.add_argument("--retries", type=int, default=3, help="extra runs allowed to replace noisy ones")
    parser.add_argument("--sign-seconds", type=float, default=2, help="seconds per signing-rate measurement")
    parser.add_argument("--pythonpath", help="put this folder first on the server's PYTHONPATH (a scratch copy)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (config, state, server log)")
    args = parser.parse_args()

    algs = [a.strip().upper() for a in args.alg.split(",") if a.strip()]
    if args.nice:
        NICE[:] = ["nice", "-n", str(args.nice)]
        with contextlib.suppress(OSError):
            if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1":
                AUTOGROUP_NICE[:] = [args.nice]
    for alg in algs:
        if alg not in SUPPORTED_ALGS:
            parser.error(f"unsupported --alg {alg}")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is required (apt-get install wrk util-linux)")
    sign_algs = list(dict.fromkeys([*algs, "RS256", "ES256"]))
    env = environment()
    env["identityserver"] = package_source(args.pythonpath)
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))
    if args.pythonpath:
        print(f"server PYTHONPATH starts with {args.pythonpath}")

    all_runs = {alg: bench_alg(args, alg, sign_algs) for alg in algs}
    summaries = [summarize(alg, runs) for alg, runs in all_runs.items()]
    ok = print_report(summaries, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "environment": env,
                    "settings": vars(args),
                    "summaries": summaries,
                    "runs": [{**asdict(r), "ratio": r.ratio} for runs in all_runs.values() for r in runs],
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
