"""The token endpoint (Duende ``TokenEndpoint``; RFC 6749 §3.2, §5)."""

from __future__ import annotations

import logging

from opentelemetry import trace

from identityserver.constants import TokenErrors
from identityserver.endpoints.client_form import client_authentication_error, read_client_form
from identityserver.endpoints.results import StatusCodeResult, TokenErrorResult, TokenResult
from identityserver.events import TokenIssuedFailureEvent, TokenIssuedSuccessEvent, issued_tokens
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.response_handling.models import TokenErrorResponse
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.key_management.key_material import NoSigningKeyError
from identityserver.services.protocols import EventService
from identityserver.telemetry import TOKEN_ERRORS, TOKENS_ISSUED
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.results import TokenRequestValidationError
from identityserver.validation.token_request.validator import TokenRequestValidator

logger = logging.getLogger("identityserver.token")

#: Parameters that may legitimately repeat (RFC 8707 §2, RFC 8693 §2.1); the grants that do not take several
#: ``resource`` values limit them to one, and only token exchange reads ``audience``.
REPEATABLE = ("resource", "audience")
#: The span attribute naming the authenticated client (never the secret or assertion it used).
CLIENT_ID_ATTRIBUTE = "identityserver.client_id"


class TokenEndpoint:
    """``/connect/token`` (RFC 6749 §3.2): authenticates the client, validates the request, generates the response and
    raises the token events."""

    def __init__(
        self,
        clients: ClientSecretValidator,
        validator: TokenRequestValidator,
        generator: TokenResponseGenerator,
        events: EventService,
        telemetry: bool = False,
    ) -> None:
        self.clients = clients
        self.validator = validator
        self.generator = generator
        self.events = events
        self.telemetry = telemetry
        """Count tokens and errors and name the client on the request span (``[options.telemetry] enabled``)."""

    async def process(self, request: EndpointRequest) -> TokenResult | TokenErrorResult | StatusCodeResult:
        """A form POST with unrepeated parameters; the response or the RFC 6749 §5.2 error (401 for client
        authentication)."""
        result = await self.process_token_request(request)
        if self.telemetry and isinstance(result, TokenErrorResult):
            TOKEN_ERRORS.add(1, {"error": result.error})
        return result

    async def process_token_request(
        self, request: EndpointRequest
    ) -> TokenResult | TokenErrorResult | StatusCodeResult:
        """The steps of Duende's ``TokenEndpoint.ProcessTokenRequestAsync``: client authentication, the grant's
        validation (ending in the ``process_token_request`` hook), the response generator, and the token events
        (``TokenIssuedSuccessEvent`` 2000 / ``TokenIssuedFailureEvent`` 2001)."""
        form = read_client_form(request, repeatable=REPEATABLE)
        if not isinstance(form, Parameters):
            return form
        client_result = await self.clients.validate(request)
        if client_result.is_error or client_result.client is None:
            return client_authentication_error(client_result)
        client_id = client_result.client.client_id
        if self.telemetry:
            trace.get_current_span().set_attribute(CLIENT_ID_ATTRIBUTE, client_id)
        result = await self.validator.validate_request(request, form, client_result)
        client_name = client_result.client.client_name if client_result.client else None
        if isinstance(result, TokenRequestValidationError):
            failure = TokenIssuedFailureEvent(
                message=result.error_description,
                client_id=client_id,
                client_name=client_name,
                endpoint="Token",
                grant_type=form.get("grant_type"),
                error=result.error,
            )
            await self.events.raise_event(failure, request.remote_ip)
            return TokenErrorResult(
                result.error or TokenErrors.INVALID_REQUEST,
                result.error_description,
                custom=result.custom_response,
                dpop_nonce=result.dpop_nonce,
            )
        try:
            response = await self.generator.process(result)
        except NoSigningKeyError as exc:
            # a client or API added while the server runs names an algorithm the server has no key for (start-up
            # checks the configured ones): a client error naming the setting, not a 500
            logger.warning("client %r: %s", client_id, exc)
            return TokenErrorResult(
                TokenErrors.UNAUTHORIZED_CLIENT, f"the server cannot sign this client's tokens: {exc}"
            )
        if isinstance(response, TokenErrorResponse):
            return TokenErrorResult(response.error, response.error_description, custom=response.custom)
        validated = result.validated_request
        if self.telemetry:
            TOKENS_ISSUED.add(1, {"grant_type": validated.grant_type, "client_id": client_id})
        if self.events.can_raise(TokenIssuedSuccessEvent.event_type):  # built only when someone listens
            success = TokenIssuedSuccessEvent(
                client_id=client_id,
                client_name=client_name,
                endpoint="Token",
                subject_id=validated.subject.subject_id if validated.subject else None,
                scopes=response.scope,
                grant_type=validated.grant_type,
                tokens=issued_tokens(
                    id_token=response.identity_token,
                    refresh_token=response.refresh_token,
                    access_token=response.access_token,
                ),
            )
            await self.events.raise_event(success, request.remote_ip)
        return TokenResult(
            access_token=response.access_token,
            token_type=response.access_token_type,
            expires_in=response.access_token_lifetime,
            scope=response.scope,
            refresh_token=response.refresh_token,
            id_token=response.identity_token,
            custom=response.custom,
            dpop_nonce=validated.dpop_nonce,
        )
