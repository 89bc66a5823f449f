"""``serve --workers N`` gives each worker a listening socket of its own (SO_REUSEPORT, issue 15): a burst of
connections opened at once is shared by the workers, and a killed worker is replaced on its socket."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from identityserver.cli.socket_per_worker import bind_sockets, reuse_port_supported
from tests.scale_out.cluster import Node, start_node, stop_node
from tests.support.process import child_pids

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT load balancing is Linux's")

CONFIG = """
[[clients]]
client_id = "m2m"
client_secrets = ["socket-per-worker-secret-0123"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"
"""
LISTEN, ESTABLISHED = "0A", "01"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp(port: int, state: str) -> set[str]:
    """Inodes of this machine's IPv4 TCP sockets in ``state`` whose local port is ``port``."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(fields[9])
    return found


def _workers(node: Node, port: int) -> dict[int, set[str]]:
    """Each worker's pid and the listening sockets it holds."""
    listening = _tcp(port, LISTEN)
    return {pid: held for pid in child_pids(node.process.pid) if (held := _socket_inodes(pid) & listening)}


def _port(node: Node) -> int:
    return int(node.url.rsplit(":", 1)[1])


def _burst(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once, then one request on each, answered before this returns."""
    connections = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    request = f"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for connection in connections:
        connection.sendall(request)
    for connection in connections:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(65536)
            assert chunk, "the connection closed before an answer"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head[:100]
    return connections


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Node]:
    config = tmp_path / "identityserver.toml"
    config.write_text(CONFIG)
    node = start_node("W", config, tmp_path / "state", ["--workers", "2"])
    try:
        deadline = time.monotonic() + 30
        while len(_workers(node, _port(node))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield node
    finally:
        stop_node(node)


def test_bound_sockets_share_one_port() -> None:
    sockets = bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        for s in sockets:
            s.listen()
    finally:
        for s in sockets:
            s.close()


def test_each_worker_listens_on_a_socket_of_its_own(two_workers: Node) -> None:
    workers = _workers(two_workers, _port(two_workers))
    assert len(workers) == 2, workers
    first, second = workers.values()
    assert len(first) == len(second) == 1 and first != second


def test_a_burst_of_connections_is_shared_by_the_workers(two_workers: Node) -> None:
    port = _port(two_workers)
    connections = _burst(port, 40)
    try:
        established = _tcp(port, ESTABLISHED)
        shares = {pid: len(_socket_inodes(pid) & established) for pid in _workers(two_workers, port)}
        assert sum(shares.values()) == 40, shares
        # with one shared socket the first worker to wake took nearly all (98 %); the kernel's hash spreads them
        assert min(shares.values()) >= 5, shares
    finally:
        for connection in connections:
            connection.close()


def test_a_killed_worker_is_replaced_on_its_socket(two_workers: Node) -> None:
    port = _port(two_workers)
    before = _workers(two_workers, port)
    victim = next(iter(before))
    os.kill(victim, signal.SIGKILL)
    # connections that the kernel hands to the dead worker's socket wait in its queue for the replacement
    for connection in _burst(port, 20):
        connection.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = _workers(two_workers, port)
        if len(after) == 2 and victim not in after:
            break
        time.sleep(0.1)
    assert victim not in after and len(after) == 2, after
    assert sorted(map(sorted, after.values())) == sorted(map(sorted, before.values()))
    assert two_workers.process.poll() is None
