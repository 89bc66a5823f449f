"""Two (or more) ``identityserver serve`` processes on one PostgreSQL database (and optionally one Redis), behind
a test load balancer without stickiness: every request goes to the next node in turn unless a step pins one.

The balancer keeps the ``Host`` of the shared issuer (``http://idp.test``) and only changes where the connection
goes, as a reverse proxy does, so that cookies, redirects, DPoP ``htu`` and client-assertion audiences are the
same whichever node answers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver.crypto.jwk import public_jwk
from tests.support.process import free_port, wait_until_up

ISSUER = "http://idp.test"
PG_ENV = "IDENTITYSERVER_TEST_DATABASE_URL"
REDIS_ENV = "IDENTITYSERVER_TEST_REDIS_URL"
ASSERTION_KEY = ec.generate_private_key(ec.SECP256R1())
WEB_CB = "https://web.example/cb"
FAKETIME_LIBRARY = Path(f"/usr/lib/{sysconfig.get_config_var('MULTIARCH')}/faketime/libfaketime.so.1")

CONFIG = """
issuer_uri = "{issuer}"
database_url = "{database_url}"
{redis}

[options.server_side_sessions]
enabled = true

[options.endpoints]
enable_device_authorization_endpoint = true

[options.device_flow]
interval = 1

[options.caching]
client_store_expiration = {cache_seconds}
resource_store_expiration = {cache_seconds}

[options.logout]
back_channel_logout_timeout = 2.0
back_channel_logout_retry_initial_delay = 0.5
back_channel_logout_poll_interval = 0.2

[options.login_throttle]
per_address = 3
window = 300
cleanup_interval = {throttle_cleanup}

{extra}

[[clients]]
client_id = "web"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{web_cb}"]
post_logout_redirect_uris = ["https://web.example/signed-out"]
allowed_scopes = ["openid", "profile", "api1", "offline_access"]
allow_offline_access = true
require_consent = true
back_channel_logout_uri = "{logout_uri}"

