"""Cheap in-process servers for tests that do not exercise key creation.

Parsing the canonical configuration hashes a password with argon2 and a first start generates an RSA key; both
cost a few hundred milliseconds. ``quick_builder`` reuses one parsed configuration and pre-seeds the signing-key
store with one key per configured algorithm, created at the fake clock's start, which is exactly the state a
fresh start would reach. Key-management tests keep using ``make_builder``."""

from __future__ import annotations

import functools

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import Configuration
from identityserver.models.keys import KeyContainer
from identityserver.options import IdentityServerOptions
from identityserver.services.key_management.serializer import generate_key, serialize_key
from identityserver.stores.in_memory import InMemorySigningKeyStore
from tests.support.clock import FakeClock
from tests.support.data import test_configuration
from tests.support.server import ISSUER, make_builder


@functools.cache
def canonical_configuration() -> Configuration:
    """The canonical test configuration, parsed once. Do not mutate it; call ``test_configuration()`` instead."""
    return test_configuration()


@functools.cache
def _seed_key(algorithm: str) -> KeyContainer:
    return generate_key(algorithm, FakeClock().now)


async def quick_builder(
    config: Configuration | None = None,
    clock: FakeClock | None = None,
    options: IdentityServerOptions | None = None,
    issuer: str | None = ISSUER,
) -> IdentityServerBuilder:
    builder = make_builder(config or canonical_configuration(), clock, options, issuer)
    store = InMemorySigningKeyStore()
    for algorithm in builder.options.key_management.signing_algorithms:
        await store.store_key(await serialize_key(_seed_key(algorithm), None))
    builder.add_signing_key_store(store)
    return builder
