"""DPoP proof validation (RFC 9449 §4.3; Duende ``DefaultDPoPProofValidator``): an ordered list of overridable
steps that stops at the first error. The replay check runs last, so only otherwise valid proofs are recorded;
it is an atomic insert, so one proof cannot pass twice even in parallel. Freshness is always checked: a
client whose validation mode has no flag (what migrated 6.2 clients get) is checked by ``iat``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from identityserver.clock import Clock
from identityserver.constants import JwtTypes
from identityserver.crypto.hashing import access_token_hash
from identityserver.crypto.jwk import JwkError, PublicKey, jwk_thumbprint, load_public_jwk
from identityserver.crypto.jwt import DecodedJws, JwtError, decode_jws, verify_signature
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.client import Client, DPoPTokenExpirationValidationMode
from identityserver.options import DPoPOptions
from identityserver.stores.protocols import ReplayCache

#: RFC 9449 §5.1 ``dpop_signing_alg_values_supported``: asymmetric algorithms only.
DPOP_SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
INVALID_DPOP_PROOF = "invalid_dpop_proof"
USE_DPOP_NONCE = "use_dpop_nonce"
REPLAY_PURPOSE = "DPoPReplay-jti"
NONCE_CLOCK_LEEWAY: Final = 2
"""Seconds a nonce's issue time may lie ahead of this process's clock beyond ``server_clock_skew``: another node
issued it, and nodes' clocks differ by up to one and a half seconds (each is within ``[options.clock]
tolerance``, at most 0.5 s, of the database server's, plus half a round trip of at most as much), while a nonce's
time is whole seconds."""


@dataclass(slots=True)
class DPoPProofValidationContext:
    proof_token: str
    method: str
    url: str
    """The URL of the request the proof must be bound to (built from the issuer, never from Host)."""
    access_token: str | None = None
    validation_mode: DPoPTokenExpirationValidationMode = DPoPTokenExpirationValidationMode.IAT
    clock_skew: int = 300

    @classmethod
    def for_client(
        cls, client: Client, proof_token: str, method: str, url: str, access_token: str | None = None
    ) -> DPoPProofValidationContext:
        """The client's ``dpop_validation_mode`` and ``dpop_clock_skew`` apply."""
        return cls(proof_token, method, url, access_token, client.dpop_validation_mode, client.dpop_clock_skew)


@dataclass(slots=True)
class DPoPProofValidationResult:
    is_error: bool = False
    error: str | None = None
    error_description: str | None = None
    json_web_key: dict[str, Any] | None = None
    public_key: PublicKey | None = None  # json_web_key, loaded once by validate_header
    jkt: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    server_issued_nonce: str | None = None

    @property
    def confirmation(self) -> str | None:
        return json.dumps({"jkt": self.jkt}, separators=(",", ":")) if self.jkt else None


