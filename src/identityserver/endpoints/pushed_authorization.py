"""The pushed authorization request endpoint ``/connect/par`` (RFC 9126 §2; IdentityServer 7's
``PushedAuthorizationEndpoint``)."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.endpoints.results import JsonResult, StatusCodeResult, TokenErrorResult
from identityserver.http.parameters import FormError
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
        if request.method != "POST":
            return StatusCodeResult(405, {"Allow": "POST"})
        if not request.is_form():
            return TokenErrorResult(
                TokenErrors.INVALID_REQUEST, "the request must be application/x-www-form-urlencoded"
            )
        try:
            form = request.form()
        except (FormError, UnicodeDecodeError):
            return TokenErrorResult(TokenErrors.INVALID_REQUEST, "the request body cannot be parsed")
        if "client_id" in form.repeated or "request_uri" in form.repeated:
            return TokenErrorResult(TokenErrors.INVALID_REQUEST, "client_id or request_uri was sent more than once")
        authenticated = await self.clients.validate(request)
        if authenticated.is_error or authenticated.client is None:
            if authenticated.error == TokenErrors.INVALID_CLIENT and authenticated.from_authorization_header:
                return TokenErrorResult(
                    TokenErrors.INVALID_CLIENT,
                    authenticated.error_description,
                    status=401,
                    www_authenticate='Basic realm="identityserver"',
                )
            return TokenErrorResult(authenticated.error or TokenErrors.INVALID_CLIENT, authenticated.error_description)
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
