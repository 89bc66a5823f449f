"""Cheap in-process servers: ``quick_builder`` reuses one parsed configuration (parsing it deep-copies the
canonical data). Signing keys cost nothing at start in any case (``running`` reuses the session's key material,
see ``tests.support.keys``)."""

from __future__ import annotations

import functools

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import Configuration
from identityserver.options import IdentityServerOptions
from tests.support.clock import FakeClock
from tests.support.data import test_configuration
from tests.support.server import ISSUER, make_builder


@functools.cache
def canonical_configuration() -> Configuration:
    """The canonical test configuration, parsed once. Do not mutate it; call ``test_configuration()`` instead."""
    return test_configuration()


async def quick_builder(
    config: Configuration | None = None,
    clock: FakeClock | None = None,
    options: IdentityServerOptions | None = None,
    issuer: str | None = ISSUER,
) -> IdentityServerBuilder:
    return make_builder(config or canonical_configuration(), clock, options, issuer)
