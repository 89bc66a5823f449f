"""``identityserver serve`` behind a proxy (a real process): uvicorn's own proxy-header handling is off, so the
forwarded headers count only from ``[options.forwarded_headers] trusted_proxies``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.process import free_port, wait_until_up

HEADERS = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "idp.example.com"}


def issuer_seen(tmp_path: Path, trusted: list[str]) -> str:
    config = tmp_path / "c.toml"
    # allowed_hosts: without issuer_uri only listed hosts are served (issue 16 item 6)
    hosts = '[options]\nallowed_hosts = ["idp.example.com", "127.0.0.1"]\n'
    config.write_text(hosts + f"[options.forwarded_headers]\ntrusted_proxies = {trusted!r}\n".replace("'", '"'))
    port = free_port()
    args = [
        sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port),
        "--host", "0.0.0.0", "--state-path", str(tmp_path / "state"), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health/live", process, timeout=60)
        document = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", headers=HEADERS)
        return str(document.json()["issuer"])
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def test_forwarded_scheme_and_host_from_a_trusted_proxy(tmp_path: Path) -> None:
    # a wildcard bind leaves the issuer to each request (without issuer_uri)
    assert issuer_seen(tmp_path, ["127.0.0.1"]) == "https://idp.example.com"


def test_uvicorn_does_not_honour_the_headers_from_127_0_0_1_on_its_own(tmp_path: Path) -> None:
    port_issuer = issuer_seen(tmp_path, [])
    assert port_issuer.startswith("http://127.0.0.1:")
