"""The device authorization endpoint (RFC 8628 §3.1-§3.2; Duende ``DeviceAuthorizationEndpoint``)."""

from __future__ import annotations

from identityserver.endpoints.client_form import client_authentication_error, read_client_form
from identityserver.endpoints.results import JsonResult, StatusCodeResult, TokenErrorResult
from identityserver.events import DeviceAuthorizationFailureEvent, DeviceAuthorizationSuccessEvent
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.response_handling.device_authorization import (
    DeviceAuthorizationResponseGenerator,
    UserCodeCollisionError,
)
from identityserver.services.protocols import EventService
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.device_authorization import (
    DeviceAuthorizationRequestValidator,
    DeviceAuthorizationValidationError,
)

ENDPOINT_NAME = "DeviceAuthorization"


class DeviceAuthorizationEndpoint:
    """``/connect/deviceauthorization``: a form POST of an authenticated client (as at the token endpoint, RFC 8628
    §3.1); answers ``device_code``, ``user_code``, the verification URIs, ``expires_in`` and ``interval``."""

    def __init__(
        self,
        clients: ClientSecretValidator,
        validator: DeviceAuthorizationRequestValidator,
        generator: DeviceAuthorizationResponseGenerator,
        events: EventService,
    ) -> None:
        self.clients = clients
        self.validator = validator
        self.generator = generator
        self.events = events

    async def process(self, request: EndpointRequest) -> JsonResult | TokenErrorResult | StatusCodeResult:
        form = read_client_form(request)
        if not isinstance(form, Parameters):
            return form
        client_result = await self.clients.validate(request)
        client = client_result.client
        if client_result.is_error or client is None:
            return client_authentication_error(client_result)
        validated = await self.validator.validate(form, client)
        if isinstance(validated, DeviceAuthorizationValidationError):
            failure = DeviceAuthorizationFailureEvent(
                message=validated.error_description,
                client_id=client.client_id,
                client_name=client.client_name,
                endpoint=ENDPOINT_NAME,
                scopes=form.get("scope"),
                error=validated.error,
            )
            await self.events.raise_event(failure, request.remote_ip)
            return TokenErrorResult(validated.error, validated.error_description)
        try:
            response = await self.generator.process(validated, request.base_url)
        except UserCodeCollisionError:
            return TokenErrorResult("temporarily_unavailable", "no free user code; try again", status=503)
        success = DeviceAuthorizationSuccessEvent(
            client_id=client.client_id,
            client_name=client.client_name,
            endpoint=ENDPOINT_NAME,
            scopes=" ".join(validated.requested_scopes),
        )
        await self.events.raise_event(success, request.remote_ip)
        return JsonResult(response.to_dict())
