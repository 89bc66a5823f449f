"""The CIBA grant ``urn:openid:params:grant-type:ciba`` (OpenID Connect CIBA Core 1.0 §10.1, §11; Duende
``BackchannelAuthenticationRequestIdValidator``).

Order of checks, as IdentityServer: unknown id or another client's → ``invalid_grant``; polled faster than the
interval → ``slow_down``; expired → ``expired_token``; undecided → ``authorization_pending``; denied →
``access_denied`` (and the request is gone); then the request is taken from the store atomically, so that of
concurrent polls exactly one gets tokens, and the user must still be active."""

from __future__ import annotations

from datetime import timedelta

from identityserver.constants import GrantType, TokenErrors
from identityserver.models.backchannel_authentication import BackChannelAuthenticationRequest
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.grants import PersistedGrant
from identityserver.options import CibaOptions
from identityserver.services.protocols import ProfileService
from identityserver.stores.backchannel_authentication import BackChannelAuthenticationRequestStore
from identityserver.stores.protocols import PersistedGrantStore
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import requested_resource_indicator, validate_resources
from identityserver.validation.token_request.validator import GrantValidationContext

#: Persisted-grant type of the last-poll markers (expire after the polling interval; removed by token cleanup).
POLL_MARKER = "ciba_poll"


class CibaGrantValidator:
    """The CIBA grant (CIBA Core §10.1); override ``validate`` to add a check."""

    grant_type = GrantType.CIBA

    def __init__(
        self,
        requests: BackChannelAuthenticationRequestStore,
        grants: PersistedGrantStore,
        profile: ProfileService,
        options: CibaOptions,
    ) -> None:
        self.requests = requests
        self.grants = grants
        self.profile = profile
        self.options = options

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        request = context.request
        limits = context.options.input_length_restrictions
        auth_req_id = request.raw.get("auth_req_id")
        if not auth_req_id:
            return error(TokenErrors.INVALID_REQUEST, "auth_req_id is missing")
        if len(auth_req_id) > limits.authentication_request_id:
            return error(TokenErrors.INVALID_GRANT, "auth_req_id is too long")
        stored = await self.requests.get_by_authentication_request_id(auth_req_id)
        if stored is None or stored.client_id != request.client.client_id:
            return error(TokenErrors.INVALID_GRANT, "auth_req_id is unknown, used or of another client")
        if await self.should_slow_down(context, stored):
            return error(TokenErrors.SLOW_DOWN, "polled faster than the interval; wait 5 seconds longer")
        if stored.expires_at <= context.clock.timestamp():
            return error(TokenErrors.EXPIRED_TOKEN, "the backchannel authentication request expired")
        if not stored.is_complete:
            return error(TokenErrors.AUTHORIZATION_PENDING, "the user has not decided yet")
        if not stored.authorized_scopes:
            await self.requests.remove_by_internal_id(stored.internal_id)
            return error(TokenErrors.ACCESS_DENIED, "the user denied the request")
        # a bad resource is refused before the request is taken, so that it changes nothing
        indicator = requested_resource_indicator(request, limits.resource_indicator_max_length)
        if isinstance(indicator, TokenRequestValidationError):
            return indicator
        if indicator is not None and indicator not in stored.requested_resource_indicators:
            return error(TokenErrors.INVALID_TARGET, "resource was not part of the backchannel request")
        taken = await self.requests.take_by_internal_id(stored.internal_id)
        if taken is None or not taken.authorized_scopes:
            return error(TokenErrors.INVALID_GRANT, "auth_req_id was already used")
        await self.grants.remove(self.poll_marker_key(taken))
        failure = await validate_resources(context.resources, request, taken.authorized_scopes, indicator)
        if failure is not None:
            return error(TokenErrors.INVALID_GRANT, "the granted scopes are no longer valid for this client")
        request.subject = taken.subject
        request.session_id = taken.session_id
        active = IsActiveContext(taken.subject, request.client, ProfileCallers.TOKEN_ENDPOINT)
        await self.profile.is_active(active)
        if not active.is_active:
            return error(TokenErrors.INVALID_GRANT, "the user is not active")
        return TokenRequestValidationResult(request)

    @staticmethod
    def poll_marker_key(stored: BackChannelAuthenticationRequest) -> str:
        return f"{stored.internal_id}:poll"

    async def should_slow_down(self, context: GrantValidationContext, stored: BackChannelAuthenticationRequest) -> bool:
        """Record this poll; ``True`` when the previous one was less than the interval ago (CIBA Core §11
        ``slow_down``; Duende ``DistributedBackchannelAuthenticationThrottlingService``)."""
        interval = context.request.client.polling_interval or self.options.default_polling_interval
        key = self.poll_marker_key(stored)
        now = context.clock.utc_now()
        previous = await self.grants.get(key)
        await self.grants.store(
            PersistedGrant(
                key=key,
                type=POLL_MARKER,
                client_id=stored.client_id,
                creation_time=now,
                expiration=now + timedelta(seconds=interval),
                data="{}",
            )
        )
        return previous is not None and previous.expiration is not None and previous.expiration > now
