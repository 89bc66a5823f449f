"""The revocation endpoint (Duende ``TokenRevocationEndpoint``; RFC 7009).

Unknown tokens and tokens of other clients answer 200 and change nothing (RFC 7009 §2.2)."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.endpoints.base import read_unique_form
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.events import TokenRevokedSuccessEvent
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.response_handling.revocation import TokenRevocationResponseGenerator
from identityserver.services.protocols import EventService
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator

HINTS = (None, "access_token", "refresh_token")


class TokenRevocationEndpoint:
    """``/connect/revocation`` (RFC 7009): a client revokes its own refresh or reference access tokens."""

    def __init__(
        self,
        clients: ClientSecretValidator,
        generator: TokenRevocationResponseGenerator,
        events: EventService,
    ) -> None:
        self.clients = clients
        self.generator = generator
        self.events = events

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """Authenticate the client, then revoke the token; an unknown token or another client's is still 200 (RFC 7009
        §2.2)."""
        form = read_unique_form(request)
        if not isinstance(form, Parameters):
            return form
        client_result = await self.clients.validate(request)
        if client_result.is_error or client_result.client is None:
            headers = {"WWW-Authenticate": 'Basic realm="identityserver"'}
            return JsonResult({"error": TokenErrors.INVALID_CLIENT}, status=401, headers=headers)
        token = form.get("token")
        if not token:
            return JsonResult(
                {"error": TokenErrors.INVALID_REQUEST, "error_description": "token is missing"}, status=400
            )
        hint = form.get("token_type_hint")
        if hint not in HINTS:
            return JsonResult({"error": TokenErrors.UNSUPPORTED_TOKEN_TYPE}, status=400)
        revoked = await self.generator.process(client_result.client, token, hint)
        if revoked is not None:
            client = client_result.client
            event = TokenRevokedSuccessEvent(
                client_id=client.client_id, client_name=client.client_name, token_type=revoked
            )
            await self.events.raise_event(event, request.remote_ip)
        return StatusCodeResult(200)