def normalize_url(url: str) -> str | None:
    """RFC 9449 §4.3 (9): scheme, host, port and path compared after RFC 3986 §6.2.2-6.2.3 normalisation; query
    and fragment ignored."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    default = {"http": 80, "https": 443}[scheme]
    host_port = host if port in (None, default) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_port = f"[{host}]" if port in (None, default) else f"[{host}]:{port}"
    return f"{scheme}://{host_port}{parts.path or '/'}"


class DefaultDPoPProofValidator:
    """Validates DPoP proofs (Duende ``DefaultDPoPProofValidator``; RFC 9449 §4.3): ``validate`` runs header, signature,
    payload, freshness and replay checks, each a public method a subclass may override."""

    def __init__(
        self,
        options: DPoPOptions,
        nonce_protector: DataProtector,
        replay_cache: ReplayCache,
        clock: Clock,
        max_length: int = 4000,
    ) -> None:
        self.options = options
        self.nonces = nonce_protector
        self.replay_cache = replay_cache
        self.clock = clock
        self.max_length = max_length

    async def validate(self, context: DPoPProofValidationContext) -> DPoPProofValidationResult:
        """Run every check on the proof in order, stopping at the first failure; the result carries the key's thumbprint
        (``jkt``) or the error, with a fresh nonce when one is required."""
        result = DPoPProofValidationResult()
        if not context.proof_token or len(context.proof_token) > self.max_length:
            return self.fail(result, "the DPoP proof is missing or too long")
        try:
            jws = decode_jws(context.proof_token, max_length=self.max_length)
        except JwtError:
            return self.fail(result, "the DPoP proof is malformed")
        for step in (
            self.validate_header,
            self.validate_signature,
            self.validate_payload,
            self.validate_freshness,
            self.validate_replay,
        ):
            await step(context, jws, result)
            if result.is_error:
                break
        if result.is_error and self.uses_nonce(context) and result.server_issued_nonce is None:
            result.server_issued_nonce = await self.create_nonce()
        return result

    @staticmethod
    def fail(
        result: DPoPProofValidationResult, description: str, error: str = INVALID_DPOP_PROOF
    ) -> DPoPProofValidationResult:
        """Mark ``result`` as failed with ``error`` (``invalid_dpop_proof`` by default) and return it."""
        result.is_error, result.error, result.error_description = True, error, description
        return result

    async def validate_header(
        self, context: DPoPProofValidationContext, jws: DecodedJws, result: DPoPProofValidationResult
    ) -> None:
        """RFC 9449 §4.3 (4)-(7): typ dpop+jwt, an asymmetric alg, a public jwk."""
        if jws.header.get("typ") != JwtTypes.DPOP_PROOF:
            self.fail(result, "typ must be dpop+jwt")
            return
        if jws.alg not in DPOP_SIGNING_ALGORITHMS:
            self.fail(result, "alg is not an allowed asymmetric algorithm")
            return
        jwk = jws.header.get("jwk")
        if not isinstance(jwk, dict):
            self.fail(result, "the jwk header is missing")
            return
        try:
            result.public_key = load_public_jwk(jwk)
            result.jkt = jwk_thumbprint(jwk)
        except JwkError as exc:
            self.fail(result, f"the jwk header is not an acceptable public key: {exc}")
            return
        result.json_web_key = jwk

    async def validate_signature(
        self, context: DPoPProofValidationContext, jws: DecodedJws, result: DPoPProofValidationResult
    ) -> None:
        """The proof must verify with the public key in its own ``jwk`` header (RFC 9449 §4.3 (7))."""
        key = result.public_key
        if key is None:
            if result.json_web_key is None:
                raise ValueError("validate_signature runs after validate_header, which sets the proof's jwk")
            key = load_public_jwk(result.json_web_key)
        if not verify_signature(jws.alg, key, jws.signing_input, jws.signature):
            self.fail(result, "the DPoP proof signature is invalid")

    async def validate_payload(
        self, context: DPoPProofValidationContext, jws: DecodedJws, result: DPoPProofValidationResult
    ) -> None:
        """RFC 9449 §4.3 (8)-(12): jti, htm, htu, iat and, with an access token, ath."""
        payload = jws.payload
        result.payload = payload
        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 512:
            self.fail(result, "jti is missing")
            return
        if payload.get("htm") != context.method:
            self.fail(result, "htm does not match the request method")
            return
        htu = payload.get("htu")
        normalized_htu = normalize_url(htu) if isinstance(htu, str) else None
        if normalized_htu is None or normalized_htu != normalize_url(context.url):
            self.fail(result, "htu does not match the request URL")
            return
        iat = payload.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, int) or abs(iat) > 2**40:
            self.fail(result, "iat is missing or not an integer")
            return
        if context.access_token is not None:
            ath = payload.get("ath")
            if not isinstance(ath, str) or ath != access_token_hash(context.access_token):
                self.fail(result, "ath does not match the access token")
                return
        nonce = payload.get("nonce")
        if nonce is not None and not isinstance(nonce, str):
            self.fail(result, "nonce must be a string")

    def uses_nonce(self, context: DPoPProofValidationContext) -> bool:
        """Whether the client's ``dpop_validation_mode`` asks for server-issued nonces."""
        return bool(context.validation_mode & DPoPTokenExpirationValidationMode.NONCE)

    def uses_iat(self, context: DPoPProofValidationContext) -> bool:
        """Whether ``iat`` is checked: with the ``iat`` flag, and also when no flag is set (RFC 9449 §4.3 (11))."""
        mode = context.validation_mode
        # A mode without flags (Duende's "Custom", what migrated 6.2 rows hold) still gets the iat check:
        # RFC 9449 §4.3 (11) requires a freshness check.
        return bool(mode & DPoPTokenExpirationValidationMode.IAT) or not (
            mode & DPoPTokenExpirationValidationMode.NONCE
        )

    async def validate_freshness(
        self, context: DPoPProofValidationContext, jws: DecodedJws, result: DPoPProofValidationResult
    ) -> None:
        """The proof must be recent by ``iat`` and/or carry a fresh nonce of ours, as the validation mode says (RFC 9449
        §4.3 (10)-(11), §8)."""
        if self.uses_iat(context):
            await self.validate_iat(context, result)
            if result.is_error:
                return
        if self.uses_nonce(context):
            await self.validate_nonce(context, result)

    async def validate_iat(self, context: DPoPProofValidationContext, result: DPoPProofValidationResult) -> None:
        """``iat`` must lie within the validity window and the clock skew."""
        iat = result.payload["iat"]
        if not self.is_fresh(iat, context.clock_skew):
            self.fail(result, "iat is outside the acceptable window")

    async def validate_nonce(self, context: DPoPProofValidationContext, result: DPoPProofValidationResult) -> None:
        """RFC 9449 §8: missing -> use_dpop_nonce; unreadable or stale -> invalid_dpop_proof; both with a new one."""
        nonce = result.payload.get("nonce")
        if not nonce:
            self.fail(result, "a server-provided nonce is required", USE_DPOP_NONCE)
            result.server_issued_nonce = await self.create_nonce()
            return
        issued = await self.read_nonce(nonce)
        if issued is None or not self.is_fresh(issued, self.options.server_clock_skew, NONCE_CLOCK_LEEWAY):
            self.fail(result, "the nonce is invalid or expired")
            result.server_issued_nonce = await self.create_nonce()

    def is_fresh(self, issued_at: int, skew: int, ahead: int = 0) -> bool:
        """Whether ``issued_at`` lies in ``[now - proof_token_validity_duration - skew, now + skew + ahead]``."""
        now = self.clock.timestamp()
        return now - self.options.proof_token_validity_duration - skew <= issued_at <= now + skew + ahead

    async def validate_replay(
        self, context: DPoPProofValidationContext, jws: DecodedJws, result: DPoPProofValidationResult
    ) -> None:
        """The proof's ``jti`` must not have been seen within its validity window (RFC 9449 §11.1); recorded atomically
        in the replay cache."""
        skew = max(
            context.clock_skew if self.uses_iat(context) else 0,
            self.options.server_clock_skew if self.uses_nonce(context) else 0,
        )
        lifetime = self.options.proof_token_validity_duration + 2 * skew
        if not await self.replay_cache.add(REPLAY_PURPOSE, str(result.payload["jti"]), lifetime):
            self.fail(result, "the DPoP proof was replayed")

    async def create_nonce(self) -> str:
        """A new nonce: the current time, sealed so that any server process can read it and nobody can forge it."""
        return await self.nonces.protect(str(int(self.clock.timestamp())).encode("ascii"))

    async def read_nonce(self, nonce: str) -> int | None:
        """The issue time sealed in a nonce of ours, or ``None`` when it is not one."""
        if len(nonce) > 512:
            return None
        try:
            value = (await self.nonces.unprotect(nonce)).decode("ascii")
        except (DataProtectionError, UnicodeDecodeError):
            return None
        return int(value) if value.isascii() and value.isdigit() else None
