"""``identityserver serve`` as a real process (issue 2 "Verification"): a token obtained with Authlib's OAuth 2.0
client (client_credentials, client_secret_basic) verifies against the JWKS with Authlib's JOSE; a restart on the
same state folder keeps the signing key. The process is always terminated."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import pytest

from tests.support.client_auth import jwt_parts, verify_jwt

STARTUP_TIMEOUT = 60.0
READY = "Application startup complete"


@dataclass
class Running:
    base_url: str
    output: list[str]
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pump(stream, lines: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def _wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    # uvicorn reports the app's start-up before it binds its socket: a connection right after can be refused
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def serve(
    *args: str, port: int | None = None, program: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> Iterator[Running]:
    """Run ``python -m identityserver serve *args`` (or ``program serve *args``) until uvicorn reports that the app
    started; always stop it."""
    port = port or free_port()
    program = program or [sys.executable, "-m", "identityserver"]
    command = [*program, "serve", "--port", str(port), "--log-level", "info", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    output: list[str] = []
    try:
        while not any(READY in line for line in output):
            line = lines.get(timeout=STARTUP_TIMEOUT)  # raises queue.Empty if the server hangs
            if line is None:
                raise AssertionError(f"server exited with {process.wait()}:\n{''.join(output)}")
            output.append(line)
        _wait_listening(port, process)
        yield Running(f"http://127.0.0.1:{port}", output, process.pid)
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


def fetch_token(base_url: str) -> dict:
    """client_credentials with client_secret_basic, done by Authlib's OAuth 2.0 client."""
    import authlib.deprecate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client

    discovery = httpx.get(f"{base_url}/.well-known/openid-configuration").json()
    with OAuth2Client(
        "machine", "machine-secret", scope="api1", token_endpoint_auth_method="client_secret_basic"
    ) as client:
        return dict(client.fetch_token(discovery["token_endpoint"], grant_type="client_credentials"))


def test_served_token_verifies_with_authlib_and_the_key_survives_a_restart(tmp_path, config_file):
    state = tmp_path / "state"
    port = free_port()
    with serve("--config", str(config_file), "--state-path", str(state), port=port) as server:
        issuer = server.base_url
        discovery = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
        assert discovery["issuer"] == issuer
        assert any(issuer in line for line in server.output)  # start-up prints the issuer
        token = fetch_token(issuer)
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        jwks = httpx.get(discovery["jwks_uri"]).json()
        header, _ = jwt_parts(token["access_token"])
        assert header["typ"] == "at+jwt"
        assert header["alg"] == "RS256"
        claims = verify_jwt(token["access_token"], jwks, ["RS256"])
        assert claims["iss"] == issuer
        assert claims["client_id"] == "machine"
        assert claims["sub"] == "machine"
        assert claims["aud"] == "urn:api1"
        assert claims["scope"] == "api1"
        assert claims["exp"] - claims["iat"] == 3600
        first_kid = header["kid"]
    stored = [path for path in state.rglob("*") if path.is_file()]
    assert stored, "the state folder holds the keys"
    for path in stored:  # key material is encrypted at rest, whatever the store
        assert b"PRIVATE KEY" not in path.read_bytes(), path

    # same port, so the same issuer (derived from the bind address)
    with serve("--config", str(config_file), "--state-path", str(state), port=port) as server:
        assert server.base_url == issuer
        jwks_after = httpx.get(f"{server.base_url}/.well-known/openid-configuration/jwks").json()
        assert [k["kid"] for k in jwks_after["keys"]] == [first_kid]
        second = fetch_token(server.base_url)
        assert jwt_parts(second["access_token"])[0]["kid"] == first_kid
        # a token issued before the restart still verifies and still introspects as active
        assert verify_jwt(token["access_token"], jwks_after, ["RS256"])["client_id"] == "machine"
        introspection = httpx.post(
            f"{server.base_url}/connect/introspect",
            data={"token": token["access_token"]},
            auth=httpx.BasicAuth("urn%3Aapi1", "api1-secret"),
        )
        assert introspection.json()["active"] is True


