"""``identityserver serve`` as a real process against the attacks of issue 16 items 3 and 6: oversized request
heads are refused with 414/431 before they are read (memory stays flat), and without ``issuer_uri`` on a
wildcard bind the issuer cannot be chosen through the ``Host`` header."""

from __future__ import annotations

import contextlib
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.process import MACHINE_CLIENT_CONFIG, free_port

READY = "Uvicorn running"
CONFIG = MACHINE_CLIENT_CONFIG


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]
    output: list[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


def _pump(stream, lines: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


@contextlib.contextmanager
def served(tmp_path: Path, *args: str, toml: str = CONFIG) -> Iterator[Served]:
    config = tmp_path / "identityserver.toml"
    config.write_text(toml)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "identityserver",
        "serve",
        "--config",
        str(config),
        "--state-path",
        str(tmp_path / "state"),
        "--port",
        str(port),
        "--log-level",
        "info",
        *args,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    output: list[str] = []
    try:
        while not any(READY in line for line in output):
            line = lines.get(timeout=60)
            if line is None:
                raise AssertionError(f"server exited with {process.wait()}:\n{''.join(output)}")
            output.append(line)
        yield Served(port, process, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def send_huge_cookie(port: int, total: int = 50 * 1024 * 1024) -> tuple[int, int, float]:
    """Stream a request whose ``Cookie`` header is ``total`` bytes; (status, bytes sent, seconds) once the server
    answers or stops reading."""
    started = time.monotonic()
    sent = 0
    chunk = b"a" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: x=")
        with contextlib.suppress(ConnectionError, TimeoutError, OSError):
            sock.settimeout(2)
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        sock.settimeout(10)
        answer = b""
        with contextlib.suppress(ConnectionError, TimeoutError, OSError):
            while b"\r\n" not in answer:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
    return _status(answer), sent, time.monotonic() - started


def raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(ConnectionError, OSError):
            sock.sendall(head)
        answer = b""
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
    return _status(answer), answer


def test_a_50_mb_cookie_header_is_refused_with_431_quickly_and_memory_stays_flat(tmp_path):
    with served(tmp_path) as server:
        assert httpx.get(f"{server.base_url}/.well-known/openid-configuration").status_code == 200
        before = server.rss_kib()
        results: list[tuple[int, int, float]] = []
        threads = [threading.Thread(target=lambda: results.append(send_huge_cookie(server.port))) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(results) == 8
        for status, sent, seconds in results:
            assert status == 431
            assert sent < 50 * 1024 * 1024  # the server stopped reading long before the end
            assert seconds < 10
        grown = server.rss_kib() - before
        assert grown < 20 * 1024, f"worker grew by {grown} KiB"
        started = time.monotonic()
        assert httpx.get(f"{server.base_url}/.well-known/openid-configuration").status_code == 200
        assert time.monotonic() - started < 1.0


def test_request_heads_over_the_limits_get_414_and_431_and_ones_within_them_are_served(tmp_path):
    with served(tmp_path) as server:
        long_line = b"GET /.well-known/openid-configuration?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        status, answer = raw_request(server.port, long_line)
        assert status == 414 and b"connection: close" in answer.lower()
        many = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"b" * 1000) for i in range(20))  # ~20 KiB in one read
        status, _ = raw_request(
            server.port, b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n"
        )
        assert status == 431
        fine = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"b" * 1000) for i in range(12))
        status, _ = raw_request(
            server.port,
            b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + fine
            + b"\r\n",
        )
        assert status == 200


def test_a_wildcard_bind_without_issuer_uri_refuses_foreign_hosts_and_warns(tmp_path):
    with served(tmp_path, "--host", "0.0.0.0") as server:
        assert any("issuer_uri is not set" in line for line in server.output)
        url = f"{server.base_url}/.well-known/openid-configuration"
        forged = httpx.get(url, headers={"Host": "attacker.example"})
        assert forged.status_code == 400
        token = httpx.post(
            f"{server.base_url}/connect/token",
            data={"grant_type": "client_credentials", "scope": "api1"},
            auth=("machine", "machine-secret"),
            headers={"Host": f"attacker.example:{server.port}"},
        )
        assert token.status_code == 400 and "access_token" not in token.text
        login = httpx.get(f"{server.base_url}/account/login", headers={"Host": "attacker.example"})
        assert login.status_code == 400
        local = httpx.get(url, headers={"Host": f"localhost:{server.port}"})
        assert local.status_code == 200 and local.json()["issuer"] == f"http://localhost:{server.port}"


def test_allowed_hosts_admits_the_configured_names_only(tmp_path):
    toml = '[options]\nallowed_hosts = ["idp.example"]\n' + CONFIG
    with served(tmp_path, "--host", "0.0.0.0", toml=toml) as server:
        url = f"{server.base_url}/.well-known/openid-configuration"
        assert httpx.get(url, headers={"Host": "idp.example"}).json()["issuer"] == "http://idp.example"
        assert httpx.get(url, headers={"Host": "localhost"}).status_code == 400
