"""``identityserver openapi``: the OpenAPI description of the protocol endpoints a configuration routes, for HTTP
fuzzers (``schemathesis run``) and API gateways. Nothing is started and no database is opened."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from identityserver.configuration.errors import ConfigError


def _openapi(args: argparse.Namespace) -> int:
    from identityserver.configuration.demo import demo_configuration
    from identityserver.configuration.host import create_builder
    from identityserver.configuration.loader import load_configuration
    from identityserver.hosting.openapi import protocol_openapi
    from identityserver.ui.routes import page_routes

    try:
        config = load_configuration(args.config) if args.config else demo_configuration()
    except (ConfigError, OSError) as exc:
        print(f"identityserver: configuration error: {exc}", file=sys.stderr)
        return 2
    issuer = args.issuer or config.options.issuer_uri or "http://localhost:5000"
    services = create_builder(config, args.state_path, issuer, use_database=False).build()
    known = {
        "client_id": [c.client_id for c in config.clients],
        "redirect_uri": sorted({u for c in config.clients for u in c.redirect_uris}),
        "scope": sorted({s for c in config.clients for s in c.allowed_scopes}),
        "grant_type": sorted({g for c in config.clients for g in c.allowed_grant_types}),
    }
    known["scheme"] = [p.scheme for p in config.identity_providers]
    ui_routes = page_routes(services) if args.ui else {}
    document = protocol_openapi(services.router.paths, issuer.rstrip("/"), known, ui_routes)
    json.dump(document, sys.stdout, indent=2)
    print()
    return 0


def add_openapi_command(commands: Any) -> None:
    """``identityserver openapi [--config FILE] [--issuer URL]``."""
    command = commands.add_parser("openapi", help="print the OpenAPI description of the protocol endpoints")
    command.add_argument("--config", help="TOML configuration file (default: the demo configuration)")
    command.add_argument("--issuer", help="base URL written as the document's server (default: issuer_uri)")
    command.add_argument("--state-path", help="state folder (only read for its location)")
    command.add_argument("--ui", action="store_true", help="also describe the shipped UI's pages (for fuzzing)")
    command.set_defaults(handler=_openapi)
