"""Access-token validation for APIs: JWT access tokens (RFC 9068 §4), reference tokens by introspection (RFC 7662,
``resource_server.introspection``) and DPoP-bound tokens (RFC 9449 §7)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.clock import Clock, SystemClock
from identityserver.constants import SUPPORTED_SIGNING_ALGORITHMS
from identityserver.crypto.jwt import JwtError, audience_values, decode_jws, numeric_date, verify_signature
from identityserver.crypto.protection import DataProtectionError
from identityserver.models.client import DPoPTokenExpirationValidationMode
from identityserver.options import DPoPOptions
from identityserver.resource_server.jwks import JwksCache
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from identityserver.stores.protocols import ReplayCache
from identityserver.validation.dpop import (
    DPOP_SIGNING_ALGORITHMS,
    DefaultDPoPProofValidator,
    DPoPProofValidationContext,
)

if TYPE_CHECKING:
    from identityserver.resource_server.introspection import TokenIntrospection


@dataclass(slots=True)
class ResourceServerOptions:
    authority: str
    """The identity server's base URL (its discovery document lives under it)."""
    audience: str | None = None
    """This API's resource name; tokens must list it in ``aud``."""
    required_scopes: list[str] = field(default_factory=list)
    clock_skew: int = 60
    dpop_validation_mode: DPoPTokenExpirationValidationMode = DPoPTokenExpirationValidationMode.IAT
    dpop_clock_skew: int = 300
    dpop_proof_validity: int = 60
    nonce_secret: bytes | None = None
    """32-byte key for DPoP nonces; share it between the API's processes (random per process when absent)."""
    accept_bearer: bool = True
    """Accept unbound tokens with the Bearer scheme (DPoP-bound tokens never are)."""
    introspection_secret: str | None = None
    """One of this API resource's secrets: when set, a token that is not a JWT (a reference token) is validated at
    the issuer's introspection endpoint (RFC 7662), authenticated as ``introspection_client_id``."""
    introspection_client_id: str | None = None
    """The API resource name to authenticate as at the introspection endpoint (``audience`` when unset)."""
    introspection_cache_duration: float = 60
    """Seconds an active introspection answer is reused (never past the token's ``exp``); 0: ask every time.
    Inactive answers are never reused, so a revoked reference token stops working within this time."""


@dataclass(slots=True)
class ValidatedAccessToken:
    claims: dict[str, Any]
    scheme: str
    jkt: str | None = None

    @property
    def scopes(self) -> list[str]:
        scope = self.claims.get("scope")
        return scope.split() if isinstance(scope, str) else [str(s) for s in scope] if isinstance(scope, list) else []

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None


@dataclass(slots=True)
class AuthenticationFailure:
    """A 401/403 with the challenge headers the API must send."""

    status: int
    error: str | None
    description: str | None
    headers: dict[str, str]


