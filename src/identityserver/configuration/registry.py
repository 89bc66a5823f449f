"""The record of what a builder registered, and the resolver that builds every collaborator through it.

Each collaborator has a *slot*, keyed by its Protocol (``ClientStore``, ``ProfileService``) or, for pipeline
stages, by its overridable class (``TokenRequestValidator``). For a slot the resolver uses, in this order: an
instance registered with ``add``, a factory registered with ``add_factory``, or the default factory, which
builds the default class or the subclass registered with ``override``. Decorators registered with ``decorate``
then wrap the result. Every slot is built once per ``build()``.

Nothing is ignored without a word: a registration that no slot used is a start-up error naming it
(``UnusedRegistrationError``), an instance that lacks a member of its slot's Protocol is a ``TypeError``, and so
is an ``override`` that does not subclass the default it replaces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from typing_extensions import TypeForm

T = TypeVar("T")
C = TypeVar("C")


class UnusedRegistrationError(ValueError):
    """``build()`` found registrations that nothing used (a slot that does not exist, or one this
    configuration never builds)."""


class CompositionError(ValueError):
    """The registrations cannot be composed (a dependency cycle, a missing required collaborator)."""


def slot_name(key: object) -> str:
    name = getattr(key, "__qualname__", None) or repr(key)
    module = getattr(key, "__module__", "")
    return f"{module}.{name}" if module.startswith("identityserver") else str(name)


def protocol_members(protocol: type) -> list[str]:
    """The public methods and attributes a Protocol declares (``[]`` for a concrete class)."""
    if not getattr(protocol, "_is_protocol", False):
        return []
    names: set[str] = set()
    for base in protocol.__mro__:
        if base in (object, Protocol, Generic) or not getattr(base, "_is_protocol", False):
            continue
        names.update(n for n in vars(base) if not n.startswith("_"))
        names.update(n for n in getattr(base, "__annotations__", {}) if not n.startswith("_"))
    return sorted(names)


def missing_members(value: object, key: object) -> list[str]:
    """Members of the Protocol ``key`` that ``value`` lacks; for a class key, whether ``value`` is an instance."""
    if not isinstance(key, type):
        return []
    members = protocol_members(key)
    if not members and not getattr(key, "_is_protocol", False):
        return [] if isinstance(value, key) else [f"an instance of {key.__name__}"]
    return [m for m in members if not hasattr(value, m)]


@dataclass(slots=True)
class Registration:
    kind: str
    """``instance``, ``factory``, ``override``, ``decorator``, ``item`` or ``item factory`` (one of a list, e.g. a
    custom validator)."""
    key: object
    value: Any
    used: bool = False

    def describe(self) -> str:
        what = getattr(self.value, "__qualname__", None) or type(self.value).__qualname__
        text = f"{self.kind} {what} for {slot_name(self.key)}"
        if self.kind == "override":
            # Slots built from registered data (stores, the router, the writers) have no default class.
            text += " (if this slot is built, it has no default class to subclass: register an instance with add())"
        return text


@dataclass(slots=True)
class Registrations:
    """What the builder recorded (one entry per call)."""

    instances: dict[object, Registration] = field(default_factory=dict)
    factories: dict[object, Registration] = field(default_factory=dict)
    overrides: dict[object, Registration] = field(default_factory=dict)
    decorators: dict[object, list[Registration]] = field(default_factory=dict)
    items: dict[object, list[Registration]] = field(default_factory=dict)

    def all(self) -> list[Registration]:
        found = [*self.instances.values(), *self.factories.values(), *self.overrides.values()]
        for group in (*self.decorators.values(), *self.items.values()):
            found.extend(group)
        return found

    def unused(self) -> list[str]:
        return [r.describe() for r in self.all() if not r.used]


DefaultFactory = Callable[[Any], Any]


class Resolver:
    """Builds slots on demand from the registrations and a table of default factories."""

    def __init__(self, registrations: Registrations, defaults: dict[object, DefaultFactory]) -> None:
        self.registrations = registrations
        self.defaults = defaults
        self._built: dict[object, Any] = {}
        self._undecorated: dict[object, Any] = {}
        self._building: list[object] = []

    def get(self, key: TypeForm[T]) -> T:
        """The collaborator for ``key``: registered instance, registered factory, or default; decorated."""
        value = self.optional(key)
        if value is None:
            raise CompositionError(f"{slot_name(key)} is required here, and nothing provides one")
        return value

    def optional(self, key: TypeForm[T]) -> T | None:
        """Like ``get`` for a slot whose default may be absent (``None``), e.g. server-side sessions."""
        if key in self._built:
            return cast("T | None", self._built[key])
        if key in self._building:
            cycle = " -> ".join(slot_name(k) for k in [*self._building[self._building.index(key) :], key])
            raise CompositionError(f"dependency cycle: {cycle}")
        self._building.append(key)
        try:
            value = self._create(key)
        finally:
            self._building.pop()
        self._undecorated[key] = value
        if value is not None:
            for decorator in self.registrations.decorators.get(key, []):
                decorator.used = True
                value = decorator.value(value)
        self._built[key] = value
        return cast("T | None", value)

    def _create(self, key: object) -> Any:
        instance = self.registrations.instances.get(key)
        if instance is not None:
            instance.used = True
            return instance.value
        factory = self.registrations.factories.get(key)
        if factory is not None:
            factory.used = True
            value = factory.value(self)
            _check_conforms(value, key, "the factory registered")
            return value
        default = self.defaults.get(key)
        if default is None:
            raise CompositionError(f"nothing is registered for {slot_name(key)} and it has no default")
        return default(self)

    def cls(self, key: object, default_class: type[C]) -> type[C]:
        """``default_class``, or the subclass registered with ``override`` for ``key``: what default factories
        construct (``resolver.cls(ConsentService, DefaultConsentService)(store, clock)``)."""
        override = self.registrations.overrides.get(key)
        if override is None:
            return default_class
        override.used = True
        if not issubclass(override.value, default_class):
            raise TypeError(
                f"override for {slot_name(key)}: {override.value.__qualname__} must subclass "
                f"{default_class.__qualname__}, which it replaces with the same constructor arguments "
                "(register an instance with add() instead)"
            )
        return cast("type[C]", override.value)

    def undecorated(self, key: TypeForm[T]) -> T | None:
        """What was built for ``key`` before its decorators wrapped it: for defaults that ask what the store
        itself can do (list, add), which a wrapper need not repeat."""
        self.optional(key)
        return cast("T | None", self._undecorated.get(key))

    def items(self, key: TypeForm[T]) -> list[T]:
        """Every item registered for a list slot (custom validators, extension grants), in registration order;
        item factories are called with this resolver."""
        found: list[T] = []
        for item in self.registrations.items.get(key, []):
            item.used = True
            if item.kind == "item factory":
                value = item.value(self)
                _check_conforms(value, key, "the item factory registered")
                found.append(cast(T, value))
            else:
                found.append(cast(T, item.value))
        return found

    def has_registration(self, key: object) -> bool:
        """True when an instance or factory was registered for ``key`` (the default would not be used)."""
        return key in self.registrations.instances or key in self.registrations.factories


def _check_conforms(value: object, key: object, source: str) -> None:
    missing = missing_members(value, key)
    if missing:
        raise TypeError(f"{source} for {slot_name(key)} is a {type(value).__qualname__}, which lacks {missing}")


def check_instance(key: object, value: object) -> None:
    """Refuse at registration an instance that cannot serve its slot."""
    _check_conforms(value, key, "the instance registered")
