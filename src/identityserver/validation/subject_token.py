"""Subject and actor tokens of a token exchange (RFC 8693 §2.1): this server's access tokens (JWT or reference) and
ID tokens, checked by the token validators every endpoint uses, or another issuer's tokens, checked by the
``SubjectTokenValidator`` registered for that issuer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from identityserver.clock import Clock
from identityserver.constants import TokenTypeIdentifiers
from identityserver.crypto.jwt import JwtError, decode_jws, numeric_date
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.token_validator import TokenValidator

#: The token types this server validates itself (RFC 8693 §3); refresh tokens and SAML assertions are refused.
LOCAL_TOKEN_TYPES = (TokenTypeIdentifiers.ACCESS_TOKEN, TokenTypeIdentifiers.ID_TOKEN, TokenTypeIdentifiers.JWT)


@dataclass(slots=True)
class SubjectTokenValidationResult:
    """What a ``SubjectTokenValidator`` found: the token's claims (``sub`` required), or why it is refused."""

    claims: dict[str, Any] = field(default_factory=dict)
    error_description: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error_description is not None


class SubjectTokenValidator(Protocol):
    """Validates tokens of another issuer presented as ``subject_token`` or ``actor_token`` (signature, lifetime,
    revocation: whatever that issuer requires). Registered with ``builder.add_item(SubjectTokenValidator, ...)``; a
    client presents them only when its policy lists the issuer in ``subject_token_issuers``."""

    issuer: str
    """The ``iss`` of the tokens it validates."""

    async def validate(self, token: str, token_type: str) -> SubjectTokenValidationResult:
        """Validate a ``token_type`` token of ``issuer`` (RFC 8693 §2.1); the result says why when it is not valid."""


@dataclass(slots=True)
class ValidatedSubjectToken:
    """A subject or actor token that passed validation."""

    token_type: str
    issuer: str
    claims: dict[str, Any]
    scopes: list[str] | None = None
    """The scopes it was granted (access tokens of this server); ``None`` when it carries none."""
    is_local: bool = True
    is_identity_token: bool = False
    """An ID token of this server (OIDC Core §2): its ``aud`` is the client it was issued to."""

    @property
    def subject_id(self) -> str:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else ""

    @property
    def confirmation(self) -> dict[str, Any] | None:
        cnf = self.claims.get("cnf")
        return cnf if isinstance(cnf, dict) else None


@dataclass(slots=True)
class SubjectTokenError:
    description: str


def unverified_issuer(token: str, max_length: int) -> str | None:
    """The ``iss`` a JWT claims (unverified: it only chooses the validator); ``None`` for opaque tokens."""
    if token.count(".") != 2:
        return None
    try:
        issuer = decode_jws(token, max_length=max_length).payload.get("iss")
    except JwtError:
        return None
    return issuer if isinstance(issuer, str) else None


class SubjectTokenValidators:
    """Chooses and runs the validator of a presented token: this server's for its own tokens, else the registered
    validator of the issuer the token names, when the client's policy allows that issuer."""

    def __init__(
        self,
        access_tokens: TokenValidator,
        identity_tokens: IdentityTokenValidator,
        foreign: Sequence[SubjectTokenValidator],
        clock: Clock,
        max_jwt_length: int,
    ) -> None:
        self.access_tokens = access_tokens
        self.identity_tokens = identity_tokens
        self.foreign = {v.issuer: v for v in foreign}
        self.clock = clock
        self.max_jwt_length = max_jwt_length

    async def validate(
        self, token: str, token_type: str, issuer: str, trusted_issuers: Sequence[str], what: str
    ) -> ValidatedSubjectToken | SubjectTokenError:
        """The validated token, or why it is refused (``what`` names the parameter in the description)."""
        claimed = unverified_issuer(token, self.max_jwt_length)
        if claimed is not None and claimed != issuer:
            return await self.validate_foreign(token, token_type, claimed, trusted_issuers, what)
        if token_type not in LOCAL_TOKEN_TYPES:
            return SubjectTokenError(f"{what}_type {token_type!r} is not supported")
        if token_type == TokenTypeIdentifiers.ID_TOKEN:
            return await self.validate_identity_token(token, issuer, what)
        found = await self.access_tokens.validate_access_token(token, issuer)
        if found.is_error:
            if token_type == TokenTypeIdentifiers.JWT and claimed is not None:
                # a JWT of ours that is not an access token may still be an ID token
                identity = await self.validate_identity_token(token, issuer, what)
                if isinstance(identity, ValidatedSubjectToken):
                    identity.token_type = token_type
                return identity
            return SubjectTokenError(f"the {what} is not a valid access token: {found.error_description}")
        return ValidatedSubjectToken(token_type, issuer, found.claims, found.scopes)

    async def validate_identity_token(
        self, token: str, issuer: str, what: str
    ) -> ValidatedSubjectToken | SubjectTokenError:
        """An unexpired ID token of this server (OIDC Core §2); the grant checks that its audience presents it."""
        claims = await self.identity_tokens.validate(token, issuer)
        if claims is None or "scope" in claims:
            return SubjectTokenError(f"the {what} is not a valid ID token of this server")
        exp = numeric_date(claims.get("exp"))
        if exp is None or exp <= self.clock.timestamp():
            return SubjectTokenError(f"the {what} is expired")
        return ValidatedSubjectToken(TokenTypeIdentifiers.ID_TOKEN, issuer, claims, is_identity_token=True)

    async def validate_foreign(
        self, token: str, token_type: str, issuer: str, trusted_issuers: Sequence[str], what: str
    ) -> ValidatedSubjectToken | SubjectTokenError:
        """Another issuer's token: the client must trust the issuer and a validator must be registered for it."""
        validator = self.foreign.get(issuer)
        if issuer not in trusted_issuers or validator is None:
            return SubjectTokenError(f"{what}s of issuer {issuer!r} are not accepted from this client")
        result = await validator.validate(token, token_type)
        if result.is_error:
            return SubjectTokenError(f"the {what} is invalid: {result.error_description}")
        claims = dict(result.claims)
        if claims.setdefault("iss", issuer) != issuer:
            return SubjectTokenError(f"the {what} was issued by another issuer")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            return SubjectTokenError(f"the {what} has no subject")
        exp = numeric_date(claims.get("exp")) if "exp" in claims else None
        if exp is not None and exp <= self.clock.timestamp():
            return SubjectTokenError(f"the {what} is expired")
        return ValidatedSubjectToken(token_type, issuer, claims, None, is_local=False)