def _quoted(value: str | None) -> str:
    """A safe quoted-string body (RFC 9110 §5.6.4): printable ASCII without '"' and '\\'."""
    return "".join(ch if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\' else "?" for ch in value or "")


class _NonceProtector:
    """Stateless DPoP nonces for the API (AES-GCM over the issue time)."""

    def __init__(self, secret: bytes | None) -> None:
        self.cipher = AESGCM(secret or AESGCM.generate_key(bit_length=256))

    async def protect(self, plaintext: bytes) -> str:
        nonce = secrets.token_bytes(12)
        return b64url_encode(nonce + self.cipher.encrypt(nonce, plaintext, b"dpop-nonce"))

    async def unprotect(self, protected: str) -> bytes:
        try:
            raw = b64url_decode(protected)
            return self.cipher.decrypt(raw[:12], raw[12:], b"dpop-nonce")
        except (ValueError, InvalidTag) as exc:
            raise DataProtectionError("bad nonce") from exc


def _certificate_matches(cnf: object, certificate: bytes | None) -> bool:
    """RFC 8705 §3.1: ``cnf.x5t#S256`` is the base64url SHA-256 of the DER certificate (``True`` when unbound).
    Kept here rather than importing ``crypto.certificates``, so that this package stays small to import."""
    expected = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if expected is None:
        return True
    return certificate is not None and b64url_encode(hashlib.sha256(certificate).digest()) == expected


class AccessTokenValidator:
    """Validates the token (and DPoP proof) of an API request; subclass and override ``validate_token`` or
    ``validate_jwt`` to change how a token is checked."""

    def __init__(
        self,
        options: ResourceServerOptions,
        jwks: JwksCache | None = None,
        replay_cache: ReplayCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = options
        self.jwks = jwks or JwksCache(options.authority)
        self.clock = clock or SystemClock()
        self.dpop = DefaultDPoPProofValidator(
            DPoPOptions(proof_token_validity_duration=options.dpop_proof_validity),
            _NonceProtector(options.nonce_secret),
            replay_cache or InMemoryReplayCache(),
            self.clock,
        )
        self.introspection: TokenIntrospection | None = None
        if options.introspection_secret is not None:
            from identityserver.resource_server.introspection import TokenIntrospection  # only APIs that use it

            client_id = options.introspection_client_id or options.audience
            if client_id is None:
                raise ValueError("introspection needs introspection_client_id or audience (the API resource name)")
            self.introspection = TokenIntrospection(
                self.jwks,
                client_id,
                options.introspection_secret,
                options.audience,
                self.clock,
                options.introspection_cache_duration,
            )

    def _challenge(
        self, status: int, error: str | None, description: str | None, dpop: bool, nonce: str | None = None
    ) -> AuthenticationFailure:
        params = f'error="{_quoted(error)}", error_description="{_quoted(description)}"' if error else ""
        algs = f'algs="{" ".join(DPOP_SIGNING_ALGORITHMS)}"'
        dpop_challenge = f"DPoP {params + ', ' if params else ''}{algs}"
        bearer_challenge = f'Bearer realm="api"{", " + params if params else ""}'
        if dpop:
            challenge = dpop_challenge + (", Bearer" if self.options.accept_bearer else "")
        else:
            challenge = bearer_challenge + f", DPoP {algs}"
        headers = {"WWW-Authenticate": challenge}
        if nonce:
            headers["DPoP-Nonce"] = nonce
        return AuthenticationFailure(status, error, description, headers)

    async def validate(
        self,
        authorization: list[str],
        dpop_proofs: list[str],
        method: str,
        url: str,
        client_certificate: bytes | None = None,
    ) -> ValidatedAccessToken | AuthenticationFailure:
        """Validate the request's token (and proof). ``url`` is the public URL of the request;
        ``client_certificate`` the DER certificate of its mutual-TLS connection, for certificate-bound tokens."""
        if len(authorization) != 1:
            return self._challenge(
                401 if not authorization else 400,
                None if not authorization else "invalid_request",
                None if not authorization else "one Authorization header is required",
                False,
            )
        scheme, _, token = authorization[0].strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if scheme not in ("bearer", "dpop") or not token:
            return self._challenge(401, "invalid_request", "unsupported authorization scheme", False)
        is_dpop = scheme == "dpop"
        claims = await self.validate_token(token)
        if isinstance(claims, str):
            return self._challenge(401, "invalid_token", claims, is_dpop)
        cnf = claims.get("cnf")
        if not _certificate_matches(cnf, client_certificate):
            # RFC 8705 §3: the request must come over mutual TLS with the certificate the token is bound to
            return self._challenge(401, "invalid_token", "the token is bound to another client certificate", is_dpop)
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not is_dpop:
            if jkt is not None or not self.options.accept_bearer:
                return self._challenge(401, "invalid_token", "this token must be used with DPoP", False)
            return self._authorized(ValidatedAccessToken(claims, "Bearer"))
        if not isinstance(jkt, str):
            return self._challenge(401, "invalid_token", "the token is not bound to a DPoP key", True)
        if len(dpop_proofs) != 1:
            return self._challenge(
                401 if not dpop_proofs else 400, "invalid_dpop_proof", "exactly one DPoP proof is required", True
            )
        context = DPoPProofValidationContext(
            dpop_proofs[0].strip(), method, url, token, self.options.dpop_validation_mode, self.options.dpop_clock_skew
        )
        result = await self.dpop.validate(context)
        if result.is_error:
            return self._challenge(401, result.error, result.error_description, True, result.server_issued_nonce)
        if result.jkt != jkt:
            return self._challenge(401, "invalid_token", "the proof key does not match the token", True)
        return self._authorized(ValidatedAccessToken(claims, "DPoP", jkt))

    def _authorized(self, token: ValidatedAccessToken) -> ValidatedAccessToken | AuthenticationFailure:
        missing = [s for s in self.options.required_scopes if s not in token.scopes]
        if missing:
            return self._challenge(
                403, "insufficient_scope", f"the token lacks {' '.join(missing)}", token.scheme == "DPoP"
            )
        return token

    async def validate_token(self, token: str) -> dict[str, Any] | str:
        """The claims of a valid access token, or the reason it is not one: a JWT is checked here, any other
        token (a reference token) at the introspection endpoint when ``introspection_secret`` is set."""
        if self.introspection is not None and token.count(".") != 2:
            return await self.introspection.validate(token)
        return await self.validate_jwt(token)

    async def validate_jwt(self, token: str) -> dict[str, Any] | str:
        """The claims of a valid JWT access token, or the reason it is not one."""
        try:
            jws = decode_jws(token)
        except JwtError:
            return "malformed token"
        if str(jws.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            return "not an access token (typ)"  # RFC 9068 §4
        if jws.alg not in SUPPORTED_SIGNING_ALGORITHMS:
            return "unsupported algorithm"
        kid = jws.header.get("kid")
        found = await self.jwks.get_key(kid) if isinstance(kid, str) else None
        if found is None:
            return "unknown signing key"
        alg, key = found
        if (alg and alg != jws.alg) or not verify_signature(jws.alg, key, jws.signing_input, jws.signature):
            return "invalid signature"
        claims = jws.payload
        if claims.get("iss") != self.jwks.issuer:
            return "wrong issuer"
        if self.options.audience is not None:
            audiences = audience_values(claims.get("aud"))
            if audiences is None or self.options.audience not in audiences:
                return "wrong audience"
        now = self.clock.timestamp()
        exp = numeric_date(claims.get("exp"))
        if exp is None or exp + self.options.clock_skew < now:
            return "token expired"
        nbf = numeric_date(claims.get("nbf")) if "nbf" in claims else None
        if nbf is not None and nbf - self.options.clock_skew > now:
            return "token not yet valid"
        return claims
