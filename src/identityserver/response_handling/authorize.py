"""Authorization responses for the code, implicit and hybrid flows (Duende ``AuthorizeResponseGenerator``;
RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.3.2.5; RFC 9207; OIDC Session Management §3)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from identityserver._utils.b64 import b64url_encode
from identityserver.clock import Clock
from identityserver.constants import GrantType
from identityserver.crypto.hashing import left_half_hash
from identityserver.models.claims_request import CLAIMS_REQUEST_PROPERTY
from identityserver.models.grants import AuthorizationCode
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import AuthorizationCodeService, TokenService
from identityserver.services.token_service import TokenCreationRequest
from identityserver.validation.authorize_results import ValidatedAuthorizeRequest

#: The parameters this server defines in authorization responses; custom parameters never take these names.
RESPONSE_PARAMETERS = frozenset(
    {
        "error",
        "error_description",
        "error_uri",
        "code",
        "id_token",
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "state",
        "session_state",
        "iss",
    }
)


@dataclass(slots=True)
class AuthorizeResponse:
    request: ValidatedAuthorizeRequest
    code: str | None = None
    identity_token: str | None = None
    access_token: str | None = None
    access_token_lifetime: int | None = None
    scope: str | None = None
    session_state: str | None = None
    error: str | None = None
    error_description: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    """Parameters from custom authorize request validators (``custom_response``)."""

    def to_parameters(self, emit_iss: bool) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.error:
            params["error"] = self.error
            if self.error_description:
                params["error_description"] = self.error_description
        if self.code:
            params["code"] = self.code
        if self.identity_token:
            params["id_token"] = self.identity_token
        if self.access_token:
            params["access_token"] = self.access_token
            params["token_type"] = "Bearer"
            params["expires_in"] = str(self.access_token_lifetime)
            if self.scope:
                params["scope"] = self.scope
        if self.request.state is not None:
            params["state"] = self.request.state
        if self.session_state:
            params["session_state"] = self.session_state
        if emit_iss:
            params["iss"] = self.request.issuer  # RFC 9207 §2
        for name, value in self.custom.items():
            if name not in RESPONSE_PARAMETERS:
                params[name] = value
        return params


def session_state(client_id: str, redirect_uri: str, session_id: str) -> str:
    """OIDC Session Management §3: hash(client_id + origin + sid + salt) "." salt."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{client_id}{origin}{session_id}{salt}".encode()).digest()
    return f"{b64url_encode(digest)}.{salt}"


class AuthorizeResponseGenerator:
    """Builds the authorization response (Duende ``AuthorizeResponseGenerator``; RFC 6749 §4.1.2, OIDC Core §3.2.2.5,
    §3.3.2.5): the code, or the implicit/hybrid tokens, plus ``session_state``; override a step to change what is
    issued."""

    def __init__(
        self, tokens: TokenService, codes: AuthorizationCodeService, options: IdentityServerOptions, clock: Clock
    ) -> None:
        self.tokens = tokens
        self.codes = codes
        self.options = options
        self.clock = clock

    async def create_response(self, request: ValidatedAuthorizeRequest) -> AuthorizeResponse:
        """The response of a validated request whose user is signed in and has consented, by its grant type."""
        if request.grant_type == GrantType.AUTHORIZATION_CODE:
            response = await self.create_code_flow_response(request)
        else:
            response = await self.create_implicit_or_hybrid_response(request)
        if (
            self.options.endpoints.enable_check_session_endpoint
            and request.is_openid_request
            and request.session_id
            and request.client_id
            and request.redirect_uri
        ):
            response.session_state = session_state(request.client_id, request.redirect_uri, request.session_id)
        return response

    async def state_hash(self, request: ValidatedAuthorizeRequest) -> str | None:
        """``s_hash`` of ``state`` when the options ask for it (FAPI 1.0 Advanced §5.2.2.1)."""
        if not (self.options.emit_state_hash and request.state):
            return None
        algorithm = await self.tokens.creation.signing_algorithm(
            request.client.allowed_identity_token_signing_algorithms
        )
        return left_half_hash(request.state, algorithm)

    async def create_code(self, request: ValidatedAuthorizeRequest) -> str:
        """Store a one-time authorization code for the request and return its handle."""
        state_hash = await self.state_hash(request)
        code = AuthorizationCode(
            creation_time=int(self.clock.timestamp()),
            lifetime=request.client.authorization_code_lifetime,
            client_id=request.client.client_id,
            subject=request.authenticated_subject(),
            is_open_id=request.is_openid_request,
            requested_scopes=request.validated_resources.raw_scope_values,
            redirect_uri=request.validated_redirect_uri(),
            requested_resource_indicators=list(request.requested_resource_indicators),
            nonce=request.nonce,
            state_hash=state_hash,
            was_consent_shown=request.was_consent_shown,
            session_id=request.session_id,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            dpop_key_thumbprint=request.dpop_key_thumbprint,
        )
        if request.requested_claims:
            # OIDC Core §5.5: the claims asked for travel with the code to the token endpoint
            code.properties[CLAIMS_REQUEST_PROPERTY] = request.requested_claims.to_json()
        return await self.codes.create(code)

    async def create_code_flow_response(self, request: ValidatedAuthorizeRequest) -> AuthorizeResponse:
        """``response_type=code``: just the code."""
        return AuthorizeResponse(request, code=await self.create_code(request))

    async def create_implicit_or_hybrid_response(self, request: ValidatedAuthorizeRequest) -> AuthorizeResponse:
        """Implicit and hybrid flows: the code, access token and ID token the ``response_type`` asks for (the ID token
        with ``c_hash``/``at_hash``, OIDC Core §3.3.2.11)."""
        subject = request.authenticated_subject()
        types = request.response_types
        response = AuthorizeResponse(request)
        if "code" in types:
            response.code = await self.create_code(request)
        if "token" in types:
            creation = TokenCreationRequest(
                client=request.client,
                issuer=request.issuer,
                validated_resources=request.validated_resources,
                subject=subject,
                session_id=request.session_id,
                requested_claims=request.requested_claims,
            )
            token = await self.tokens.create_access_token(creation)
            response.access_token = await self.tokens.create_security_token(token)
            response.access_token_lifetime = token.lifetime
            response.scope = " ".join(request.validated_resources.raw_scope_values)
        if "id_token" in types:
            state_hash = await self.state_hash(request)
            creation = TokenCreationRequest(
                client=request.client,
                issuer=request.issuer,
                validated_resources=request.validated_resources,
                subject=subject,
                session_id=request.session_id,
                nonce=request.nonce,
                state_hash=state_hash,
                authorization_code_to_hash=response.code,
                access_token_to_hash=response.access_token,
                include_all_identity_claims=response.access_token is None,
                requested_claims=request.requested_claims,
            )
            identity = await self.tokens.create_identity_token(creation)
            response.identity_token = await self.tokens.create_security_token(identity)
        return response