[[clients]]
client_id = "m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[clients]]
client_id = "tv"
require_client_secret = false
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "machine"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "m2m.jwt"
client_secrets = [{{ type = "JWK", value = '{assertion_jwk}' }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "dpop"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
require_dpop = true
dpop_validation_mode = ["nonce"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api-secret"]

[[users]]
subject_id = "alice-1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice"
"""


def write_config(
    path: Path,
    database_url: str,
    redis_url: str | None,
    logout_uri: str = "http://127.0.0.1:9/bcl",
    cache_seconds: int = 3,
    extra: str = "",
    throttle_cleanup: int = 300,
) -> Path:
    path.write_text(
        CONFIG.format(
            issuer=ISSUER,
            database_url=database_url,
            redis=f'redis_url = "{redis_url}"' if redis_url else "",
            cache_seconds=cache_seconds,
            throttle_cleanup=throttle_cleanup,
            extra=extra,
            web_cb=WEB_CB,
            logout_uri=logout_uri,
            assertion_jwk=json.dumps({**public_jwk(ASSERTION_KEY), "kid": "assertion-1"}),
        )
    )
    return path


@dataclass
class Node:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, connections dropped as a crash drops them."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_node(
    name: str,
    config: Path,
    state: Path,
    extra_args: list[str] | None = None,
    clock_offset: int = 0,
    environment: Mapping[str, str] | None = None,
) -> Node:
    """``clock_offset``: seconds this node's wall clock is ahead (or, negative, behind) the others' from its start
    (libfaketime), as on a host that booted with a wrong clock. ``environment``: added to the process's (e.g. a
    ``PYTHONPATH`` that runs another version of the package)."""
    extra = {**clock_offset_environment(clock_offset), **(environment or {})}
    try:
        return _start_node(name, config, state, extra_args, extra)
    except RuntimeError as exc:
        if "address already in use" not in str(exc).lower():
            raise
        return _start_node(name, config, state, extra_args, extra)  # another test took the port meanwhile


def clock_offset_environment(offset: int) -> dict[str, str]:
    """The environment that shifts a process's wall clock by ``offset`` seconds (Debian's ``libfaketime``, which
    ``.ci/run`` installs; a missing library fails the test rather than running the node on the true time)."""
    if offset == 0:
        return {}
    if not FAKETIME_LIBRARY.exists():
        raise RuntimeError(f"{FAKETIME_LIBRARY} is missing: apt-get install faketime")
    # the monotonic clock moves by the same constant, which changes no duration (and with it left alone,
    # libfaketime 0.9.10 makes time.sleep fail with EINVAL)
    return {"LD_PRELOAD": str(FAKETIME_LIBRARY), "FAKETIME": f"{offset:+d}"}


def _start_node(
    name: str, config: Path, state: Path, extra_args: list[str] | None, environment: Mapping[str, str]
) -> Node:
    port = free_port()
    log = state.parent / f"{name}.log"
    state.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port),
        "--state-path", str(state), "--log-level", "warning", *(extra_args or []),
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **environment})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/.well-known/openid-configuration", process, timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"node {name} did not start: {exc}\n{log.read_text(errors='replace')[-4000:]}") from exc
    return Node(name, url, process, log)


def stop_node(node: Node) -> None:
    if node.process.poll() is None:
        node.process.terminate()
        try:
            node.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


@contextlib.contextmanager
def cluster(
    config: Path,
    root: Path,
    count: int = 2,
    extra_args: list[str] | None = None,
    topology: str = "nodes",
    clock_offsets: Sequence[int] = (),
    environments: Sequence[Mapping[str, str]] = (),
) -> Iterator[list[Node]]:
    """``count`` nodes on the configuration's database, each with a state folder of its own (nothing in it is
    shared: keys and the key ring live in the database). ``topology="workers"``: one ``serve --workers 2``
    process instead, seen as two "nodes" on one address (the kernel spreads connections over the workers).
    ``clock_offsets``: the wall clock of node i is ``clock_offsets[i]`` seconds off; ``environments[i]``: added to
    node i's environment (``start_node``)."""
    nodes: list[Node] = []
    if topology == "workers":
        node = start_node("A", config, root / "state-A", [*(extra_args or []), "--workers", "2"])
        try:
            yield [node, Node("B", node.url, node.process, node.log)]
        finally:
            stop_node(node)
        return
    try:
        for i in range(count):
            name = "AB"[i] if count <= 2 else f"n{i}"
            offset = clock_offsets[i] if i < len(clock_offsets) else 0
            environment = environments[i] if i < len(environments) else None
            nodes.append(start_node(name, config, root / f"state-{name}", extra_args, offset, environment))
        yield nodes
    finally:
        for node in nodes:
            stop_node(node)


@dataclass
class Balancer(httpx.AsyncBaseTransport):
    """Round-robin over the live nodes (no stickiness; a killed node is taken out, as a load balancer's health
    check does); ``pin`` sends the following requests to one node."""

    nodes: list[Node]
    pinned: Node | None = None
    served: list[str] = field(default_factory=list)
    _next: int = 0
    # idle connections are dropped before the server's keep-alive timeout (5 s) could close one as it is reused
    _inner: httpx.AsyncHTTPTransport = field(
        default_factory=lambda: httpx.AsyncHTTPTransport(retries=0, limits=httpx.Limits(keepalive_expiry=2.0))
    )

    def choose(self) -> Node:
        if self.pinned is not None:
            return self.pinned
        live = [n for n in self.nodes if n.process.poll() is None] or self.nodes
        node = live[self._next % len(live)]
        self._next += 1
        return node

    @contextlib.contextmanager
    def pin(self, node: Node) -> Iterator[None]:
        previous, self.pinned = self.pinned, node
        try:
            yield
        finally:
            self.pinned = previous

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        node = self.choose()
        target = httpx.URL(node.url)
        # a new request object: the client's own keeps the issuer's URL, so cookies stay with the issuer's host
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        self.served.append(node.name)
        response = await self._inner.handle_async_request(forwarded)
        response.headers["x-test-node"] = node.name
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def http_client(balancer: Balancer, **kwargs: Any) -> httpx.AsyncClient:
    """A client (own cookie jar) that sees one server at the issuer's address. Closing it closes the balancer's
    connections: clients that share a balancer must end together."""
    return httpx.AsyncClient(transport=balancer, base_url=ISSUER, timeout=30, **kwargs)


def node_client(node: Node) -> httpx.AsyncClient:
    """A client of one node only, still addressing the issuer's host."""
    return http_client(Balancer([node]))


def wait_for(check: Any, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
