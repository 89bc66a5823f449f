"""Upstream OpenID Connect providers (docs/federation.md): the provider and external-login stores, the
``ExternalUserResolver`` and the ``FederationService`` the federation pages call into."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.services.identity_providers import (
    DefaultExternalUserResolver,
    ExternalUserResolver,
    FederationService,
)
from identityserver.services.protocols import DataProtectionKeyRing, HttpClientFactory
from identityserver.services.upstream_oidc import UpstreamOidcClient
from identityserver.stores.identity_providers import (
    ExternalLoginStore,
    IdentityProviders,
    IdentityProviderStore,
    InMemoryExternalLoginStore,
    InMemoryIdentityProviderStore,
)
from identityserver.stores.protocols import PersistedGrantStore, UserStore

FEDERATION_PURPOSE = "identityserver.federation"


@default(IdentityProviderStore)
def identity_provider_store(c: Composition) -> IdentityProviderStore:
    """None configured; ``[[identity_providers]]`` or ``add_sql_stores`` register theirs."""
    return InMemoryIdentityProviderStore()


@default(ExternalLoginStore)
def external_login_store(c: Composition) -> ExternalLoginStore:
    return InMemoryExternalLoginStore()


@default(ExternalUserResolver)
def external_user_resolver(c: Composition) -> ExternalUserResolver:
    return c.cls(ExternalUserResolver, DefaultExternalUserResolver)(
        c.optional(UserStore), c.get(ExternalLoginStore), c.get(Clock)
    )


@default(FederationService)
def federation(c: Composition) -> FederationService:
    clock = c.get(Clock)
    return c.cls(FederationService, FederationService)(
        c.get(IdentityProviders),
        c.get(ExternalUserResolver),
        c.get(UpstreamOidcClient),
        c.get(PersistedGrantStore),
        c.get(DataProtectionKeyRing).create_protector(FEDERATION_PURPOSE),
        clock,
        c.options.dynamic_providers.path_prefix,
    )


@default(IdentityProviders)
def identity_providers(c: Composition) -> IdentityProviders:
    cache = c.options.caching.identity_provider_cache_duration
    return c.cls(IdentityProviders, IdentityProviders)(c.get(IdentityProviderStore), c.get(Clock), cache)


@default(UpstreamOidcClient)
def upstream_oidc_client(c: Composition) -> UpstreamOidcClient:
    cache = c.options.caching.identity_provider_cache_duration
    return c.cls(UpstreamOidcClient, UpstreamOidcClient)(c.get(Clock), cache, c.optional(HttpClientFactory))
