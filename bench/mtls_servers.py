"""Which ASGI server can terminate TLS for mutual TLS (RFC 8705), and at what cost (docs/mtls.md).

For each candidate it starts the same app (``identityserver.cli.serve:app_factory``, one worker, a configuration
with a ``tls_client_auth`` client), then:

1. probes: a token request that authenticates with a client certificate only on the TLS connection, so it
   succeeds only if the server hands the certificate to the app (the ASGI TLS extension);
2. measures discovery-document requests per second from ``--connections`` keep-alive httpx connections for
   ``--seconds`` (the client runs in this process, so the figures compare servers, not absolute capacity).

Candidates: ``identityserver serve`` over plain HTTP (today's server, the baseline), ``identityserver serve
--tls-cert --tls-key --tls-client-ca`` (uvicorn + the TLS-extension protocol of ``cli/tls.py``), hypercorn and
granian with their own TLS options (installed by hand: ``pip install hypercorn granian``).

    python bench/mtls_servers.py --seconds 5 --connections 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.mtls.certificates import issue, make_ca  # the certificate helpers of the test run

CONFIG = """
[options.mutual_tls]
enabled = true

[[clients]]
client_id = "mtls.dn"
client_secrets = [{ type = "X509Name", value = "CN=mtls.dn, O=Example" }]
token_endpoint_auth_method = "tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def commands(folder: Path, port: int) -> dict[str, tuple[list[str], str]]:
    cert, key, ca = (str(folder / n) for n in ("server.pem", "server.key", "ca.pem"))
    serve = [sys.executable, "-m", "identityserver", "serve", "--config", str(folder / "c.toml"), "--port", str(port)]
    serve += ["--state-path", str(folder / "state"), "--log-level", "warning"]
    factory = "identityserver.cli.serve:app_factory"
    found = {
        "uvicorn http (today)": (serve, "http"),
        "uvicorn tls + extension": ([*serve, "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca], "https"),
    }
    if shutil.which("hypercorn"):
        hypercorn = ["hypercorn", f"{factory}()", "--bind", f"127.0.0.1:{port}", "--certfile", cert, "--keyfile", key]
        found["hypercorn tls"] = ([*hypercorn, "--ca-certs", ca, "--verify-mode", "CERT_OPTIONAL"], "https")
    if shutil.which("granian"):
        granian = ["granian", "--interface", "asgi", "--factory", factory, "--port", str(port), "--no-ws"]
        granian += ["--ssl-certificate", cert, "--ssl-keyfile", key, "--ssl-ca", ca, "--no-ssl-client-verify"]
        found["granian tls"] = (granian, "https")
    return found


async def load(url: str, verify: ssl.SSLContext | bool, connections: int, seconds: float) -> float:
    count = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal count
        async with httpx.AsyncClient(verify=verify) as client:
            while time.monotonic() < stop:
                (await client.get(url)).raise_for_status()
                count += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    return count / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        from cryptography.x509.oid import ExtendedKeyUsageOID

        ca = make_ca()
        server = issue(ca, "localhost", ips=["127.0.0.1"], usage=ExtendedKeyUsageOID.SERVER_AUTH)
        server.write(folder, "server")
        (folder / "ca.pem").write_text(ca.pem)
        client_cert, client_key = issue(ca, "mtls.dn").write(folder, "client")
        (folder / "c.toml").write_text(CONFIG)
        trust = ssl.create_default_context(cadata=ca.pem)
        with_cert = ssl.create_default_context(cadata=ca.pem)
        with_cert.load_cert_chain(client_cert, client_key)
        print(f"{'server':<26} {'cert reaches app':>16} {'discovery req/s':>16}")
        for name, (command, scheme) in commands(folder, port := free_port()).items():
            env = {**os.environ, "IDENTITYSERVER_CONFIG": str(folder / "c.toml")}
            env |= {
                "IDENTITYSERVER_STATE": str(folder / "state"),
                "IDENTITYSERVER_ISSUER": f"{scheme}://127.0.0.1:{port}",
            }
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"{scheme}://127.0.0.1:{port}"
            try:
                for _ in range(300):
                    try:
                        httpx.get(f"{base}/.well-known/openid-configuration", verify=trust, timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                probe = "n/a"
                if scheme == "https":
                    data = {"grant_type": "client_credentials", "client_id": "mtls.dn", "scope": "api1"}
                    response = httpx.post(f"{base}/connect/token", data=data, verify=with_cert)
                    probe = "yes" if response.status_code == 200 else "no"
                rate = asyncio.run(
                    load(f"{base}/.well-known/openid-configuration", trust, args.connections, args.seconds)
                )
                print(f"{name:<26} {probe:>16} {rate:>16.0f}")
            finally:
                process.terminate()
                process.wait(timeout=15)

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
