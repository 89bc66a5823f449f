"""The introspection endpoint (Duende ``IntrospectionEndpoint``; RFC 7662).

Callers are API resources authenticating with their API secrets. Anything invalid is ``active: false``."""

from __future__ import annotations

from identityserver._utils.forms import FormError
from identityserver.constants import TokenErrors
from identityserver.endpoints.base import EndpointRequest
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.response_handling.introspection import INACTIVE, IntrospectionResponseGenerator
from identityserver.services.events import DefaultEventService
from identityserver.validation.api_secret_validator import ApiSecretValidator
from identityserver.validation.token_validator import TokenValidator


class IntrospectionEndpoint:
    def __init__(
        self,
        apis: ApiSecretValidator,
        tokens: TokenValidator,
        generator: IntrospectionResponseGenerator,
        events: DefaultEventService,
    ) -> None:
        self.apis = apis
        self.tokens = tokens
        self.generator = generator
        self.events = events

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        if request.method != "POST":
            return StatusCodeResult(405, {"Allow": "POST"})
        if not request.is_form():
            return StatusCodeResult(415)
        try:
            form = request.form()
        except (FormError, UnicodeDecodeError):
            return JsonResult({"error": TokenErrors.INVALID_REQUEST}, status=400)
        if form.duplicated() is not None:
            return JsonResult(
                {
                    "error": TokenErrors.INVALID_REQUEST,
                    "error_description": "a parameter was sent more than once",
                },
                status=400,
            )
        api = await self.apis.validate(request)
        if api is None:
            challenge = {"WWW-Authenticate": 'Basic realm="identityserver"'}
            return JsonResult({"error": TokenErrors.INVALID_CLIENT}, status=401, headers=challenge)
        token = form.get("token")
        if not token:
            return JsonResult(
                {"error": TokenErrors.INVALID_REQUEST, "error_description": "token is missing"}, status=400
            )
        result = await self.tokens.validate_access_token(token, request.issuer)
        response = self.generator.process_for_api(result, api) if not result.is_error else dict(INACTIVE)
        name = "Token Introspection Success" if response["active"] else "Token Introspection Failure"
        await self.events.raise_named(name, request.remote_ip, ApiName=api.name, IsActive=response["active"])
        return JsonResult(response)
