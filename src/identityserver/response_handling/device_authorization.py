"""The device authorization response (RFC 8628 §3.2; Duende ``DeviceAuthorizationResponseGenerator``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from identityserver.clock import Clock
from identityserver.models.grants import DeviceCode
from identityserver.options import IdentityServerOptions
from identityserver.services.device_flow_protocols import DeviceFlowCodeService, UserCodeService
from identityserver.validation.device_authorization import ValidatedDeviceAuthorizationRequest


@dataclass(slots=True)
class DeviceAuthorizationResponse:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int

    def to_dict(self) -> dict[str, object]:
        return {
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete,
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


class UserCodeCollisionError(RuntimeError):
    """Every attempt produced a user code that is in use (the generator's space is exhausted)."""


class DeviceAuthorizationResponseGenerator:
    """Creates the user code (retrying on collision, as Duende does) and the device code, stores the
    authorization and builds the response."""

    def __init__(
        self, codes: DeviceFlowCodeService, user_codes: UserCodeService, options: IdentityServerOptions, clock: Clock
    ) -> None:
        self.codes = codes
        self.user_codes = user_codes
        self.options = options
        self.clock = clock

    async def process(self, request: ValidatedDeviceAuthorizationRequest, base_url: str) -> DeviceAuthorizationResponse:
        """Store a new authorization under a fresh user code (retried on collision) and answer it (RFC 8628 §3.2)."""
        client = request.client
        generator = self.user_codes.get_generator(client.user_code_type)
        data = DeviceCode(
            creation_time=int(self.clock.timestamp()),
            lifetime=client.device_code_lifetime,
            client_id=client.client_id,
            requested_scopes=list(request.requested_scopes),
            is_open_id=request.is_open_id,
        )
        for _ in range(max(1, generator.retry_limit)):
            user_code = generator.generate()
            try:
                device_code = await self.codes.store_device_authorization(user_code, data)
            except ValueError:
                continue
            return self.response(device_code, user_code, client.device_code_lifetime, base_url)
        raise UserCodeCollisionError("no unique user code after retrying")

    def response(self, device_code: str, user_code: str, lifetime: int, base_url: str) -> DeviceAuthorizationResponse:
        """The response members: the codes, ``verification_uri`` (absolute) and ``verification_uri_complete``."""
        interaction = self.options.user_interaction
        uri = interaction.device_verification_url
        if not uri.startswith(("https://", "http://")):
            uri = base_url.rstrip("/") + uri
        separator = "&" if "?" in uri else "?"
        complete = uri + separator + urlencode({interaction.device_verification_user_code_parameter: user_code})
        return DeviceAuthorizationResponse(
            device_code=device_code,
            user_code=user_code,
            verification_uri=uri,
            verification_uri_complete=complete,
            expires_in=lifetime,
            interval=self.options.device_flow.interval,
        )
