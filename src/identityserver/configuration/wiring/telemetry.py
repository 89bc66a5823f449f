"""The child spans of a request (docs/observability.md): when ``[options.telemetry] enabled`` is set, the stores,
the request validators and the token creation service are wrapped in a ``TracingProxy`` before any decorator
the host registered (so those wrap the traced collaborator, and their own time shows in the request span)."""

from __future__ import annotations

import dataclasses

from identityserver.configuration.registry import Registration, Registrations
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import TokenCreationService
from identityserver.stores.protocols import (
    ClientStore,
    PersistedGrantStore,
    ResourceStore,
    ServerSideSessionStore,
    UserStore,
)
from identityserver.telemetry import traced
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.token_request.validator import TokenRequestValidator

#: (slot, span name prefix, ``identityserver.component``)
TRACED: tuple[tuple[object, str, str], ...] = (
    (ClientStore, "ClientStore", "store"),
    (ResourceStore, "ResourceStore", "store"),
    (PersistedGrantStore, "PersistedGrantStore", "store"),
    (ServerSideSessionStore, "ServerSideSessionStore", "store"),
    (UserStore, "UserStore", "store"),
    (ClientSecretValidator, "ClientSecretValidator", "validation"),
    (TokenRequestValidator, "TokenRequestValidator", "validation"),
    (AuthorizeRequestValidator, "AuthorizeRequestValidator", "validation"),
    (TokenCreationService, "TokenCreationService", "signing"),
)


def with_tracing(registrations: Registrations, options: IdentityServerOptions) -> Registrations:
    """``registrations`` with the tracing decorators first in line, when telemetry is enabled. They count as used:
    a configuration that never builds one of these slots (no user store) is not an error."""
    if not options.telemetry.enabled:
        return registrations
    decorators = dict(registrations.decorators)
    for key, name, kind in TRACED:
        ours = Registration("decorator", key, traced(name, kind), used=True)
        decorators[key] = [ours, *decorators.get(key, [])]
    return dataclasses.replace(registrations, decorators=decorators)
