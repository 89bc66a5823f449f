"""Graceful shutdown of ``identityserver serve`` (a real process): after SIGTERM it accepts no new connection,
finishes the request in flight, runs the shutdown steps and exits 0; a request that outlasts
``--shutdown-timeout`` does not keep the process alive. Also the probes over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.support.process import MACHINE_CLIENT_CONFIG, free_port, wait_until_up

CONFIG = MACHINE_CLIENT_CONFIG


@contextlib.contextmanager
def server(tmp_path: Path, shutdown_timeout: int) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    port = free_port()
    args = [
        sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port),
        "--state-path", str(tmp_path / "state"), "--log-level", "info",
        "--shutdown-timeout", str(shutdown_timeout),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health/live", process, timeout=60)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout:
            process.stdout.close()


def token_request_head(port: int, body: bytes) -> bytes:
    auth = base64.b64encode(b"machine:machine-secret").decode()
    return (
        f"POST /connect/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_finishes_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    with server(tmp_path, shutdown_timeout=20) as (process, port):
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"signing_keys": "ok", "database": "ok"}
        assert "set-cookie" not in ready.headers and ready.headers["cache-control"] == "no-store"
        body = urlencode({"grant_type": "client_credentials", "scope": "api1"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            # a slow client: headers and half the body before SIGTERM, the rest after it
            sock.sendall(token_request_head(port, body) + body[:10])
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while accepts_connections(port) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not accepts_connections(port), "still accepting connections after SIGTERM"
            assert process.poll() is None, "exited with a request in flight"
            sock.sendall(body[10:])
            status, payload = read_response(sock)
        assert status == 200, payload
        assert json.loads(payload)["token_type"] == "Bearer"
        assert process.wait(timeout=20) == 0
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_a_request_outlasting_the_shutdown_timeout_does_not_hold_the_process(tmp_path: Path) -> None:
    with server(tmp_path, shutdown_timeout=1) as (process, port):
        body = urlencode({"grant_type": "client_credentials", "scope": "api1"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(token_request_head(port, body) + body[:10])  # never finished
            time.sleep(0.5)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=20)
            elapsed = time.monotonic() - started
    assert code == 0
    assert 0.9 <= elapsed < 10
