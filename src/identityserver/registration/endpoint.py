"""The registration endpoint (RFC 7591 §3; Duende ``DynamicClientRegistrationEndpoint``): JSON in, 201 with the
client's credentials and registered metadata out. With initial access tokens configured, callers must present
one as a Bearer token (RFC 7591 §3) and get its policy; without, registration is open, under the default policy
and rate-limited per address. ``GET``/``PUT``/``DELETE`` with ``?client_id=`` go to the client configuration
endpoint (RFC 7592), whose URI and token the registration response carries."""

from __future__ import annotations

import secrets
from typing import Any

from identityserver.clock import Clock
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.http.request import EndpointRequest
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.registration.access_tokens import RegistrationAccessTokens
from identityserver.registration.management import ClientConfigurationEndpoint
from identityserver.registration.messages import (
    bearer_token,
    invalid_token,
    issue_client_secret,
    metadata_error,
    parse_metadata,
    registration_client_uri,
)
from identityserver.registration.policy import RegistrationPolicies, RegistrationPolicy
from identityserver.registration.rate_limit import OpenRegistrationRateLimiter
from identityserver.registration.validator import DynamicClientRegistrationValidator, RegistrationError
from identityserver.stores.protocols import ClientConfigurationStore

MANAGEMENT_METHODS = ("GET", "PUT", "DELETE")


class DynamicClientRegistrationEndpoint:
    """``/connect/register`` (RFC 7591 §3): validates client metadata and adds the client; override to change who may
    register."""

    def __init__(
        self,
        validator: DynamicClientRegistrationValidator,
        store: ClientConfigurationStore,
        options: DynamicClientRegistrationOptions,
        clock: Clock,
        tokens: RegistrationAccessTokens | None = None,
        management: ClientConfigurationEndpoint | None = None,
        rate_limiter: OpenRegistrationRateLimiter | None = None,
    ) -> None:
        self.validator = validator
        self.store = store
        self.options = options
        self.clock = clock
        self.tokens = tokens
        self.management = management
        self.rate_limiter = rate_limiter
        self.policies = RegistrationPolicies(options)

    def policy(self, request: EndpointRequest) -> RegistrationPolicy | None:
        """The policy of the initial access token the request carries, the default policy when registration is
        open, or ``None`` when a token is required and none of the configured ones was presented (RFC 7591 §3)."""
        if not self.policies.token_required:
            return RegistrationPolicy()
        token = bearer_token(request)
        return self.policies.for_token(token) if token is not None else None

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """A JSON POST: the registered client's metadata (201), or the RFC 7591 §3.2.2 error."""
        if request.method in MANAGEMENT_METHODS and self.management is not None:
            return await self.management.process(request)
        if request.method != "POST":
            return StatusCodeResult(405, {"Allow": "POST, GET, PUT, DELETE" if self.management else "POST"})
        policy = self.policy(request)
        if policy is None:
            return invalid_token(request, "an initial access token is required")
        if request.content_type != "application/json":
            return StatusCodeResult(415)
        limiter = None if self.policies.token_required else self.rate_limiter
        if limiter is not None and not await limiter.allow(request.remote_ip):
            return JsonResult(
                {
                    "error": "temporarily_unavailable",
                    "error_description": "too many registrations from this address; try again later",
                },
                status=429,
                headers={"Retry-After": str(limiter.retry_after())},
            )
        try:
            validated = await self.validator.validate(parse_metadata(request.body), policy)
        except RegistrationError as exc:
            return metadata_error(exc)
        client = validated.client
        client.client_id = secrets.token_urlsafe(32)
        response: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": int(self.clock.timestamp())}
        if validated.needs_secret:
            response.update(issue_client_secret(client, self.options.secret_lifetime, self.clock))
        await self.store.add(client)
        if self.tokens is not None:  # RFC 7592 §3
            response["registration_access_token"] = await self.tokens.issue(client.client_id)
            response["registration_client_uri"] = registration_client_uri(request, client.client_id)
        response.update(validated.metadata)
        return JsonResult(response, status=201)
