"""``Composition``: the resolver of one ``build()``, with typed access to what the builder holds (options,
clock, in-memory configuration), and the ``defaults`` decorator with which each wiring module declares the
default factory of a slot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from typing_extensions import TypeForm

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.registry import Resolver
from identityserver.configuration.wiring.telemetry import with_tracing
from identityserver.options import IdentityServerOptions

T = TypeVar("T")

DEFAULTS: dict[object, Callable[[Composition], Any]] = {}
"""Every slot's default factory, filled by the wiring modules as they are imported."""


def default(key: TypeForm[T]) -> Callable[[Callable[[Composition], T]], Callable[[Composition], T]]:
    """Declare the decorated function as the default factory of ``key`` (read with ``c.get(key)``)."""

    def register(factory: Callable[[Composition], T]) -> Callable[[Composition], T]:
        _register(key, factory)
        return factory

    return register


def optional_default(
    key: TypeForm[T],
) -> Callable[[Callable[[Composition], T | None]], Callable[[Composition], T | None]]:
    """Declare the default factory of a slot that may be absent (read with ``c.optional(key)``)."""

    def register(factory: Callable[[Composition], T | None]) -> Callable[[Composition], T | None]:
        _register(key, factory)
        return factory

    return register


def _register(key: object, factory: Callable[[Composition], Any]) -> None:
    if key in DEFAULTS:
        raise ValueError(f"two default factories for {key!r}")
    DEFAULTS[key] = factory


class Composition(Resolver):
    def __init__(self, builder: IdentityServerBuilder) -> None:
        super().__init__(with_tracing(builder.registrations, builder.options), DEFAULTS)
        self.builder = builder
        self.warnings: list[str] = []
        """Configuration that works but probably not as intended (logged at build)."""

    @property
    def options(self) -> IdentityServerOptions:
        return self.builder.options
