"""Authenticates an API resource by its API secrets (Duende ``ApiSecretValidator``) for introspection."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.constants import TokenEndpointAuthMethods
from identityserver.events import ApiAuthenticationFailureEvent, ApiAuthenticationSuccessEvent
from identityserver.http.request import EndpointRequest
from identityserver.models.resources import ApiResource
from identityserver.options import InputLengthRestrictions
from identityserver.services.protocols import EventService
from identityserver.stores.protocols import ResourceStore
from identityserver.validation.client_secrets.parsers import parse_client_credentials
from identityserver.validation.client_secrets.validators import HashedSharedSecretValidator
from identityserver.validation.results import ParsedSecret


class ApiSecretValidator:
    """Authenticates an API resource at the introspection endpoint with one of its API secrets (RFC 7662 §2.1); override
    to accept other API credentials."""

    def __init__(
        self,
        resources: ResourceStore,
        shared: HashedSharedSecretValidator,
        events: EventService,
        limits: InputLengthRestrictions,
        clock: Clock,
    ) -> None:
        self.resources = resources
        self.shared = shared
        self.events = events
        self.limits = limits
        self.clock = clock

    async def find_api(self, secret: ParsedSecret) -> ApiResource | None:
        """The API resource the credentials name, or ``None`` (the caller is then a client). An unencoded Basic id
        with ':' (``urn:api1``) splits several ways: the first split naming an API wins, and ``secret`` is set to it."""
        for name, credential in ((secret.id, secret.credential), *secret.alternatives):
            found = await self.resources.find_api_resources_by_name([name])
            if found:
                secret.id, secret.credential = name, credential
                return found[0]
        return None

    async def validate(self, request: EndpointRequest) -> ApiResource | None:
        """The authenticated API resource, or ``None``."""
        secret = parse_client_credentials(request, request.form(), self.limits).secret
        if secret is None:
            return None
        return await self.authenticate(request, secret, await self.find_api(secret))

    async def authenticate(
        self, request: EndpointRequest, secret: ParsedSecret, api: ApiResource | None
    ) -> ApiResource | None:
        """``api`` when ``secret`` is one of its API secrets (shared secret, Basic or form), else ``None``; raises
        the authentication success or failure event."""
        if secret.type not in (
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
        ):
            return None
        usable = api if api is not None and api.enabled else None
        result = await self.shared.validate(usable.api_secrets if usable else [], secret, self.clock.utc_now())
        if usable is None or not result.success:
            await self.events.raise_event(ApiAuthenticationFailureEvent(api_name=secret.id), request.remote_ip)
            return None
        await self.events.raise_event(
            ApiAuthenticationSuccessEvent(api_name=usable.name, authentication_method=secret.type), request.remote_ip
        )
        return usable
