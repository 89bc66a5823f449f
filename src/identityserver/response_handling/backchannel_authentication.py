"""The backchannel authentication response (OpenID Connect CIBA Core 1.0 §7.3; Duende
``BackchannelAuthenticationResponseGenerator``): store the request as a ``ciba`` grant, tell the user, answer
``auth_req_id``, ``expires_in`` and ``interval``."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.clock import Clock
from identityserver.models.backchannel_authentication import BackChannelAuthenticationRequest
from identityserver.services.backchannel_authentication import (
    BackchannelAuthenticationUserNotificationService,
    login_request,
)
from identityserver.stores.backchannel_authentication import BackChannelAuthenticationRequestStore
from identityserver.validation.backchannel_authentication import ValidatedBackchannelAuthenticationRequest


@dataclass(slots=True)
class BackchannelAuthenticationResponse:
    auth_req_id: str
    expires_in: int
    interval: int

    def to_json(self) -> dict[str, object]:
        return {"auth_req_id": self.auth_req_id, "expires_in": self.expires_in, "interval": self.interval}


class BackchannelAuthenticationResponseGenerator:
    """Creates the stored request and notifies the user; override ``create_request`` to store more."""

    def __init__(
        self,
        requests: BackChannelAuthenticationRequestStore,
        notifications: BackchannelAuthenticationUserNotificationService,
        clock: Clock,
    ) -> None:
        self.requests = requests
        self.notifications = notifications
        self.clock = clock

    async def process(self, validated: ValidatedBackchannelAuthenticationRequest) -> BackchannelAuthenticationResponse:
        """Store the request, notify the user, and answer ``auth_req_id``, ``expires_in`` and ``interval``
        (CIBA Core §7.3)."""
        request = self.create_request(validated)
        auth_req_id = await self.requests.create_request(request)
        await self.notifications.send_login_request(login_request(request, validated.client))
        return BackchannelAuthenticationResponse(auth_req_id, validated.expiry, validated.interval)

    def create_request(self, validated: ValidatedBackchannelAuthenticationRequest) -> BackChannelAuthenticationRequest:
        """The request as stored (override to keep more of the validated request)."""
        return BackChannelAuthenticationRequest(
            creation_time=int(self.clock.timestamp()),
            lifetime=validated.expiry,
            client_id=validated.client.client_id,
            subject=validated.subject,
            requested_scopes=validated.validated_resources.raw_scope_values,
            requested_resource_indicators=list(validated.resource_indicators),
            authentication_context_reference_classes=list(validated.acr_values),
            tenant=validated.tenant,
            idp=validated.idp,
            binding_message=validated.binding_message,
            client_notification_token=validated.client_notification_token,
        )
