"""The introspection endpoint (Duende ``IntrospectionEndpoint``; RFC 7662).

API resources (authenticating with their API secrets) introspect access tokens carrying their scopes;
clients introspect their own refresh tokens. Anything invalid is ``{"active": false}``."""

from __future__ import annotations

from typing import Any

from identityserver.constants import TokenErrors
from identityserver.endpoints.base import read_unique_form
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.events import TokenIntrospectionFailureEvent, TokenIntrospectionSuccessEvent
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource
from identityserver.response_handling.introspection import INACTIVE, IntrospectionResponseGenerator
from identityserver.services.protocols import EventService, RefreshTokenService
from identityserver.stores.protocols import ResourceStore
from identityserver.validation.api_secret_validator import ApiSecretValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.client_secrets.parsers import parse_client_credentials
from identityserver.validation.token_validator import TokenValidator

_UNAUTHORIZED = JsonResult(
    {"error": TokenErrors.INVALID_CLIENT}, status=401, headers={"WWW-Authenticate": 'Basic realm="identityserver"'}
)


class IntrospectionEndpoint:
    """``/connect/introspect`` (RFC 7662): API resources introspect access tokens carrying their scopes, clients their
    own refresh tokens; override to change who may ask about what."""

    def __init__(
        self,
        apis: ApiSecretValidator,
        clients: ClientSecretValidator,
        resources: ResourceStore,
        tokens: TokenValidator,
        refresh_tokens: RefreshTokenService,
        generator: IntrospectionResponseGenerator,
        events: EventService,
    ) -> None:
        self.apis = apis
        self.clients = clients
        self.resources = resources
        self.tokens = tokens
        self.refresh_tokens = refresh_tokens
        self.generator = generator
        self.events = events

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """Authenticate the caller (401 otherwise) and answer for its token; anything invalid is ``{"active": false}``
        (RFC 7662 §2.2)."""
        form = read_unique_form(request)
        if not isinstance(form, Parameters):
            return form
        parsed = parse_client_credentials(request, form, self.apis.limits).secret
        named = await self.apis.find_api(parsed) if parsed is not None else None
        if parsed is not None and named is not None:
            api = await self.apis.authenticate(request, parsed, named)
            if api is None:
                return _UNAUTHORIZED
            caller, response = api.name, await self._for_api(request, form.get("token"), api)
        else:
            client_result = await self.clients.validate(request)
            if client_result.is_error or client_result.client is None:
                return _UNAUTHORIZED
            caller = client_result.client.client_id
            response = await self._for_client(form.get("token"), client_result.client)
        if response is None:
            return JsonResult(
                {"error": TokenErrors.INVALID_REQUEST, "error_description": "token is missing"}, status=400
            )
        event = (
            TokenIntrospectionSuccessEvent(caller=caller)
            if response["active"]
            else TokenIntrospectionFailureEvent(caller=caller)
        )
        await self.events.raise_event(event, request.remote_ip)
        return JsonResult(response)

    async def _for_api(self, request: EndpointRequest, token: str | None, api: ApiResource) -> dict[str, Any] | None:
        if not token:
            return None
        result = await self.tokens.validate_access_token(token, request.issuer)
        return dict(INACTIVE) if result.is_error else self.generator.process_for_api(result, api)

    async def _for_client(self, token: str | None, client: Client) -> dict[str, Any] | None:
        if not token:
            return None
        if len(token) > 100:
            return dict(INACTIVE)
        validation = await self.refresh_tokens.validate_refresh_token(token, client, detect_reuse=False)
        refresh = validation.refresh_token
        if refresh is None or refresh.consumed_time is not None:
            return dict(INACTIVE)
        claims: dict[str, Any] = {
            "client_id": refresh.client_id,
            "sub": refresh.subject.subject_id,
            "iat": refresh.creation_time,
            "token_type": "refresh_token",
        }
        if refresh.lifetime > 0:
            claims["exp"] = refresh.creation_time + refresh.lifetime
        return self.generator.process_for_client(claims, refresh.authorized_scopes)
