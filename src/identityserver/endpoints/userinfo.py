"""The userinfo endpoint (Duende ``UserInfoEndpoint``; OIDC Core §5.3; RFC 6750 §3 errors)."""

from __future__ import annotations

from identityserver.constants import ProtectedResourceErrors, ProtocolRoutePaths
from identityserver.crypto.certificates import certificate_matches_confirmation
from identityserver.endpoints.results import JsonResult, ProtectedResourceErrorResult, StatusCodeResult
from identityserver.http.request import EndpointRequest
from identityserver.models.claims import Claim, Principal
from identityserver.models.claims_request import USERINFO_CLAIMS_CLAIM, requested_names
from identityserver.models.client import Client
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.response_handling.userinfo import UserInfoResponseGenerator
from identityserver.services.protocols import ProfileService
from identityserver.validation.bearer_token_usage import find_access_token
from identityserver.validation.dpop import DefaultDPoPProofValidator, DPoPProofValidationContext
from identityserver.validation.token_validator import TokenValidator


class UserInfoEndpoint:
    """``/connect/userinfo`` (OIDC Core §5.3): Bearer or DPoP-bound (RFC 9449 §7) access tokens with the ``openid``
    scope."""

    def __init__(
        self,
        tokens: TokenValidator,
        generator: UserInfoResponseGenerator,
        profile: ProfileService,
        dpop_algorithms: list[str],
        dpop: DefaultDPoPProofValidator | None = None,
    ) -> None:
        self.dpop = dpop
        self.tokens = tokens
        self.generator = generator
        self.profile = profile
        self.dpop_algorithms = dpop_algorithms

    def error(self, error: str, description: str, status: int = 401) -> ProtectedResourceErrorResult:
        """A Bearer challenge (RFC 6750 §3) that also advertises the DPoP algorithms."""
        return ProtectedResourceErrorResult(error, description, status, dpop_algs=self.dpop_algorithms)

    async def process(self, request: EndpointRequest) -> JsonResult | ProtectedResourceErrorResult | StatusCodeResult:
        """Validate the token (and its proof when DPoP-bound) and return the user's claims, or the RFC 6750 §3.1
        error."""
        if request.method not in ("GET", "POST"):
            return StatusCodeResult(405, {"Allow": "GET, POST"})
        usage = find_access_token(request)
        if usage.error is not None:
            return self.error(ProtectedResourceErrors.INVALID_REQUEST, usage.error, 400)
        if usage.token is None:
            # RFC 6750 §3.1: no error code when the request has no authentication at all
            return ProtectedResourceErrorResult(None, None, 401, dpop_algs=self.dpop_algorithms)
        result = await self.tokens.validate_access_token(usage.token, request.issuer, expected_scope="openid")
        if result.is_error:
            status = 403 if result.error == ProtectedResourceErrors.INSUFFICIENT_SCOPE else 401
            return self.error(
                result.error or ProtectedResourceErrors.INVALID_TOKEN, result.error_description or "", status
            )
        if not certificate_matches_confirmation(result.confirmation, request.client_certificate):
            # RFC 8705 §3: a certificate-bound token is used only over a connection with that certificate
            return self.error(ProtectedResourceErrors.INVALID_TOKEN, "the token is bound to another client certificate")
        proof_error = await self.validate_proof(
            request, usage.scheme or "Bearer", result.confirmation, usage.token, result.client
        )
        if proof_error is not None:
            return proof_error
        subject_id = result.claims.get("sub")
        if not isinstance(subject_id, str) or result.client is None:
            return self.error(ProtectedResourceErrors.INVALID_TOKEN, "the token has no subject")
        subject = Principal(
            [Claim("sub", subject_id)]
            + [Claim(name, str(result.claims[name])) for name in ("sid", "idp", "auth_time") if name in result.claims]
        )
        active = IsActiveContext(subject, result.client, ProfileCallers.USER_INFO_ENDPOINT)
        await self.profile.is_active(active)
        if not active.is_active:
            return self.error(ProtectedResourceErrors.INVALID_TOKEN, "the user is not active")
        requested = requested_names(result.claims.get(USERINFO_CLAIMS_CLAIM))  # OIDC Core §5.5
        return JsonResult(await self.generator.process(subject, result.client, result.scopes, requested))

    async def validate_proof(
        self,
        request: EndpointRequest,
        scheme: str,
        confirmation: dict[str, object] | None,
        token: str,
        client: Client | None,
    ) -> ProtectedResourceErrorResult | None:
        """RFC 9449 §7: a DPoP-bound token needs the DPoP scheme and a proof for this request and token; it is
        never accepted as a bearer token (§7.2)."""
        jkt = confirmation.get("jkt") if confirmation else None
        if scheme != "DPoP":
            if jkt is not None:
                return self.error(ProtectedResourceErrors.INVALID_TOKEN, "a DPoP-bound token must be sent with DPoP")
            return None
        if self.dpop is None or client is None:
            return self.dpop_error(ProtectedResourceErrors.INVALID_TOKEN, "DPoP is not enabled")
        if not isinstance(jkt, str):
            return self.dpop_error(ProtectedResourceErrors.INVALID_TOKEN, "the token is not bound to a DPoP key")
        proofs = request.header_values("dpop")
        if len(proofs) != 1:
            return self.dpop_error(
                ProtectedResourceErrors.INVALID_DPOP_PROOF,
                "exactly one DPoP proof is required",
                status=400 if proofs else 401,
            )
        context = DPoPProofValidationContext.for_client(
            client, proofs[0].strip(), request.method, request.base_url + ProtocolRoutePaths.USER_INFO, token
        )
        result = await self.dpop.validate(context)
        if result.is_error:
            return self.dpop_error(
                result.error or ProtectedResourceErrors.INVALID_DPOP_PROOF,
                result.error_description or "",
                nonce=result.server_issued_nonce,
            )
        if result.jkt != jkt:
            return self.dpop_error(ProtectedResourceErrors.INVALID_TOKEN, "the proof key does not match the token")
        return None

    def dpop_error(
        self, error: str, description: str, status: int = 401, nonce: str | None = None
    ) -> ProtectedResourceErrorResult:
        """A DPoP challenge (RFC 9449 §7.1), with a fresh ``DPoP-Nonce`` when one is required."""
        return ProtectedResourceErrorResult(
            error, description, status, scheme="DPoP", dpop_algs=self.dpop_algorithms, dpop_nonce=nonce
        )