def test_a_websocket_upgrade_is_answered_as_plain_http(tmp_path, config_file):
    """The server speaks no WebSocket: the handshake is not taken up (no 101, no WebSocket scope reaching the
    app), the request gets its ordinary answer."""
    with serve("--config", str(config_file), "--state-path", str(tmp_path / "state")) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        handshake = (
            "GET /.well-known/openid-configuration HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(handshake.encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line == b"HTTP/1.1 200 OK", answer[:300]
        assert b"application/json" in answer.split(b"\r\n\r\n", 1)[0].lower()


def _exchange(sock: socket.socket, host: str) -> bytes:
    """One GET of the discovery document on a kept-alive connection: the status line of its answer, read whole."""
    sock.sendall(f"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        body += chunk
    return head.split(b"\r\n", 1)[0]


def test_an_idle_connection_outlasts_the_idle_timeouts_of_clients_and_load_balancers(tmp_path, config_file):
    """Kept-alive connections stay open longer than the clients' (httpx: 5 s) and load balancers' own idle timeouts,
    so that the client closes first and never sends a request on a connection the server is closing (uvicorn's
    default was 5 s); ``--keep-alive-timeout`` sets it."""
    with serve("--config", str(config_file), "--state-path", str(tmp_path / "state")) as server:
        address = server.base_url.removeprefix("http://")
        host, port = address.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            assert _exchange(sock, address) == b"HTTP/1.1 200 OK"
            time.sleep(6)
            assert _exchange(sock, address) == b"HTTP/1.1 200 OK"
    with serve(
        "--config", str(config_file), "--state-path", str(tmp_path / "state"), "--keep-alive-timeout", "1"
    ) as server:
        address = server.base_url.removeprefix("http://")
        host, port = address.split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            assert _exchange(sock, address) == b"HTTP/1.1 200 OK"
            answered = time.monotonic()
            assert sock.recv(1) == b""  # closed by the server
            assert time.monotonic() - answered < 5


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--shutdown-timeout", "-1", "must not be negative"),
        ("--keep-alive-timeout", "0", "must be at least 1 second"),
        ("--keep-alive-timeout", "soon", "expected a whole number of seconds"),
    ],
)
def test_a_timeout_out_of_range_is_refused_before_anything_starts(option, value, message):
    completed = subprocess.run(
        [sys.executable, "-m", "identityserver", "serve", option, value],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert f"{option}: {message}" in completed.stderr


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[[clients]]\nclient_id = "c"\ncolour = "red"\n', 'clients[0] (client_id "c"): field "colour"'),
        ('[options.key_management]\nsigning_algorithms = ["HS256"]\n', '[options.key_management]: field "signing_'),
    ],
)
def test_invalid_configuration_stops_startup_with_a_message_naming_file_entry_and_field(tmp_path, toml, expected):
    path = tmp_path / "broken.toml"
    path.write_text(toml)
    result = subprocess.run(
        [sys.executable, "-m", "identityserver", "serve", "--config", str(path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_keeps_what_start_up_built_out_of_the_garbage_collectors_sight(tmp_path, config_file):
    """app_factory freezes the objects start-up made (gc.freeze): full collections then walk only what requests
    allocate, instead of pausing every request in flight for tens of milliseconds."""
    probe = (
        "import gc, os\n"
        f"os.environ['IDENTITYSERVER_CONFIG'] = {str(config_file)!r}\n"
        f"os.environ['IDENTITYSERVER_STATE'] = {str(tmp_path / 'state')!r}\n"
        "os.environ['IDENTITYSERVER_ISSUER'] = 'http://127.0.0.1:5000'\n"
        "from identityserver.cli.serve import app_factory\n"
        "before = gc.get_freeze_count()\n"
        "app_factory()\n"
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    before, frozen, tracked = (int(x) for x in out.stdout.split())
    # Python 3.12.1 reports 375 objects frozen before anything is imported (3.11.7 and 3.13.0: none)
    assert before < 1_000
    assert frozen - before > 50_000  # every module, class and service of the worker
    assert tracked < (frozen - before) / 10


async def test_a_served_worker_trims_its_heap_in_the_background(tmp_path, config_file, monkeypatch):
    """build_app (what each worker of `serve` runs) adds the heap trim to the background jobs its lifespan runs."""
    from identityserver.cli import serve as serve_module
    from identityserver.hosting.heap import heap_trim_job

    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(serve_module, "heap_trim_job", lambda: heap_trim_job(0.01, trim))
    app = serve_module.build_app(serve_module.load(str(config_file)), str(tmp_path / "state"), "http://127.0.0.1:5000")
    to_app: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(from_app.get(), 30))["type"] == "lifespan.startup.complete"
    await asyncio.sleep(0.1)
    await to_app.put({"type": "lifespan.shutdown"})
    assert (await asyncio.wait_for(from_app.get(), 30))["type"] == "lifespan.shutdown.complete"
    await lifespan
    assert len(calls) >= 3
    count = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == count  # stopped with the worker


def test_the_command_lines_keep_alive_default_is_serves():
    from identityserver.cli import build_parser
    from identityserver.cli.serve import DEFAULT_KEEP_ALIVE_TIMEOUT

    assert build_parser().parse_args(["serve"]).keep_alive_timeout == DEFAULT_KEEP_ALIVE_TIMEOUT
