"""Token response generation (Duende ``TokenResponseGenerator``).

``process`` dispatches by grant. Every grant except ``refresh_token`` ends in :meth:`process_token_request`
(the IdentityServer 6.3 behaviour, DuendeSoftware/IdentityServer#1178): override that one method to change
what every flow returns. See docs/extending.md for an example.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from identityserver.clock import Clock
from identityserver.configuration.options import IdentityServerOptions
from identityserver.constants import GrantType, TokenTypes
from identityserver.models.grants import Token
from identityserver.response_handling.models import TokenResponse
from identityserver.services.token_service import DefaultTokenService, TokenCreationRequest
from identityserver.validation.results import TokenRequestValidationResult, ValidatedTokenRequest


class TokenResponseGenerator:
    def __init__(self, tokens: DefaultTokenService, options: IdentityServerOptions, clock: Clock) -> None:
        self.tokens = tokens
        self.options = options
        self.clock = clock
        self.grant_processors: dict[str, Callable[[TokenRequestValidationResult], Awaitable[TokenResponse]]] = {
            GrantType.CLIENT_CREDENTIALS: self.process_client_credentials_request,
        }

    async def process(self, result: TokenRequestValidationResult) -> TokenResponse:
        request = result.validated_request
        assert request is not None
        processor = self.grant_processors.get(request.grant_type, self.process_extension_grant_request)
        return await processor(result)

    async def process_client_credentials_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        return await self.process_token_request(result)

    async def process_extension_grant_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        return await self.process_token_request(result)

    async def process_token_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """Create the access token (and refresh token when granted) and build the response."""
        request = result.validated_request
        assert request is not None
        access_token, refresh_token = await self.create_access_token(request)
        response = TokenResponse(
            access_token=access_token,
            access_token_type=TokenTypes.DPOP if request.confirmation else TokenTypes.BEARER,
            access_token_lifetime=request.access_token_lifetime,
            scope=" ".join(request.validated_resources.raw_scope_values) or None,
            refresh_token=refresh_token,
            custom=dict(result.custom_response),
        )
        return response

    async def create_access_token(self, request: ValidatedTokenRequest) -> tuple[str, str | None]:
        """Return ``(access_token, refresh_token)``; the refresh token is ``None`` unless granted."""
        token = await self.tokens.create_access_token(self.token_creation_request(request))
        return await self.tokens.create_security_token(token), await self.create_refresh_token(request, token)

    def token_creation_request(self, request: ValidatedTokenRequest) -> TokenCreationRequest:
        return TokenCreationRequest(
            client=request.client,
            issuer=request.issuer,
            validated_resources=request.validated_resources,
            subject=request.subject,
            session_id=request.session_id,
            confirmation=request.confirmation,
            access_token_lifetime=request.access_token_lifetime,
        )

    async def create_refresh_token(self, request: ValidatedTokenRequest, access_token: Token) -> str | None:
        """Overridden once refresh tokens are wired in (``services/refresh_tokens.py``)."""
        return None
