"""The pushed authorization request endpoint ``/connect/par`` (RFC 9126 §2; IdentityServer 7's
``PushedAuthorizationEndpoint``)."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.endpoints.client_form import client_authentication_error, read_client_form
from identityserver.endpoints.results import JsonResult, StatusCodeResult, TokenErrorResult
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.options import PushedAuthorizationOptions
from identityserver.services.pushed_authorization import PushedAuthorizationRequest, PushedAuthorizationService
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.pushed_authorization import PushedAuthorizationRequestValidator


class PushedAuthorizationEndpoint:
    """A form POST from an authenticated client (RFC 9126 §2.1); ``201 {request_uri, expires_in}`` once the request
    passed every authorize check (§2.2), else the error as JSON (§2.3)."""

    def __init__(
        self,
        clients: ClientSecretValidator,
        validator: PushedAuthorizationRequestValidator,
        pushed_requests: PushedAuthorizationService,
        options: PushedAuthorizationOptions,
    ) -> None:
        self.clients = clients
        self.validator = validator
        self.pushed_requests = pushed_requests
        self.options = options

    async def process(self, request: EndpointRequest) -> JsonResult | TokenErrorResult | StatusCodeResult:
        form = read_client_form(request, checked=("client_id", "request_uri"))
        if not isinstance(form, Parameters):
            return form
        authenticated = await self.clients.validate(request)
        if authenticated.is_error or authenticated.client is None:
            return client_authentication_error(authenticated)
        result = await self.validator.validate(request, form, authenticated.client)
        if result.request is None:
            return TokenErrorResult(
                result.error or TokenErrors.INVALID_REQUEST, result.error_description, dpop_nonce=result.dpop_nonce
            )
        validated = result.request
        pushed = PushedAuthorizationRequest(
            client_id=validated.client_id,
            parameters=dict(validated.raw),
            resources=list(validated.requested_resource_indicators),
            request_object_used=validated.request_object_used,
        )
        lifetime = self.options.lifetime
        request_uri = await self.pushed_requests.store(pushed, lifetime)
        return JsonResult({"request_uri": request_uri, "expires_in": lifetime}, status=201)
