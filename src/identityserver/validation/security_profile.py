"""The FAPI 2.0 clauses that the ordinary checks do not cover once ``apply_security_profile`` has narrowed the
client (FAPI 2.0 Security Profile, final; FAPI 2.0 Message Signing, final). docs/fapi.md maps every clause to
its check and test."""

from __future__ import annotations

from urllib.parse import urlsplit

from identityserver.constants import AuthorizeErrors
from identityserver.crypto.jwt import JwtError, decode_jws, numeric_date
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.models.grants import ProofType
from identityserver.models.security_profile import FAPI2_MESSAGE_SIGNING, FAPI_SIGNING_ALGORITHMS
from identityserver.validation.authorize_results import AuthorizeRequestValidationError, ValidatedAuthorizeRequest
from identityserver.validation.dpop import INVALID_DPOP_PROOF
from identityserver.validation.jarm import is_jarm_mode
from identityserver.validation.pkce import S256
from identityserver.validation.results import TokenRequestValidationError, ValidatedTokenRequest, error
from identityserver.validation.token_request.validator import ProofValidator

#: FAPI 2.0 Message Signing §5.3.1: a request object lives at most 60 minutes after its ``nbf``, and its ``nbf``
#: is at most 60 minutes in the past.
MAX_REQUEST_OBJECT_AGE = 3600
ALGORITHMS = ", ".join(FAPI_SIGNING_ALGORITHMS)


def _fail(request: ValidatedAuthorizeRequest, error: str, description: str) -> AuthorizeRequestValidationError:
    return AuthorizeRequestValidationError(
        error, description, request.raw, request, redirectable=request.redirect_uri is not None
    )


async def enforce_security_profile(request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
    """The last built-in authorize step: for a client under a security profile, what its narrowed settings cannot
    express (the redirect URI's scheme, the response type and mode) and, defensively, what they should have
    enforced already (PAR, PKCE S256)."""
    profile = request.client.security_profile
    if profile is None:
        return None
    redirect_uri = request.validated_redirect_uri()
    if urlsplit(redirect_uri).scheme != "https" or redirect_uri not in request.client.redirect_uris:
        # FAPI 2.0 SP §5.3.2.2: https redirect URIs only, matched exactly (never redirect to the others)
        return AuthorizeRequestValidationError(
            AuthorizeErrors.INVALID_REQUEST, "FAPI 2.0 requires an exactly registered https redirect_uri", request.raw
        )
    if request.response_type != "code":
        # FAPI 2.0 SP §5.3.2.2: the authorization code flow only
        return _fail(request, AuthorizeErrors.UNSUPPORTED_RESPONSE_TYPE, "FAPI 2.0 allows only response_type code")
    if not request.pushed_authorization:
        # FAPI 2.0 SP §5.3.2.2: authorization requests only through PAR (RFC 9126)
        return _fail(request, AuthorizeErrors.INVALID_REQUEST, "FAPI 2.0 requires a pushed authorization request")
    if request.code_challenge_method != S256:
        # FAPI 2.0 SP §5.3.2.2: PKCE with S256
        return _fail(request, AuthorizeErrors.INVALID_REQUEST, "FAPI 2.0 requires PKCE with S256")
    if profile == FAPI2_MESSAGE_SIGNING and not is_jarm_mode(request.response_mode):
        # FAPI 2.0 Message Signing §5.4: signed authorization responses (JARM)
        return _fail(request, AuthorizeErrors.INVALID_REQUEST, "FAPI 2.0 Message Signing requires response_mode jwt")
    return None


def request_object_problem(client: Client, alg: str, payload: dict[str, object], now: float) -> str | None:
    """Why a request object of a client under a security profile is refused (``invalid_request_object``)."""
    if client.security_profile is None:
        return None
    if alg not in FAPI_SIGNING_ALGORITHMS:
        return f"FAPI 2.0 request objects must be signed with {ALGORITHMS}"  # FAPI 2.0 SP §5.4.1
    if client.security_profile == FAPI2_MESSAGE_SIGNING:
        nbf, exp = numeric_date(payload.get("nbf")), numeric_date(payload.get("exp"))
        if nbf is None:
            return "FAPI 2.0 Message Signing request objects need nbf"
        if nbf < now - MAX_REQUEST_OBJECT_AGE:
            return "request object nbf is more than 60 minutes in the past"
        if exp is not None and exp - nbf > MAX_REQUEST_OBJECT_AGE:
            return "request object lifetime (exp - nbf) exceeds 60 minutes"
    return None


def client_assertion_problem(client: Client, assertion: str, issuer: str) -> str | None:
    """Why a client assertion that is otherwise valid is refused for a client under a security profile
    (``invalid_client``)."""
    if client.security_profile is None:
        return None
    try:
        jws = decode_jws(assertion)
    except JwtError:
        return "client assertion is malformed"
    if jws.alg not in FAPI_SIGNING_ALGORITHMS:
        return f"FAPI 2.0 client assertions must be signed with {ALGORITHMS}"  # FAPI 2.0 SP §5.4.1
    if jws.payload.get("aud") != issuer:
        # FAPI 2.0 SP §5.3.2.1: only the issuer identifier, as a string, is an acceptable audience
        return "FAPI 2.0 client assertions must have the issuer as their only aud, as a string"
    return None


class SecurityProfileProofValidator:
    """Wraps the token endpoint's proof validator (DPoP, and mTLS certificate binding when on): a client under a
    security profile proves possession with a PS256, ES256 or EdDSA key (FAPI 2.0 SP §5.4.1), and its tokens are
    always sender-constrained, by DPoP or by its certificate (§5.3.2.1)."""

    def __init__(self, inner: ProofValidator) -> None:
        self.inner = inner

    async def validate_token_request_proof(
        self, http: EndpointRequest, request: ValidatedTokenRequest
    ) -> TokenRequestValidationError | None:
        proofs = http.header_values("dpop")
        if request.client.security_profile is not None and len(proofs) == 1:
            try:
                alg = decode_jws(proofs[0].strip()).alg
            except JwtError:
                alg = None  # the inner validator names the problem
            if alg is not None and alg not in FAPI_SIGNING_ALGORITHMS:
                return error(INVALID_DPOP_PROOF, f"FAPI 2.0 DPoP proofs must be signed with {ALGORITHMS}")
        failure = await self.inner.validate_token_request_proof(http, request)
        if failure is None and request.client.security_profile is not None and request.proof_type == ProofType.NONE:
            # FAPI 2.0 SP §5.3.2.1: sender-constrained tokens only (DPoP, or mTLS: RFC 8705 §3)
            return error(INVALID_DPOP_PROOF, "FAPI 2.0 requires a DPoP proof or a certificate-bound request")
        return failure
