"""Find client credentials in a request (Duende ``BasicAuthenticationSecretParser``, ``PostBodySecretParser``,
``JwtBearerClientAssertionSecretParser``). RFC 6749 §2.3.1, RFC 7523 §2.2."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from identityserver.constants import CLIENT_ASSERTION_TYPE_JWT_BEARER, TokenEndpointAuthMethods, TokenErrors
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.options import InputLengthRestrictions
from identityserver.validation.results import ParsedSecret


@dataclass(slots=True)
class SecretParseResult:
    secret: ParsedSecret | None = None
    error: str | None = None
    error_code: str = TokenErrors.INVALID_CLIENT


def parse_basic_authorization(header: str | None, limits: InputLengthRestrictions) -> ParsedSecret | str | None:
    """Parse ``Authorization: Basic``; returns the secret, ``None`` if absent, or an error description."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return "malformed Basic authorization header"
    if ":" not in decoded:
        return "malformed Basic authorization header"
    raw_id, raw_secret = decoded.split(":", 1)
    # RFC 6749 §2.3.1: both values are form-urlencoded before being joined
    client_id = unquote_plus(raw_id) if "%" in raw_id or "+" in raw_id else raw_id
    secret = unquote_plus(raw_secret) if "%" in raw_secret or "+" in raw_secret else raw_secret
    if not client_id or len(client_id) > limits.client_id or len(secret) > limits.client_secret:
        return "invalid client credentials"
    # Many clients do not form-encode an id such as "urn:api1"; keep the other splits to try (see resolve_id)
    alternatives: list[tuple[str, str]] = []
    colon = decoded.find(":", len(raw_id) + 1)
    while colon != -1 and len(alternatives) < 8:
        alternatives.append((unquote_plus(decoded[:colon]), unquote_plus(decoded[colon + 1 :])))
        colon = decoded.find(":", colon + 1)
    return ParsedSecret(client_id, TokenEndpointAuthMethods.CLIENT_SECRET_BASIC, secret, True, alternatives)


async def resolve_id(secret: ParsedSecret, exists: Callable[[str], Awaitable[bool]]) -> None:
    """Pick the first split of the Basic credentials whose id names a known client or API."""
    if not secret.alternatives or await exists(secret.id):
        return
    for alt_id, alt_secret in secret.alternatives:
        if await exists(alt_id):
            secret.id, secret.credential = alt_id, alt_secret
            return


def parse_client_credentials(
    request: EndpointRequest, form: Parameters, limits: InputLengthRestrictions
) -> SecretParseResult:
    """Find exactly one authentication method; more than one is an error (RFC 6749 §2.3)."""
    basic = parse_basic_authorization(request.header("authorization"), limits)
    if isinstance(basic, str):
        return SecretParseResult(error=basic)
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")
    assertion = form.get("client_assertion")
    assertion_type = form.get("client_assertion_type")
    if body_id is not None and len(body_id) > limits.client_id:
        return SecretParseResult(error="client_id is too long")
    methods = sum(x is not None for x in (basic, body_secret, assertion))
    if methods > 1:
        return SecretParseResult(
            error="more than one client authentication method was used",
            error_code=TokenErrors.INVALID_REQUEST,
        )
    if basic is not None:
        if body_id is not None and body_id != basic.id:
            return SecretParseResult(
                error="client_id in the body does not match the authenticated client",
                error_code=TokenErrors.INVALID_REQUEST,
            )
        return SecretParseResult(basic)
    if assertion is not None or assertion_type is not None:
        if assertion_type != CLIENT_ASSERTION_TYPE_JWT_BEARER or not assertion:
            return SecretParseResult(error="unsupported client_assertion_type or empty client_assertion")
        if len(assertion) > limits.jwt:
            return SecretParseResult(error="client_assertion is too long")
        return SecretParseResult(ParsedSecret(body_id or "", TokenEndpointAuthMethods.PRIVATE_KEY_JWT, assertion))
    if not body_id:
        return SecretParseResult()
    if body_secret is not None:
        if len(body_secret) > limits.client_secret:
            return SecretParseResult(error="client_secret is too long")
        return SecretParseResult(ParsedSecret(body_id, TokenEndpointAuthMethods.CLIENT_SECRET_POST, body_secret))
    return SecretParseResult(ParsedSecret(body_id, TokenEndpointAuthMethods.NONE))
