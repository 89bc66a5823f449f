"""``serve --workers N`` with one listening socket per worker (``SO_REUSEPORT``), so that the kernel spreads new
connections over the workers.

Why: uvicorn's supervisor hands one listening socket to every worker. When a burst of connections arrives (a load
balancer's pool starting, 64 benchmark connections opened at once), every worker wakes, and the first one
accepts all that are waiting in one go (asyncio accepts up to the backlog per wake-up): one worker took 98 % of
the requests in ``bench/workers.py``. With a socket of its own per worker, bound to the same address with
``SO_REUSEPORT``, Linux picks the socket of each new connection by a hash of its addresses, so a burst is shared
about evenly whatever the workers were doing.

The parent binds the sockets and keeps them open. A worker that dies is replaced on the same socket, and the
connections that arrive for it meanwhile wait in that socket's queue instead of being refused."""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to one address with ``SO_REUSEPORT`` (port 0: the port the first one got)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class SocketPerWorker(Multiprocess):
    """uvicorn's supervisor (health checks, restarts, SIGHUP, signals), each worker on its own socket. The number
    of workers is fixed (SIGTTIN/SIGTTOU are refused): each has a socket bound before the first started."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets=[])
        self.slot_sockets = sockets
        self.processes_num = len(sockets)

    def _start(self, slot: int) -> Process:
        process = Process(self.config, [self.slot_sockets[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(self.processes_num)]

    def restart_all(self) -> None:
        """SIGHUP: each worker's replacement starts on its socket before the worker is retired."""
        for slot, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._start(slot)
            if not new_process.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    logger.error("Worker [%s] not ready in time; keeping [%s]", new_process.pid, old_process.pid)
                return
            old_process.terminate()
            old_process.join()
            self.processes[slot] = new_process

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung or dead
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error("Worker [%s] failed to start, stopping the parent process.", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("Worker [%s] died; starting another on its socket", process.pid)
            self.processes[slot] = self._start(slot)

    def handle_ttin(self) -> None:
        logger.warning("SIGTTIN ignored: each worker has a socket of its own; restart with another --workers")

    def handle_ttou(self) -> None:
        logger.warning("SIGTTOU ignored: each worker has a socket of its own; restart with another --workers")


def run_workers(config: Config) -> None:
    """What ``uvicorn.run`` does for ``workers > 1``, with a socket per worker."""
    try:
        sockets = bind_sockets(config.host, config.port, config.workers)
    except OSError as error:
        logger.error("cannot listen on %s:%s: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    host = f"[{config.host}]" if ":" in config.host else config.host
    logger.info(
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit), %d workers with a socket each (SO_REUSEPORT)",
        "https" if config.is_ssl else "http",
        host,
        sockets[0].getsockname()[1],
        len(sockets),
    )
    try:
        SocketPerWorker(config, sockets).run()
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
