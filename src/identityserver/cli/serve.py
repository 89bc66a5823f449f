"""Runs the server with uvicorn (``identityserver serve``). Worker processes rebuild ``Services`` from the
same configuration through :func:`app_factory`, reading it from environment variables."""

from __future__ import annotations

import gc
import ipaddress
import logging
import logging.config
import os
import signal
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn

from identityserver.cli.http_limits import LimitedHttpToolsProtocol
from identityserver.cli.socket_per_worker import reuse_port_supported, run_workers
from identityserver.cli.telemetry import instrument, log_config
from identityserver.cli.tls import TlsHttpToolsProtocol
from identityserver.configuration.demo import demo_configuration
from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import Configuration, load_configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.heap import heap_trim_job
from identityserver.hosting.hosts import DEFAULT_ALLOWED_HOSTS
from identityserver.hosting.middleware import ASGIApp

DEFAULT_SHUTDOWN_TIMEOUT = 30
"""Seconds requests in flight get to finish after SIGTERM (Kubernetes' default grace period is 30 s)."""
DEFAULT_KEEP_ALIVE_TIMEOUT = 130
"""Seconds an idle kept-alive connection stays open: Kestrel's default, which IdentityServer runs behind. It must
outlast the idle timeouts of what connects (AWS load balancers 60 s, nginx's upstream connections 60 s, httpx 5 s):
a server that closes an idle connection first races the request its peer sends on it at that moment, which fails
(a 502 from a load balancer, a ``ReadError`` in httpx). uvicorn's own default, 5 s, is httpx's expiry exactly."""
DEFAULT_LOOP = "asyncio"
"""The workers' event loop, chosen by measurement (docs/performance.md, "Event loop")."""
ENV_CONFIG = "IDENTITYSERVER_CONFIG"
ENV_ISSUER = "IDENTITYSERVER_ISSUER"
ENV_STATE = "IDENTITYSERVER_STATE"
APP = "identityserver.cli.serve:app_factory"


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def default_issuer(host: str, port: int) -> str | None:
    """The issuer implied by the bind address; ``None`` for wildcard binds (then derived per request)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        return None
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def load(config_path: str | None) -> Configuration:
    return load_configuration(config_path) if config_path else demo_configuration()


def build_app(config: Configuration, state_path: str | None, issuer: str | None) -> ASGIApp:
    builder = create_builder(config, state_path, issuer)
    services = builder.build()
    if not services.options.issuer_uri:
        hosts = services.options.allowed_hosts or DEFAULT_ALLOWED_HOSTS
        logging.getLogger("identityserver").warning(
            "issuer_uri is not set and the server binds a wildcard address: the issuer follows each request's Host "
            "header, which is accepted only for %s (others get 400); set issuer_uri, or [options] allowed_hosts",
            ", ".join(hosts),
        )
    from identityserver.ui import create_ui

    trim_heap = heap_trim_job()  # a served worker's own concern, not the framework's (an embedding app decides)
    if trim_heap is not None:
        services.background.append(trim_heap)
    return create_app(services, create_ui(services))


def app_factory() -> ASGIApp:
    """Entry point for each uvicorn worker."""
    config = load(os.environ.get(ENV_CONFIG) or None)
    built = build_app(config, os.environ.get(ENV_STATE) or None, os.environ.get(ENV_ISSUER) or None)
    app = instrument(built, config.options.telemetry)
    # What start-up built lives as long as the worker: out of the collector's sight, a full collection no longer
    # walks ~90,000 objects (a 20-40 ms pause of every request in flight, the p99 of a loaded worker)
    gc.collect()
    gc.freeze()
    return app


def run(
    config_path: str | None,
    host: str,
    port: int,
    workers: int,
    state_path: str | None,
    issuer: str | None,
    log_level: str = "info",
    start_up_notes: Sequence[tuple[int, str]] = (),
    log_format: str = "text",
    shutdown_timeout: int = DEFAULT_SHUTDOWN_TIMEOUT,
    tls: dict[str, Any] | None = None,
    loop: str = DEFAULT_LOOP,
    keep_alive_timeout: int = DEFAULT_KEEP_ALIVE_TIMEOUT,
) -> None:
    """Serve until stopped; ``tls`` (``cli/tls.ssl_settings``) terminates TLS here, with client certificates."""
    logging_config = log_config(log_level, log_format) if log_format == "json" else None
    if logging_config is not None:
        logging.config.dictConfig(logging_config)
    else:
        logging.basicConfig(
            level=getattr(logging, log_level.upper(), logging.INFO), format="%(levelname)s %(name)s %(message)s"
        )
    for level, note in start_up_notes:  # what `db prepare` did (already printed), now in the log too
        logging.getLogger("identityserver").log(level, note)
    os.environ[ENV_CONFIG] = os.path.abspath(config_path) if config_path else ""
    os.environ[ENV_STATE] = os.path.abspath(state_path) if state_path else ""
    os.environ[ENV_ISSUER] = issuer or ""
    # uvicorn re-raises SIGTERM once its graceful shutdown is done, so the process would die of the signal
    # (status 143); a stop that went as asked is a success, so the re-raised signal ends it with status 0
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings: dict[str, Any] = dict(
        factory=True,
        # the app answers the lifespan protocol itself (hosting/lifespan.py): a start-up that fails must stop the
        # worker, never leave it serving without its start-up steps (uvicorn's "auto" would serve on)
        lifespan="on",
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        access_log=False,
        log_level=log_level,
        log_config=logging_config if logging_config is not None else uvicorn.config.LOGGING_CONFIG,
        server_header=False,
        # nothing here speaks WebSocket: an upgrade request is answered as plain HTTP, and the worker does not
        # import a WebSocket implementation (about 1 MiB it would keep for nothing)
        ws="none",
        # forwarded headers are read by the app, from [options.forwarded_headers] trusted_proxies only
        # (hosting/forwarded.py); uvicorn's own handling would trust 127.0.0.1 and read X-Forwarded-For alone
        proxy_headers=False,
        # SIGTERM: stop accepting, let requests in flight finish for this long, then run the lifespan shutdown
        timeout_graceful_shutdown=shutdown_timeout,
        timeout_keep_alive=keep_alive_timeout,
        # uvloop starves some keep-alive connections when a worker is saturated (p99 in the hundreds of ms at
        # 64 connections, docs/performance.md); the stdlib loop keeps p99 within 2 x p50 at the same rate
        loop=loop,
        # request line <= 8 KiB (else 414), headers <= 16 KiB (else 431), refused before the rest is read; with
        # TLS, the same protocol also hands the client certificate to the app (RFC 8705, docs/mtls.md)
        http=TlsHttpToolsProtocol if tls else LimitedHttpToolsProtocol,
        **(tls or {}),
    )
    if workers > 1 and reuse_port_supported():
        run_workers(uvicorn.Config(APP, **settings))
    else:
        uvicorn.run(APP, **settings)
