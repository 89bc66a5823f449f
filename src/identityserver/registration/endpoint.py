"""The registration endpoint (RFC 7591 §3; Duende ``DynamicClientRegistrationEndpoint``): JSON in, 201 with the
client's credentials and registered metadata out. With ``initial_access_token`` configured, callers must
present it as a Bearer token (RFC 7591 §3); without it registration is open."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from identityserver.clock import Clock
from identityserver.crypto.hashing import constant_time_equals, sha256_base64
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Secret
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.registration.validator import (
    INVALID_CLIENT_METADATA,
    DynamicClientRegistrationValidator,
    RegistrationError,
)
from identityserver.stores.protocols import ClientConfigurationStore


def _parse(body: bytes) -> dict[str, Any]:
    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise RegistrationError(INVALID_CLIENT_METADATA, "malformed metadata document") from exc
    if not isinstance(value, dict):
        raise RegistrationError(INVALID_CLIENT_METADATA, "the metadata document must be a JSON object")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates are valid JSON, not Unicode
    except (UnicodeEncodeError, RecursionError) as exc:
        raise RegistrationError(INVALID_CLIENT_METADATA, "the metadata contains invalid characters") from exc
    return value


class DynamicClientRegistrationEndpoint:
    """``/connect/register`` (RFC 7591 §3): validates client metadata and adds the client; override to change who may
    register."""

    def __init__(
        self,
        validator: DynamicClientRegistrationValidator,
        store: ClientConfigurationStore,
        options: DynamicClientRegistrationOptions,
        clock: Clock,
    ) -> None:
        self.validator = validator
        self.store = store
        self.options = options
        self.clock = clock

    def authorized(self, request: EndpointRequest) -> bool:
        """Whether the request carries the configured initial access token (always, when none is configured; RFC 7591
        §3)."""
        expected = self.options.initial_access_token
        if not expected:
            return True
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and constant_time_equals(token.strip(), expected)

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """A JSON POST: the registered client's metadata (201), or the RFC 7591 §3.2.2 error."""
        if request.method != "POST":
            return StatusCodeResult(405, {"Allow": "POST"})
        if not self.authorized(request):
            return JsonResult(
                {"error": "invalid_token", "error_description": "an initial access token is required"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if request.content_type != "application/json":
            return StatusCodeResult(415)
        try:
            validated = await self.validator.validate(_parse(request.body))
        except RegistrationError as exc:
            return JsonResult({"error": exc.error, "error_description": exc.description}, status=400)
        client = validated.client
        client.client_id = secrets.token_urlsafe(32)
        now = int(self.clock.timestamp())
        response: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": now}
        if validated.needs_secret:
            secret = secrets.token_urlsafe(32)
            expiration = (
                self.clock.utc_now().timestamp() + self.options.secret_lifetime
                if self.options.secret_lifetime
                else None
            )
            client.client_secrets.append(
                Secret(
                    sha256_base64(secret),
                    expiration=datetime.fromtimestamp(expiration, UTC) if expiration else None,
                    description="dynamic registration",
                )
            )
            response["client_secret"] = secret
            response["client_secret_expires_at"] = int(expiration) if expiration else 0
        await self.store.add(client)
        response.update(validated.metadata)
        return JsonResult(response, status=201)
