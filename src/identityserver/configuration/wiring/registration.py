"""Dynamic client registration (RFC 7591) and its management (RFC 7592): the endpoint at ``/connect/register`` with
its validator, registration policies, open-registration rate limit and, when the client store can change clients
(``ClientRegistrationStore``), the client configuration endpoint and registration access tokens."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.registry import CompositionError
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.endpoints.base import EndpointHandler
from identityserver.registration.access_tokens import RegistrationAccessTokens
from identityserver.registration.endpoint import DynamicClientRegistrationEndpoint
from identityserver.registration.management import ClientConfigurationEndpoint
from identityserver.registration.policy import RegistrationPolicies
from identityserver.registration.rate_limit import OpenRegistrationRateLimiter
from identityserver.registration.validator import DynamicClientRegistrationValidator
from identityserver.stores.protocols import (
    ClientConfigurationStore,
    ClientRegistrationStore,
    ClientStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
)


def registration_endpoint(c: Composition) -> EndpointHandler:
    """``/connect/register``: needs somewhere to add clients."""
    store = c.optional(ClientConfigurationStore)
    if store is None:
        raise CompositionError(
            "dynamic client registration is enabled, but the client store cannot add clients: register a "
            "ClientConfigurationStore (builder.add_client_configuration_store(...))"
        )
    options = c.options.dynamic_client_registration
    clock = c.get(Clock)
    validator = c.cls(DynamicClientRegistrationValidator, DynamicClientRegistrationValidator)(
        c.get(ResourceStore), options, clock
    )
    tokens: RegistrationAccessTokens | None = None
    management: ClientConfigurationEndpoint | None = None
    if isinstance(store, ClientRegistrationStore):
        grants = c.get(PersistedGrantStore)
        tokens = c.get(RegistrationAccessTokens)
        management = c.cls(ClientConfigurationEndpoint, ClientConfigurationEndpoint)(
            validator, store, tokens, grants, c.get(RegistrationPolicies), options, clock, c.get(ClientStore)
        )
    limiter = c.get(OpenRegistrationRateLimiter)
    return c.cls(DynamicClientRegistrationEndpoint, DynamicClientRegistrationEndpoint)(
        validator, store, options, clock, tokens, management, limiter
    )


@default(RegistrationAccessTokens)
def registration_access_tokens(c: Composition) -> RegistrationAccessTokens:
    return c.cls(RegistrationAccessTokens, RegistrationAccessTokens)(c.get(PersistedGrantStore), c.get(Clock))


@default(RegistrationPolicies)
def registration_policies(c: Composition) -> RegistrationPolicies:
    return c.cls(RegistrationPolicies, RegistrationPolicies)(c.options.dynamic_client_registration)


@default(OpenRegistrationRateLimiter)
def open_registration_rate_limiter(c: Composition) -> OpenRegistrationRateLimiter:
    options = c.options.dynamic_client_registration
    return c.cls(OpenRegistrationRateLimiter, OpenRegistrationRateLimiter)(
        c.get(ReplayCache), c.get(Clock), options.open_registration_limit, options.open_registration_window
    )
