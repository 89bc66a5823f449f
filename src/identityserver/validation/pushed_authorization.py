"""The pushed authorization request (RFC 9126 §2.1; IdentityServer 7's ``PushedAuthorizationRequestValidator``):
everything the authorize endpoint would check, for the authenticated client, before the request is stored, plus
the DPoP key the code will be bound to (RFC 9449 §10.1)."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.constants import AuthorizeErrors, ProtocolRoutePaths
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.validation.authorize_request import REPEATABLE, AuthorizeRequestValidator
from identityserver.validation.authorize_results import AuthorizeRequestValidationError, ValidatedAuthorizeRequest
from identityserver.validation.dpop import INVALID_DPOP_PROOF, DefaultDPoPProofValidator, DPoPProofValidationContext

#: Client authentication (RFC 6749 §2.3, RFC 7523 §2.2): used by the endpoint, never stored with the request.
CLIENT_AUTHENTICATION_PARAMETERS = ("client_secret", "client_assertion", "client_assertion_type")
#: Only the engine adds these to an authorize request.
ENGINE_PARAMETERS = ("suppressed_prompt",)


@dataclass(slots=True)
class PushedAuthorizationValidationResult:
    """The validated request to store, or the error (RFC 9126 §2.3) with the DPoP nonce to send."""

    request: ValidatedAuthorizeRequest | None = None
    error: str | None = None
    error_description: str | None = None
    dpop_nonce: str | None = None


def failure(error: str, description: str, dpop_nonce: str | None = None) -> PushedAuthorizationValidationResult:
    return PushedAuthorizationValidationResult(error=error, error_description=description, dpop_nonce=dpop_nonce)


class PushedAuthorizationRequestValidator:
    """Validates a pushed request of an authenticated client: no ``request_uri`` of its own, the ``client_id`` of the
    authenticated client, at most one valid DPoP proof, then the authorize request validator (with ``pushed``)."""

    def __init__(self, authorize: AuthorizeRequestValidator, dpop: DefaultDPoPProofValidator) -> None:
        self.authorize = authorize
        self.dpop = dpop

    async def validate(
        self, http: EndpointRequest, form: Parameters, client: Client
    ) -> PushedAuthorizationValidationResult:
        """Validate a pushed request as an authorize request of the authenticated client (RFC 9126 §2.1), with its
        DPoP proof when one is sent."""
        values = dict(form.values)
        resources = form.get_all("resource")
        for name in ("resource", *CLIENT_AUTHENTICATION_PARAMETERS, *ENGINE_PARAMETERS):
            values.pop(name, None)
        if "request_uri" in values:
            return failure(AuthorizeErrors.INVALID_REQUEST, "a pushed request cannot carry request_uri (RFC 9126 §2.1)")
        if values.setdefault("client_id", client.client_id) != client.client_id:
            return failure(AuthorizeErrors.INVALID_REQUEST, "client_id must be the authenticated client")
        proof = await self.validate_proof(http, client)
        if isinstance(proof, PushedAuthorizationValidationResult):
            return proof
        repeated = [n for n in form.repeated if n not in REPEATABLE]
        result = await self.authorize.validate(values, http.issuer, None, repeated, resources, pushed=True)
        if isinstance(result, AuthorizeRequestValidationError):
            return failure(result.error, result.error_description or result.error)
        request = result.validated_request
        if proof is not None:
            if request.dpop_key_thumbprint is not None and request.dpop_key_thumbprint != proof:
                # RFC 9449 §10.1: both dpop_jkt and a proof: they must name the same key
                return failure(INVALID_DPOP_PROOF, "dpop_jkt does not match the key of the DPoP proof")
            request.dpop_key_thumbprint = proof
            request.raw["dpop_jkt"] = proof
        return PushedAuthorizationValidationResult(request=request)

    async def validate_proof(
        self, http: EndpointRequest, client: Client
    ) -> str | PushedAuthorizationValidationResult | None:
        """The JWK thumbprint of the request's DPoP proof (RFC 9449 §10.1), ``None`` without one, or the error."""
        proofs = http.header_values("dpop")
        if not proofs:
            return None
        if len(proofs) > 1 or "," in proofs[0]:
            return failure(INVALID_DPOP_PROOF, "too many DPoP proofs")
        url = http.base_url + ProtocolRoutePaths.PUSHED_AUTHORIZATION
        result = await self.dpop.validate(DPoPProofValidationContext.for_client(client, proofs[0].strip(), "POST", url))
        if result.is_error or result.jkt is None:
            return failure(
                result.error or INVALID_DPOP_PROOF,
                result.error_description or "invalid DPoP proof",
                result.server_issued_nonce,
            )
        return result.jkt
