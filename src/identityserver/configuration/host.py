"""From a ``Configuration`` (file or demo) to a builder: the wiring the command-line host uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import Configuration

DEFAULT_STATE_PATH = ".identityserver"


def create_builder(
    config: Configuration, state_path: str | Path | None = None, issuer_uri: str | None = None
) -> IdentityServerBuilder:
    """A builder with the configuration's options, clients, resources and users registered."""
    options = config.options
    if issuer_uri and not options.issuer_uri:
        options = dataclasses.replace(options, issuer_uri=issuer_uri.rstrip("/"))
    state = Path(state_path or config.state_path or DEFAULT_STATE_PATH)
    builder = IdentityServerBuilder(options, state_path=state)
    builder.add_in_memory_clients(config.clients)
    builder.add_in_memory_identity_resources(config.identity_resources)
    builder.add_in_memory_api_scopes(config.api_scopes)
    builder.add_in_memory_api_resources(config.api_resources)
    if config.users:
        builder.add_test_users(config.users)
    return builder
