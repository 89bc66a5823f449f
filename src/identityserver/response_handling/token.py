"""Token response generation (Duende ``TokenResponseGenerator``).

``process`` dispatches by grant. Every grant except ``refresh_token`` ends in :meth:`process_token_request`
(the IdentityServer 6.3 behaviour, DuendeSoftware/IdentityServer#1178): override that one method to change
what every flow returns. See docs/extending.md for an example. A request can still fail here (a refresh token
rotated by a concurrent request): ``process`` then returns a :class:`TokenErrorResponse`, not a token response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from identityserver._utils import json_bytes
from identityserver._utils.b64 import b64url_decode
from identityserver.clock import Clock
from identityserver.constants import GrantType, TokenErrors, TokenTypes
from identityserver.models.claims_request import grant_claims_request
from identityserver.models.client import AccessTokenType
from identityserver.models.grants import ProofType, Token
from identityserver.options import IdentityServerOptions
from identityserver.response_handling.models import TokenErrorResponse, TokenResponse
from identityserver.services.authorization_codes import IssuedTokens, access_token_jti
from identityserver.services.protocols import AuthorizationCodeService, RefreshTokenService, TokenService
from identityserver.services.token_service import TokenCreationRequest, with_new_jti
from identityserver.validation.results import (
    IncompleteRequestError,
    TokenRequestValidationResult,
    ValidatedTokenRequest,
)


class TokenResponseGenerator:
    """Builds token responses (Duende ``TokenResponseGenerator``; RFC 6749 §5.1): one method per grant, all but refresh
    ending in ``process_token_request``; override a method to change what a flow returns."""

    def __init__(
        self,
        tokens: TokenService,
        refresh_tokens: RefreshTokenService,
        codes: AuthorizationCodeService,
        options: IdentityServerOptions,
        clock: Clock,
    ) -> None:
        self.tokens = tokens
        self.refresh_tokens = refresh_tokens
        self.codes = codes
        self.options = options
        self.clock = clock
        self.grant_processors: dict[
            str, Callable[[TokenRequestValidationResult], Awaitable[TokenResponse | TokenErrorResponse]]
        ] = {
            GrantType.CLIENT_CREDENTIALS: self.process_client_credentials_request,
            GrantType.PASSWORD: self.process_password_request,
            GrantType.AUTHORIZATION_CODE: self.process_authorization_code_request,
            GrantType.REFRESH_TOKEN: self.process_refresh_token_request,
            GrantType.DEVICE_CODE: self.process_device_code_request,
            GrantType.CIBA: self.process_ciba_request,
        }

    async def process(self, result: TokenRequestValidationResult) -> TokenResponse | TokenErrorResponse:
        """Dispatch to the grant's method (``process_extension_grant_request`` for grants not in
        ``grant_processors``)."""
        processor = self.grant_processors.get(result.validated_request.grant_type, self.process_extension_grant_request)
        return await processor(result)

    async def process_client_credentials_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """The ``client_credentials`` response: ``process_token_request``."""
        return await self.process_token_request(result)

    async def process_password_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """The ``password`` response: ``process_token_request``."""
        return await self.process_token_request(result)

    async def process_extension_grant_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """An extension grant's response: ``process_token_request``."""
        return await self.process_token_request(result)

    async def process_authorization_code_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """Tokens for a redeemed code, plus an ID token for OpenID requests (OIDC Core §3.1.3.3)."""
        request = result.validated_request
        code = request.authorization_code
        if code is None:
            raise IncompleteRequestError("an authorization_code request without the redeemed code")
        response = await self.process_token_request(result)
        if code.is_open_id and request.subject is not None:
            response.identity_token = await self.create_identity_token(
                request, nonce=code.nonce, state_hash=code.state_hash, access_token=response.access_token
            )
        if request.authorization_code_handle:
            await self.codes.record_issued(
                request.authorization_code_handle, code, self.issued_tokens(request, response)
            )
        return response

    async def process_device_code_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """Tokens for a redeemed device code, plus an ID token when ``openid`` was granted (RFC 8628 §3.5)."""
        request = result.validated_request
        response = await self.process_token_request(result)
        if request.validated_resources.is_openid and request.subject is not None:
            response.identity_token = await self.create_identity_token(request, access_token=response.access_token)
        return response

    async def process_ciba_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """CIBA (CIBA Core §10.1.1): ``process_token_request`` and always an ID token."""
        response = await self.process_token_request(result)
        response.identity_token = await self.create_identity_token(
            result.validated_request, access_token=response.access_token
        )
        return response

    async def process_token_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        """Create the access token (and refresh token when granted) and build the response."""
        request = result.validated_request
        access_token, refresh_token = await self.create_access_token(request)
        return TokenResponse(
            access_token=access_token,
            access_token_type=TokenTypes.DPOP if request.dpop_jkt else TokenTypes.BEARER,
            access_token_lifetime=request.access_token_lifetime,
            scope=" ".join(request.validated_resources.raw_scope_values) or None,
            refresh_token=refresh_token,
            custom=dict(result.custom_response),
        )

    async def process_refresh_token_request(
        self, result: TokenRequestValidationResult
    ) -> TokenResponse | TokenErrorResponse:
        """Re-issue the access token (same claims unless ``update_access_token_claims_on_refresh``), rotate or
        slide the refresh token, and add an ID token when ``openid`` was granted. A token that a concurrent
        request rotated first is ``invalid_grant`` (RFC 6749 §5.2)."""
        request = result.validated_request
        stored, handle = request.refresh_token, request.refresh_token_handle
        if stored is None or not handle:
            raise IncompleteRequestError("a refresh_token request without the validated refresh token")
        client = request.client
        previous = stored.access_tokens.get("")
        narrowed = set(request.validated_resources.raw_scope_values) != set(stored.authorized_scopes)
        if (
            client.update_access_token_claims_on_refresh
            or previous is None
            or narrowed
            or request.requested_resource_indicator
        ):
            token = await self.tokens.create_access_token(self.token_creation_request(request))
        else:
            token = dataclasses.replace(
                previous,
                creation_time=int(self.clock.timestamp()),
                lifetime=client.access_token_lifetime,
                confirmation=request.confirmation,
                access_token_type=int(client.access_token_type),
                include_jwt_id=client.include_jwt_id,
            )
            token.claims = with_new_jti(token)
        access_token = await self.tokens.create_security_token(token)
        if request.proof_type:
            stored.proof_type = ProofType(request.proof_type)
        refresh_token = await self.refresh_tokens.rotate(handle, stored, client, token)
        if refresh_token is None:
            return TokenErrorResponse(TokenErrors.INVALID_GRANT, "refresh token was already used")
        response = TokenResponse(
            access_token=access_token,
            access_token_type=TokenTypes.DPOP if request.dpop_jkt else TokenTypes.BEARER,
            access_token_lifetime=token.lifetime,
            scope=" ".join(request.validated_resources.raw_scope_values) or None,
            refresh_token=refresh_token,
            custom=dict(result.custom_response),
        )
        if "openid" in request.validated_resources.raw_scope_values:
            response.identity_token = await self.create_identity_token(request, access_token=access_token)
        return response

    async def create_access_token(self, request: ValidatedTokenRequest) -> tuple[str, str | None]:
        """Return ``(access_token, refresh_token)``; the refresh token is ``None`` unless granted."""
        token = await self.tokens.create_access_token(self.token_creation_request(request))
        return await self.tokens.create_security_token(token), await self.create_refresh_token(request, token)

    def token_creation_request(self, request: ValidatedTokenRequest) -> TokenCreationRequest:
        """What the token service needs to create this request's access token."""
        return TokenCreationRequest(
            client=request.client,
            issuer=request.issuer,
            validated_resources=request.validated_resources,
            subject=request.subject,
            session_id=request.session_id,
            confirmation=request.confirmation,
            access_token_lifetime=request.access_token_lifetime,
            requested_claims=grant_claims_request(request.authorization_code, request.refresh_token),
            jwt_id=access_token_jti(request.authorization_code_handle) if request.authorization_code_handle else None,
        )

    async def create_refresh_token(self, request: ValidatedTokenRequest, access_token: Token) -> str | None:
        """A refresh token when ``offline_access`` was granted to a user (never for client credentials)."""
        resources = request.validated_resources
        if not resources.resources.offline_access or request.subject is None or not request.client.allow_offline_access:
            return None
        indicators = request.authorization_code.requested_resource_indicators if request.authorization_code else None
        return await self.refresh_tokens.create_refresh_token(
            request.subject,
            access_token,
            request.client,
            resources.raw_scope_values,
            indicators,
            request.session_id,
            ProofType(request.proof_type),
            family_id=(
                self.codes.family_id(request.authorization_code_handle) if request.authorization_code_handle else None
            ),
        )

    async def create_identity_token(
        self,
        request: ValidatedTokenRequest,
        nonce: str | None = None,
        state_hash: str | None = None,
        access_token: str | None = None,
    ) -> str:
        """A signed ID token for the request (OIDC Core §3.1.3.3), with ``at_hash`` when given the access token."""
        creation = TokenCreationRequest(
            client=request.client,
            issuer=request.issuer,
            validated_resources=request.validated_resources,
            subject=request.subject,
            session_id=request.session_id,
            nonce=nonce,
            state_hash=state_hash,
            access_token_to_hash=access_token,
            requested_claims=grant_claims_request(request.authorization_code, None),
        )
        return await self.tokens.create_security_token(await self.tokens.create_identity_token(creation))

    def issued_tokens(self, request: ValidatedTokenRequest, response: TokenResponse) -> IssuedTokens:
        """The handles and ``jti`` of what this response issued, so that a replayed code can revoke them (RFC 6749
        §4.1.2)."""
        issued = IssuedTokens()
        if response.refresh_token:
            issued.refresh_token_key = self.refresh_tokens.store.get_hashed_key(response.refresh_token)
        if request.client.access_token_type == AccessTokenType.REFERENCE:
            issued.reference_token_key = self.tokens.reference_tokens.get_hashed_key(response.access_token)
        else:
            payload = _own_jwt_payload(response.access_token)
            jti, exp = payload.get("jti"), payload.get("exp")
            if isinstance(jti, str) and isinstance(exp, int):
                issued.access_token_jti, issued.access_token_expiration = jti, exp
        return issued


def _own_jwt_payload(jwt: str) -> dict[str, Any]:
    """The claims of a JWT this server has just signed; ``{}`` when it is not one. Its own output: read without
    the checks an incoming JWT gets (``crypto/jwt.decode_jws``), in a fifth of the time."""
    parts = jwt.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json_bytes.loads(b64url_decode(parts[1]))
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
