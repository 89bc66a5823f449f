"""The client configuration endpoint (RFC 7592): ``GET``, ``PUT`` and ``DELETE`` on a client's
``registration_client_uri`` with its registration access token as Bearer credential. A missing or wrong token, or
another client's URI, is 401 with the same answer and the same store work whether or not the client exists."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from identityserver.clock import Clock
from identityserver.constants import SecretTypes
from identityserver.crypto.hashing import shared_secret_matches
from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.http.parameters import FormError
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.registration.access_tokens import RegistrationAccessTokens
from identityserver.registration.messages import (
    bearer_token,
    invalid_token,
    issue_client_secret,
    metadata_error,
    parse_metadata,
    registration_client_uri,
)
from identityserver.registration.metadata import client_metadata
from identityserver.registration.policy import RegistrationPolicies
from identityserver.registration.validator import (
    INVALID_CLIENT_METADATA,
    POLICY_PROPERTY,
    SOFTWARE_STATEMENT_PROPERTY,
    DynamicClientRegistrationValidator,
    RegistrationError,
)
from identityserver.services.backchannel_logout import DYNAMIC_REGISTRATION_PROPERTY
from identityserver.stores.protocols import ClientRegistrationStore, PersistedGrantStore

#: Extension member of an update request: replace the client secret (RFC 7592 §2.2 lets the server rotate it).
ROTATE_SECRET = "rotate_client_secret"
ALLOW = "GET, PUT, DELETE"
#: RFC 7592 §2.2: members the server issues, which an update request MUST NOT include.
SERVER_ISSUED = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)


@runtime_checkable
class ForgettingClientStore(Protocol):
    """A caching client store that can drop one client (``CachingClientStore``)."""

    def forget(self, client_id: str) -> None:
        """Drop the cached copy of one client at once (changed or removed through RFC 7592)."""


class ClientConfigurationEndpoint:
    """RFC 7592 §2: read, update and delete a dynamically registered client; override a method to change one."""

    def __init__(
        self,
        validator: DynamicClientRegistrationValidator,
        store: ClientRegistrationStore,
        tokens: RegistrationAccessTokens,
        grants: PersistedGrantStore,
        policies: RegistrationPolicies,
        options: DynamicClientRegistrationOptions,
        clock: Clock,
        cache: object | None = None,
    ) -> None:
        self.validator = validator
        self.store = store
        self.tokens = tokens
        self.grants = grants
        self.policies = policies
        self.options = options
        self.clock = clock
        self.cache = cache

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        token = bearer_token(request)
        try:
            client_id = request.query().get("client_id") or ""
        except FormError:
            client_id = ""  # an undecodable query names no client: the same 401 as any other
        if token is None or not await self.tokens.is_valid_for(token, client_id):
            return invalid_token(request, "a valid registration access token for this client is required")
        client = await self.store.find_client_by_id(client_id)
        if client is None or client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) != "true":
            await self.tokens.revoke(token)  # RFC 7592 §2.1: the client is gone, so is its token
            return invalid_token(request, "a valid registration access token for this client is required")
        if request.method == "GET":
            return JsonResult(self.response(request, client, token))
        if request.method == "DELETE":
            try:
                return await self.delete(client)
            except LookupError:  # removed by a concurrent request: gone, as RFC 7592 §2.1 answers
                return invalid_token(request, "a valid registration access token for this client is required")
        if request.method == "PUT":
            return await self.update(request, client, token)
        return StatusCodeResult(405, {"Allow": ALLOW})

    def response(self, request: EndpointRequest, client: Client, token: str) -> dict[str, Any]:
        """The client information response (RFC 7592 §3)."""
        return {
            **client_metadata(client),
            "registration_client_uri": registration_client_uri(request, client.client_id),
            "registration_access_token": token,
        }

    async def delete(self, client: Client) -> StatusCodeResult:
        """RFC 7592 §2.3: remove the client, then its grants (refresh and reference tokens, codes, consents) and
        its registration access token."""
        await self.store.remove(client.client_id)
        await self.grants.remove_all(PersistedGrantFilter(client_id=client.client_id))
        self.forget(client.client_id)
        return StatusCodeResult(204)

    async def update(self, request: EndpointRequest, current: Client, token: str) -> JsonResult | StatusCodeResult:
        """RFC 7592 §2.2: the request replaces the metadata and is validated exactly like a registration, under
        the policy the client was registered with; nothing changes unless all of it is valid."""
        if request.content_type != "application/json":
            return StatusCodeResult(415)
        try:
            body = parse_metadata(request.body)
            if body.get("client_id") != current.client_id:
                raise RegistrationError(INVALID_CLIENT_METADATA, "client_id must be present and unchanged")
            issued_members = [name for name in SERVER_ISSUED if name in body]
            if issued_members:
                raise RegistrationError(
                    INVALID_CLIENT_METADATA, f"an update must not include {', '.join(issued_members)} (RFC 7592 §2.2)"
                )
            presented = body.get("client_secret")
            shared = [s for s in current.client_secrets if s.type == SecretTypes.SHARED_SECRET]
            if presented is not None and not (
                isinstance(presented, str) and any(shared_secret_matches(presented, s.value) for s in shared)
            ):
                raise RegistrationError(INVALID_CLIENT_METADATA, "client_secret does not match the current secret")
            rotate = body.get(ROTATE_SECRET, False)
            if not isinstance(rotate, bool):
                raise RegistrationError(INVALID_CLIENT_METADATA, f"{ROTATE_SECRET} must be a boolean")
            policy = self.policies.named(current.properties.get(POLICY_PROPERTY, ""))
            validated = await self.validator.validate(body, policy)
        except RegistrationError as exc:
            return metadata_error(exc)
        rotate_token = self.options.rotate_registration_access_token
        if rotate_token and not await self.tokens.take(token, current.client_id):
            # used by a concurrent update already: a rotated token must not fork into two live ones
            return invalid_token(request, "a valid registration access token for this client is required")
        client = validated.client
        client.client_id = current.client_id
        client.enabled = current.enabled  # an administrator's decision, not the registrant's
        kept = {k: v for k, v in current.properties.items() if k != SOFTWARE_STATEMENT_PROPERTY}
        client.properties = {**kept, **client.properties, POLICY_PROPERTY: policy.name}
        issued: dict[str, Any] = {}
        if validated.needs_secret:
            if rotate or not shared:
                issued = issue_client_secret(client, self.options.secret_lifetime, self.clock)
            else:
                client.client_secrets.extend(shared)
        try:
            await self.store.update(client)
        except LookupError:  # removed by a concurrent request: gone, as RFC 7592 §2.1 answers
            return invalid_token(request, "a valid registration access token for this client is required")
        self.forget(client.client_id)
        if rotate_token:
            token = await self.tokens.issue(client.client_id)
        return JsonResult({**self.response(request, client, token), **issued})

    def forget(self, client_id: str) -> None:
        """Drop this process's cached copy at once (other processes keep theirs up to ``client_store_expiration``)."""
        if isinstance(self.cache, ForgettingClientStore):
            self.cache.forget(client_id)
