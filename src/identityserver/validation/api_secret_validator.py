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
from identityserver.validation.client_secrets.parsers import parse_client_credentials, resolve_id
from identityserver.validation.client_secrets.validators import HashedSharedSecretValidator


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

    async def api_exists(self, name: str) -> bool:
        """Whether an API resource of that name exists (so the caller is an API, not a client)."""
        return bool(await self.resources.find_api_resources_by_name([name]))

    async def validate(self, request: EndpointRequest) -> ApiResource | None:
        """The authenticated API resource, or ``None``."""
        parsed = parse_client_credentials(request, request.form(), self.limits)
        secret = parsed.secret
        if secret is None or secret.type not in (
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
        ):
            return None
        await resolve_id(secret, self.api_exists)
        found = await self.resources.find_api_resources_by_name([secret.id])
        api = found[0] if found and found[0].enabled else None
        result = await self.shared.validate(api.api_secrets if api else [], secret, self.clock.utc_now())
        if api is None or not result.success:
            await self.events.raise_event(ApiAuthenticationFailureEvent(api_name=secret.id), request.remote_ip)
            return None
        await self.events.raise_event(
            ApiAuthenticationSuccessEvent(api_name=api.name, authentication_method=secret.type), request.remote_ip
        )
        return api
