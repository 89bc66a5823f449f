"""Upstream identity providers (Duende ``IIdentityProviderStore``) and the links of upstream accounts to local
users, in memory; the SQL stores are in ``storage/sqlalchemy/stores/identity_providers.py``."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from identityserver.clock import Clock
from identityserver.models.identity_providers import (
    ExternalLogin,
    IdentityProvider,
    IdentityProviderError,
    OidcProvider,
    oidc_provider,
)
from identityserver.stores.caching import TtlCache

logger = logging.getLogger("identityserver.federation")


@runtime_checkable
class IdentityProviderStore(Protocol):
    """Where upstream providers are configured (Duende ``IIdentityProviderStore``)."""

    async def get_all_schemes(self) -> list[IdentityProvider]:
        """Every provider, enabled or not (the login page shows the enabled ones)."""
        ...

    async def get_by_scheme(self, scheme: str) -> IdentityProvider | None:
        """The provider of ``scheme`` (enabled or not), or ``None``."""


@runtime_checkable
class ExternalLoginStore(Protocol):
    """Links of upstream accounts (scheme, upstream ``sub``) to local subjects."""

    async def find(self, scheme: str, provider_subject_id: str) -> ExternalLogin | None:
        """The link of an upstream account, or ``None``."""

    async def find_by_subject(self, subject_id: str) -> list[ExternalLogin]:
        """The upstream accounts linked to a local subject."""

    async def add(self, login: ExternalLogin) -> bool:
        """Record the link; ``False`` when that upstream account is already linked (to anyone)."""
        ...

    async def touch(self, scheme: str, provider_subject_id: str, when: datetime) -> None:
        """Record a sign-in (``LastUsed``)."""
        ...


class InMemoryIdentityProviderStore:
    """The providers of the configuration file (``[[identity_providers]]``) or of code."""

    def __init__(self, providers: Iterable[IdentityProvider] = ()) -> None:
        self._providers = {p.scheme: p for p in providers}

    async def get_all_schemes(self) -> list[IdentityProvider]:
        return list(self._providers.values())

    async def get_by_scheme(self, scheme: str) -> IdentityProvider | None:
        return self._providers.get(scheme)


class InMemoryExternalLoginStore:
    def __init__(self) -> None:
        self._logins: dict[tuple[str, str], ExternalLogin] = {}

    async def find(self, scheme: str, provider_subject_id: str) -> ExternalLogin | None:
        login = self._logins.get((scheme, provider_subject_id))
        return dataclasses.replace(login) if login else None

    async def find_by_subject(self, subject_id: str) -> list[ExternalLogin]:
        return [dataclasses.replace(x) for x in self._logins.values() if x.subject_id == subject_id]

    async def add(self, login: ExternalLogin) -> bool:
        key = (login.scheme, login.provider_subject_id)
        if key in self._logins:
            return False
        self._logins[key] = dataclasses.replace(login)
        return True

    async def touch(self, scheme: str, provider_subject_id: str, when: datetime) -> None:
        login = self._logins.get((scheme, provider_subject_id))
        if login is not None:
            login.last_used = when


class IdentityProviders:
    """Reads providers through a cache of ``identity_provider_cache_duration`` seconds (Duende
    ``Caching.IdentityProviderCacheDuration``, 60 minutes) and checks each as it is loaded: a provider whose
    configuration is invalid is logged and treated as absent, never a failing request."""

    def __init__(self, store: IdentityProviderStore, clock: Clock, cache_seconds: float = 3600) -> None:
        self.store = store
        self._all: TtlCache[list[OidcProvider]] = TtlCache(clock, cache_seconds)
        self._one: TtlCache[OidcProvider | None] = TtlCache(clock, cache_seconds)

    @staticmethod
    def _checked(provider: IdentityProvider | None) -> OidcProvider | None:
        if provider is None:
            return None
        try:
            return oidc_provider(provider)
        except IdentityProviderError as exc:
            logger.error("identity provider %r has an invalid configuration: %s", provider.scheme, exc)
            return None

    async def _load_all(self) -> list[OidcProvider]:
        checked = [self._checked(p) for p in await self.store.get_all_schemes()]
        return [p for p in checked if p is not None]

    async def enabled(self) -> list[OidcProvider]:
        """The enabled, valid providers, in the store's order."""
        return [p for p in await self._all.get_or_add("all", self._load_all) if p.enabled]

    async def find(self, scheme: str) -> OidcProvider | None:
        """The provider of ``scheme`` when it exists, is valid and enabled."""
        if not scheme or len(scheme) > 200:
            return None
        found = await self._one.get_or_add(scheme, lambda: self._load(scheme))
        return found if found is not None and found.enabled else None

    async def _load(self, scheme: str) -> OidcProvider | None:
        return self._checked(await self.store.get_by_scheme(scheme))

    def clear(self) -> None:
        self._all.clear()
        self._one.clear()
