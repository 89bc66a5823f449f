"""What the registration and client configuration endpoints share: the metadata document, the bearer credential,
error results and generated client secrets (RFC 7591 §3, RFC 7592 §2, RFC 6750 §3)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from identityserver._utils.json_depth import MAX_JSON_DEPTH, nests_too_deeply
from identityserver.clock import Clock
from identityserver.constants import ProtocolRoutePaths
from identityserver.crypto.hashing import sha256_base64
from identityserver.endpoints.results import JsonResult
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client, Secret
from identityserver.registration.validator import INVALID_CLIENT_METADATA, RegistrationError


def parse_metadata(body: bytes) -> dict[str, Any]:
    """The JSON object of a registration or update request; ``RegistrationError`` otherwise."""

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise RegistrationError(INVALID_CLIENT_METADATA, "malformed metadata document") from exc
    if not isinstance(value, dict):
        raise RegistrationError(INVALID_CLIENT_METADATA, "the metadata document must be a JSON object")
    if nests_too_deeply(body, value):
        raise RegistrationError(
            INVALID_CLIENT_METADATA, f"the metadata document nests JSON more than {MAX_JSON_DEPTH} levels deep"
        )
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates are valid JSON, not Unicode
    except UnicodeEncodeError as exc:  # no RecursionError: the value nests at most MAX_JSON_DEPTH levels
        raise RegistrationError(INVALID_CLIENT_METADATA, "the metadata contains invalid characters") from exc
    return value


def bearer_token(request: EndpointRequest) -> str | None:
    """The ``Authorization: Bearer`` credential (RFC 6750 §2.1), or ``None``."""
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def invalid_token(request: EndpointRequest, description: str) -> JsonResult:
    """401 (RFC 6750 §3): no error code when no credential was sent, ``invalid_token`` when a wrong one was."""
    if bearer_token(request) is None:
        return JsonResult(
            {"error": "invalid_token", "error_description": description},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return JsonResult(
        {"error": "invalid_token", "error_description": description},
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def metadata_error(exc: RegistrationError) -> JsonResult:
    return JsonResult({"error": exc.error, "error_description": exc.description}, status=400)


def registration_client_uri(request: EndpointRequest, client_id: str) -> str:
    """The client configuration endpoint of one client (RFC 7592 §3): the registration path with its id."""
    return f"{request.url_for(ProtocolRoutePaths.REGISTRATION)}?client_id={quote(client_id, safe='')}"


def issue_client_secret(client: Client, lifetime: int | None, clock: Clock) -> dict[str, Any]:
    """Add a generated shared secret (stored hashed) and return the response members that carry it."""
    secret = secrets.token_urlsafe(32)
    expiration = clock.utc_now().timestamp() + lifetime if lifetime else None
    client.client_secrets.append(
        Secret(
            sha256_base64(secret),
            expiration=datetime.fromtimestamp(expiration, UTC) if expiration else None,
            description="dynamic registration",
        )
    )
    return {"client_secret": secret, "client_secret_expires_at": int(expiration) if expiration else 0}
