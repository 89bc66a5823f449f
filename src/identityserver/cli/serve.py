"""Runs the server with uvicorn (``identityserver serve``). Worker processes rebuild ``Services`` from the
same configuration through :func:`app_factory`, reading it from environment variables."""

from __future__ import annotations

import ipaddress
import logging
import os

import uvicorn

from identityserver.configuration.demo import demo_configuration
from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import Configuration, load_configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.middleware import ASGIApp

ENV_CONFIG = "IDENTITYSERVER_CONFIG"
ENV_ISSUER = "IDENTITYSERVER_ISSUER"
ENV_STATE = "IDENTITYSERVER_STATE"


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
    from identityserver.ui import create_ui

    return create_app(services, create_ui(services))


def app_factory() -> ASGIApp:
    """Entry point for each uvicorn worker."""
    config = load(os.environ.get(ENV_CONFIG) or None)
    return build_app(config, os.environ.get(ENV_STATE) or None, os.environ.get(ENV_ISSUER) or None)


def run(
    config_path: str | None,
    host: str,
    port: int,
    workers: int,
    state_path: str | None,
    issuer: str | None,
    log_level: str = "info",
) -> None:
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO), format="%(levelname)s %(name)s %(message)s"
    )
    os.environ[ENV_CONFIG] = os.path.abspath(config_path) if config_path else ""
    os.environ[ENV_STATE] = os.path.abspath(state_path) if state_path else ""
    os.environ[ENV_ISSUER] = issuer or ""
    uvicorn.run(
        "identityserver.cli.serve:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        access_log=False,
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
        # uvloop starves some keep-alive connections when a worker is saturated (p99 in the hundreds of ms at
        # 64 connections, docs/performance.md); the stdlib loop keeps p99 within 2 x p50 at the same rate
        loop="asyncio",
    )
