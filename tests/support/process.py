"""Running ``identityserver serve`` (or any ASGI app) as a real process on a free port, for tests over HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

MACHINE_CLIENT_CONFIG = """
[[clients]]
client_id = "machine"
client_secrets = ["machine-secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"
"""
"""A configuration file's client ``machine`` (secret ``machine-secret``) allowed client_credentials for scope
``api1``: what the tests of a served process ask their tokens of."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_pids(pid: int) -> list[int]:
    """The processes ``pid`` started that still run (Linux: ``/proc/<pid>/task/<pid>/children``; none elsewhere)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}: {_output(process)}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up: {_output(process)}")


def _output(process: subprocess.Popen[bytes]) -> str:
    with contextlib.suppress(Exception):
        process.kill()
        out, _ = process.communicate(timeout=5)
        return out.decode(errors="replace")[-4000:]
    return ""


@contextlib.contextmanager
def serve(
    config: Path,
    state: Path,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Start ``identityserver serve --config`` (in ``cwd`` when given; on ``port``, else a free one) and yield its
    base URL; always stopped afterwards."""
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "identityserver",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        "--state-path",
        str(state),
        "--log-level",
        "warning",
        *(extra_args or []),
    ]
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/.well-known/openid-configuration", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@contextlib.contextmanager
def uvicorn_app(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parents[2],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
