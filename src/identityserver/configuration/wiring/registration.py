"""Dynamic client registration (RFC 7591) and its management (RFC 7592): the endpoint at ``/connect/register`` with
its validator, registration policies, open-registration rate limit and, when the client store can change clients
(``ClientRegistrationStore``), the client configuration endpoint and registration access tokens."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.registry import CompositionError
from identityserver.configuration.wiring.composition import Composition
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
        tokens = RegistrationAccessTokens(grants, clock)
        management = c.cls(ClientConfigurationEndpoint, ClientConfigurationEndpoint)(
            validator, store, tokens, grants, RegistrationPolicies(options), options, clock, c.get(ClientStore)
        )
    limiter = OpenRegistrationRateLimiter(
        c.get(ReplayCache), clock, options.open_registration_limit, options.open_registration_window
    )
    return c.cls(DynamicClientRegistrationEndpoint, DynamicClientRegistrationEndpoint)(
        validator, store, options, clock, tokens, management, limiter
    )
