"""Software statements (RFC 7591 §2.3, §3.1.1): a JWT about the client software, signed by an issuer whose keys the
configuration trusts (``software_statement_issuers``). A verified statement's claims take precedence over the
same metadata sent in the clear; a statement that does not verify is refused, never ignored."""

from __future__ import annotations

import json
from typing import Any

from identityserver.clock import Clock
from identityserver.crypto.jwk import JwkError, PublicKey, has_private_members, load_public_jwk
from identityserver.crypto.jwt import JwtError, decode_jws, numeric_date, verify_signature
from identityserver.options import DynamicClientRegistrationOptions

INVALID_SOFTWARE_STATEMENT = "invalid_software_statement"
UNAPPROVED_SOFTWARE_STATEMENT = "unapproved_software_statement"
#: JWT claims about the statement itself, not client metadata.
STATEMENT_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "nbf", "jti")
CLOCK_SKEW = 60


class SoftwareStatementError(ValueError):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def parse_issuer_keys(jwks: str) -> list[tuple[str | None, PublicKey]]:
    """The public keys of a JWKS document (``kid`` and key); raises ``ValueError`` with the problem."""
    try:
        document = json.loads(jwks)
    except ValueError as exc:
        raise ValueError("must be a JWKS JSON document") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('must be a JWKS JSON document with a non-empty "keys" array')
    loaded: list[tuple[str | None, PublicKey]] = []
    for jwk in keys:
        if not isinstance(jwk, dict) or has_private_members(jwk):
            raise ValueError("must hold public keys only")
        try:
            loaded.append((jwk.get("kid") if isinstance(jwk.get("kid"), str) else None, load_public_jwk(jwk)))
        except JwkError as exc:
            raise ValueError(f"holds an unusable key: {exc}") from exc
    return loaded


def issuers_problem(options: DynamicClientRegistrationOptions) -> tuple[str, str] | None:
    """The option and problem of the first unusable trusted issuer, or ``None``."""
    for issuer, jwks in options.software_statement_issuers.items():
        try:
            parse_issuer_keys(jwks)
        except ValueError as exc:
            return f"software_statement_issuers.{issuer}", str(exc)
    if options.require_software_statement and not options.software_statement_issuers:
        return "require_software_statement", "needs at least one entry in software_statement_issuers"
    return None


class SoftwareStatementValidator:
    """Verifies a statement against the trusted issuers' keys and returns its metadata claims."""

    def __init__(self, options: DynamicClientRegistrationOptions, clock: Clock) -> None:
        self.clock = clock
        self.required = options.require_software_statement
        self.issuers = {iss: parse_issuer_keys(jwks) for iss, jwks in options.software_statement_issuers.items()}

    def verify(self, statement: object) -> dict[str, Any]:
        """The statement's metadata claims; raises ``SoftwareStatementError`` with the RFC 7591 §3.2.2 error."""
        if not isinstance(statement, str):
            raise SoftwareStatementError(INVALID_SOFTWARE_STATEMENT, "software_statement must be a signed JWT")
        try:
            decoded = decode_jws(statement)
        except JwtError as exc:
            raise SoftwareStatementError(INVALID_SOFTWARE_STATEMENT, f"software_statement: {exc}") from exc
        issuer = decoded.payload.get("iss")
        keys = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if keys is None:
            raise SoftwareStatementError(
                UNAPPROVED_SOFTWARE_STATEMENT, "the software statement's issuer is not trusted by this server"
            )
        kid = decoded.header.get("kid")
        candidates = [key for key_id, key in keys if kid is None or key_id is None or key_id == kid]
        if not any(verify_signature(decoded.alg, key, decoded.signing_input, decoded.signature) for key in candidates):
            raise SoftwareStatementError(INVALID_SOFTWARE_STATEMENT, "the software statement's signature is invalid")
        now = self.clock.timestamp()
        expires, issued = numeric_date(decoded.payload.get("exp")), numeric_date(decoded.payload.get("iat"))
        if ("exp" in decoded.payload and expires is None) or (expires is not None and expires < now - CLOCK_SKEW):
            raise SoftwareStatementError(INVALID_SOFTWARE_STATEMENT, "the software statement has expired")
        if issued is not None and issued > now + CLOCK_SKEW:
            raise SoftwareStatementError(INVALID_SOFTWARE_STATEMENT, "the software statement is issued in the future")
        return {name: value for name, value in decoded.payload.items() if name not in STATEMENT_CLAIMS}
