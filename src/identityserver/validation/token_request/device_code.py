"""``urn:ietf:params:oauth:grant-type:device_code`` (RFC 8628 §3.4-§3.5; Duende ``DeviceCodeValidator``), with
IdentityServer's order of checks: the code and its client, ``slow_down`` before expiry, ``expired_token``,
``access_denied``, ``authorization_pending``, the user. The code is redeemed atomically, so of several polls
after approval exactly one gets tokens."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.services.device_flow_protocols import DeviceFlowCodeService, DeviceFlowThrottlingService
from identityserver.services.protocols import ProfileService
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import validate_resources
from identityserver.validation.token_request.validator import GrantValidationContext


class DeviceCodeGrantValidator:
    """The device grant; override ``validate`` to add a check."""

    grant_type = "urn:ietf:params:oauth:grant-type:device_code"

    def __init__(
        self, codes: DeviceFlowCodeService, throttling: DeviceFlowThrottlingService, profile: ProfileService
    ) -> None:
        self.codes = codes
        self.throttling = throttling
        self.profile = profile

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        request = context.request
        handle = request.raw.get("device_code")
        if not handle:
            return error(TokenErrors.INVALID_REQUEST, "device_code is missing")
        if len(handle) > context.options.input_length_restrictions.device_code:
            return error(TokenErrors.INVALID_GRANT, "device_code is too long")
        if request.raw.get_all("resource"):
            return error(TokenErrors.INVALID_TARGET, "resource indicators are not supported with the device flow")
        device = await self.codes.find_by_device_code(handle)
        if device is None:
            return error(TokenErrors.INVALID_GRANT, "device_code is invalid or was already used")
        if device.client_id != request.client.client_id:
            return error(TokenErrors.INVALID_GRANT, "device_code was issued to another client")
        if await self.throttling.should_slow_down(handle, device):
            return error(TokenErrors.SLOW_DOWN, "polling too fast: wait 5 more seconds between requests")
        if device.creation_time + device.lifetime < context.clock.timestamp():
            return error(TokenErrors.EXPIRED_TOKEN, "the device_code has expired")
        if device.is_authorized and not device.authorized_scopes:
            return error(TokenErrors.ACCESS_DENIED, "the user denied the request")
        if not device.is_authorized or device.subject is None:
            return error(TokenErrors.AUTHORIZATION_PENDING, "the user has not yet approved the request")
        if device.dpop_key_thumbprint is not None and request.dpop_jkt != device.dpop_key_thumbprint:
            return error(TokenErrors.INVALID_DPOP_PROOF, "the DPoP key does not match the device authorization")
        failure = await validate_resources(context.resources, request, list(device.authorized_scopes or []), None)
        if failure is not None:
            return error(TokenErrors.INVALID_GRANT, "the granted scopes are no longer valid for this client")
        active = IsActiveContext(device.subject, request.client, ProfileCallers.TOKEN_ENDPOINT)
        await self.profile.is_active(active)
        if not active.is_active:
            return error(TokenErrors.INVALID_GRANT, "the user is not active")
        redeemed = await self.codes.take_by_device_code(handle)
        if redeemed is None:
            return error(TokenErrors.INVALID_GRANT, "device_code is invalid or was already used")
        request.device_code = redeemed
        request.subject = redeemed.subject
        request.session_id = redeemed.session_id
        return TokenRequestValidationResult(request)
