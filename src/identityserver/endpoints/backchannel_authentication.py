"""The backchannel authentication endpoint ``/connect/ciba`` (OpenID Connect CIBA Core 1.0 §7; Duende
``BackchannelAuthenticationEndpoint``): a form POST authenticated like the token endpoint."""

from __future__ import annotations

from identityserver.constants import BackchannelAuthenticationErrors as Errors
from identityserver.constants import TokenEndpointAuthMethods
from identityserver.endpoints.client_form import BASIC_CHALLENGE, read_client_form
from identityserver.endpoints.results import JsonResult, StatusCodeResult, TokenErrorResult
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.response_handling.backchannel_authentication import BackchannelAuthenticationResponseGenerator
from identityserver.validation.backchannel_authentication import (
    BackchannelAuthenticationRequestError,
    BackchannelAuthenticationRequestValidator,
)
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator

#: CIBA Core §13: 401 for client authentication, 403 for a denied request, 400 otherwise.
STATUS = {Errors.INVALID_CLIENT: 401, Errors.ACCESS_DENIED: 403}


class BackchannelAuthenticationEndpoint:
    """``/connect/ciba``: authenticates the client, validates the request, stores it and answers ``auth_req_id``."""

    def __init__(
        self,
        clients: ClientSecretValidator,
        validator: BackchannelAuthenticationRequestValidator,
        generator: BackchannelAuthenticationResponseGenerator,
    ) -> None:
        self.clients = clients
        self.validator = validator
        self.generator = generator

    async def process(self, request: EndpointRequest) -> JsonResult | TokenErrorResult | StatusCodeResult:
        form = read_client_form(request, repeatable=("resource",))
        if not isinstance(form, Parameters):
            return form
        client_result = await self.clients.validate(request)
        if client_result.is_error or client_result.client is None:
            return TokenErrorResult(
                Errors.INVALID_CLIENT,
                client_result.error_description,
                status=401,
                www_authenticate=BASIC_CHALLENGE if client_result.from_authorization_header else None,
            )
        if client_result.secret is None or client_result.secret.type == TokenEndpointAuthMethods.NONE:
            # CIBA Core §7.1: the client authenticates; a public client cannot start a backchannel request
            return TokenErrorResult(Errors.INVALID_CLIENT, "CIBA requires client authentication", status=401)
        result = await self.validator.validate(form, client_result.client, request.issuer)
        if isinstance(result, BackchannelAuthenticationRequestError):
            return TokenErrorResult(result.error, result.error_description, status=STATUS.get(result.error, 400))
        response = await self.generator.process(result)
        return JsonResult(response.to_json())
