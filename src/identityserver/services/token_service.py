"""Building tokens and turning them into strings (Duende ``DefaultTokenService``)."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.clock import Clock
from identityserver.crypto.hashing import left_half_hash
from identityserver.models.claims import Claim, Principal
from identityserver.models.claims_request import USERINFO_CLAIMS_CLAIM, ClaimsRequest
from identityserver.models.client import AccessTokenType, Client
from identityserver.models.grants import Token
from identityserver.models.resources import ResourceValidationResult
from identityserver.options import IdentityServerOptions
from identityserver.services.claims import FILTERED_CLAIMS, DefaultClaimsService
from identityserver.services.protocols import TokenCreationService
from identityserver.services.token_creation import ACCESS_TOKEN, IDENTITY_TOKEN, new_jti
from identityserver.stores.protocols import ReferenceTokenStore


@dataclass(slots=True)
class TokenCreationRequest:
    """Input of token creation (Duende ``TokenCreationRequest``)."""

    client: Client
    issuer: str
    validated_resources: ResourceValidationResult
    subject: Principal | None = None
    session_id: str | None = None
    confirmation: str | None = None
    description: str | None = None
    access_token_lifetime: int | None = None
    nonce: str | None = None
    state_hash: str | None = None
    authorization_code_to_hash: str | None = None
    access_token_to_hash: str | None = None
    include_all_identity_claims: bool = False
    requested_claims: ClaimsRequest | None = None
    """The validated ``claims`` request parameter of the grant (OIDC Core §5.5)."""
    jwt_id: str | None = None
    """The access token's ``jti`` when the grant fixes it (a code's redemption: derived from the code, so that a
    replay revokes the token without a record of it); otherwise a new one."""


class DefaultTokenService:
    """The default ``TokenService`` (Duende ``DefaultTokenService``): builds access and identity tokens from the claims
    service and serializes them as JWTs or stored reference tokens; override a method to change a token."""

    def __init__(
        self,
        claims: DefaultClaimsService,
        creation: TokenCreationService,
        reference_tokens: ReferenceTokenStore,
        options: IdentityServerOptions,
        clock: Clock,
    ) -> None:
        self.claims = claims
        self.creation = creation
        self.reference_tokens = reference_tokens
        self.options = options
        self.clock = clock

    async def create_access_token(self, request: TokenCreationRequest) -> Token:
        """The access token of a request: claims, audiences (the API resources, else ``{issuer}/resources``), lifetime,
        ``cnf`` and the allowed signing algorithms (RFC 9068 §2)."""
        client = request.client
        claims = await self.claims.get_access_token_claims(request.subject, request.validated_resources, client)
        if request.subject is None:
            # RFC 9068 §2.2: without a resource owner, sub identifies the client
            claims.append(Claim("sub", client.client_id))
        elif request.requested_claims is not None:
            # OIDC Core §5.5: the userinfo claims asked for individually, for the userinfo endpoint to honour
            names = sorted(n for n in request.requested_claims.userinfo if n not in FILTERED_CLAIMS)
            if names:
                claims.append(Claim.of(USERINFO_CLAIMS_CLAIM, names))
        api_resources = request.validated_resources.resources.api_resources
        audiences = list(dict.fromkeys(r.name for r in api_resources))
        if self.options.emit_static_audience_claim or not audiences:
            audiences.append(f"{request.issuer}/resources")  # RFC 9068 §2.2: aud is required
        algorithms = _intersect_algorithms([r.allowed_access_token_signing_algorithms for r in api_resources])
        # RFC 9068 §2.2 makes jti required; it is assigned here, not at serialization, so that the token can be
        # revoked with the grant it came from. ``include_jwt_id = false`` (IdentityServer's switch) cannot remove it.
        claims.append(Claim("jti", request.jwt_id or new_jti()))
        return Token(
            type=ACCESS_TOKEN,
            client_id=client.client_id,
            issuer=request.issuer,
            creation_time=int(self.clock.timestamp()),
            lifetime=request.access_token_lifetime or client.access_token_lifetime,
            audiences=audiences,
            claims=claims,
            access_token_type=int(client.access_token_type),
            allowed_signing_algorithms=algorithms,
            confirmation=request.confirmation,
            description=request.description,
            include_jwt_id=client.include_jwt_id,
        )

    async def create_identity_token(self, request: TokenCreationRequest) -> Token:
        """The ID token of a request (OIDC Core §2): the user's claims, ``nonce``, ``at_hash``/``c_hash``/``s_hash``,
        the client as audience."""
        if request.subject is None:
            raise ValueError("an identity token needs a subject (OIDC Core §2: sub is required)")
        client = request.client
        algorithm = await self.creation.signing_algorithm(client.allowed_identity_token_signing_algorithms)
        claims: list[Claim] = []
        if request.nonce:
            claims.append(Claim("nonce", request.nonce))
        if request.access_token_to_hash:
            claims.append(Claim("at_hash", left_half_hash(request.access_token_to_hash, algorithm)))
        if request.authorization_code_to_hash:
            claims.append(Claim("c_hash", left_half_hash(request.authorization_code_to_hash, algorithm)))
        if request.state_hash:
            claims.append(Claim("s_hash", request.state_hash))
        claims.extend(
            await self.claims.get_identity_token_claims(
                request.subject,
                request.validated_resources,
                client,
                request.include_all_identity_claims,
                requested_claim_types=list(request.requested_claims.id_token) if request.requested_claims else [],
            )
        )
        return Token(
            type=IDENTITY_TOKEN,
            client_id=client.client_id,
            issuer=request.issuer,
            creation_time=int(self.clock.timestamp()),
            lifetime=client.identity_token_lifetime,
            audiences=[client.client_id],
            claims=claims,
            allowed_signing_algorithms=list(client.allowed_identity_token_signing_algorithms),
            include_jwt_id=False,
        )

    async def create_security_token(self, token: Token) -> str:
        """The token as the client receives it: the handle of a stored reference access token, else a signed JWT."""
        if token.type == ACCESS_TOKEN and token.access_token_type == AccessTokenType.REFERENCE:
            return await self.reference_tokens.store_item(
                token,
                token.client_id,
                token.subject_id,
                token.session_id,
                token.description,
                token.creation_time,
                token.lifetime,
            )
        return await self.creation.create_token(token)


def with_new_jti(token: Token) -> list[Claim]:
    """The token's claims with a fresh ``jti`` (re-issuing stored claims on refresh)."""
    return [*(c for c in token.claims if c.type != "jti"), Claim("jti", new_jti())]


def _intersect_algorithms(lists: list[list[str]]) -> list[str]:
    non_empty = [set(items) for items in lists if items]
    if not non_empty:
        return []
    common = set.intersection(*non_empty)
    if not common:
        raise ValueError("the API resources of this request have no signing algorithm in common")
    return sorted(common)
