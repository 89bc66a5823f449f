"""DPoP at the token endpoint (RFC 9449 §5; Duende ``TokenRequestValidator.ValidateProofToken``): at most one
``DPoP`` header, required for ``require_dpop`` clients, validated against this endpoint's URL; a valid proof
binds the tokens to its key (``cnf.jkt``)."""

from __future__ import annotations

from identityserver.constants import ProtocolRoutePaths
from identityserver.http.request import EndpointRequest
from identityserver.models.grants import ProofType
from identityserver.validation.dpop import INVALID_DPOP_PROOF, DefaultDPoPProofValidator, DPoPProofValidationContext
from identityserver.validation.results import (
    TokenRequestValidationError,
    ValidatedTokenRequest,
    error,
)


class TokenRequestProofValidator:
    """Checks the DPoP proof of a token request (RFC 9449 §5): at most one, required for ``require_dpop`` clients,
    validated against the token endpoint URL."""

    def __init__(self, dpop: DefaultDPoPProofValidator) -> None:
        self.dpop = dpop

    async def validate_token_request_proof(
        self, http: EndpointRequest, request: ValidatedTokenRequest
    ) -> TokenRequestValidationError | None:
        """Record the proof's key on ``request`` (``confirmation``, ``dpop_jkt``), or return the error; ``None`` without
        a proof when none is required."""
        proofs = http.header_values("dpop")
        if len(proofs) > 1 or (proofs and "," in proofs[0]):
            return error(INVALID_DPOP_PROOF, "too many DPoP proofs")  # RFC 9449 §4.3 (1)
        if not proofs:
            if request.client.require_dpop:
                return error(INVALID_DPOP_PROOF, "the client requires DPoP and no DPoP proof was sent")
            return None
        context = DPoPProofValidationContext.for_client(
            request.client, proofs[0].strip(), "POST", http.base_url + ProtocolRoutePaths.TOKEN
        )
        result = await self.dpop.validate(context)
        if result.is_error:
            return error(
                result.error or INVALID_DPOP_PROOF, result.error_description, dpop_nonce=result.server_issued_nonce
            )
        request.confirmation = result.confirmation
        request.dpop_jkt = result.jkt
        request.proof_type = int(ProofType.DPOP)
        return None
