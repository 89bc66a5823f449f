"""``TracingProxy``: wraps a collaborator (a store, a validator, the token creation service) so that each of its
coroutine methods runs in a child span named ``<Slot>.<method>``. Registered with ``builder.decorate`` when
telemetry is enabled; without it nothing is wrapped, so the disabled path costs nothing."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from opentelemetry import trace

T = TypeVar("T")

_tracer = trace.get_tracer("identityserver")


class TracingProxy:
    """Delegates every attribute to ``inner``; coroutine methods are wrapped in a span (arguments are never
    recorded: they hold handles, codes and secrets). Other attributes are passed through unchanged."""

    __slots__ = ("_inner", "_kind", "_methods", "_name")

    def __init__(self, inner: object, name: str, kind: str) -> None:
        self._inner = inner
        self._name = name
        self._kind = kind
        self._methods: dict[str, Callable[..., Any]] = {}

    @property
    def __wrapped__(self) -> object:
        return self._inner

    # isinstance() against a runtime-checkable Protocol (a store's capabilities: ListableClientStore,
    # ClientRegistrationStore, ForgettingClientStore) reads members with inspect.getattr_static from Python 3.12 on,
    # which never reaches __getattr__; it also checks __class__, so the proxy answers to its inner object's type.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._inner)

    def __getattr__(self, attribute: str) -> Any:
        wrapper = self._methods.get(attribute)
        if wrapper is not None:
            return wrapper
        value = getattr(self._inner, attribute)
        if attribute.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        wrapper = self._wrap(attribute, value)
        self._methods[attribute] = wrapper
        return wrapper

    def _wrap(self, attribute: str, method: Callable[..., Any]) -> Callable[..., Any]:
        span_name = f"{self._name}.{attribute}"
        attributes = {"identityserver.component": self._kind, "code.function.name": span_name}

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            with _tracer.start_as_current_span(span_name, attributes=attributes):
                return await method(*args, **kwargs)

        return call

    def __repr__(self) -> str:
        return f"TracingProxy({self._inner!r})"


def traced(name: str, kind: str) -> Callable[[T], T]:
    """A decorator for ``builder.decorate(Slot, traced("Slot", "store"))``."""

    def wrap(inner: T) -> T:
        # the proxy answers every member of inner's type
        return cast(T, TracingProxy(inner, name, kind))

    return wrap
