"""Back-channel logout (OIDC Back-Channel Logout 1.0 §2.4-2.8; Duende ``DefaultBackChannelLogoutService``).

Logout tokens are signed like ID tokens with ``typ`` from ``options.logout.logout_token_jwt_type``; they carry
iss, aud, iat, exp (2 minutes), jti, the back-channel event, sub and sid, and never a nonce. Each client with a
``back_channel_logout_uri`` receives a ``logout_token`` form POST, concurrently, without following redirects,
with a timeout, from a bounded pool, in the background: a slow receiver never delays or exhausts the server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from identityserver._utils.egress import resolves_to_public_addresses
from identityserver.clock import Clock
from identityserver.models.claims import Claim, ClaimValueTypes
from identityserver.models.client import Client
from identityserver.models.grants import Token
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import TokenCreationService
from identityserver.services.token_creation import LOGOUT_TOKEN

if TYPE_CHECKING:
    import httpx  # imported when the first logout token is sent: workers that never send one save ~2 MiB

logger = logging.getLogger("identityserver.logout")
#: Marks clients created by dynamic registration: untrusted, so no silent error redirects (RFC 9700 §4.18) and
#: no server-side calls to non-public addresses (SSRF).
DYNAMIC_REGISTRATION_PROPERTY = "identityserver:dynamic_registration"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120
MAX_CONCURRENT_DELIVERIES = 32


def _http_error() -> type[Exception]:
    import httpx

    return httpx.HTTPError


class DefaultBackChannelLogoutService:
    """Sends OpenID Connect Back-Channel Logout 1.0 logout tokens (Duende ``DefaultBackChannelLogoutService``) in the
    background with a timeout; override ``create_logout_token`` to change the token."""
    def __init__(
        self,
        creation: TokenCreationService,
        options: IdentityServerOptions,
        clock: Clock,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.creation = creation
        self.options = options
        self.clock = clock
        self.client_factory = client_factory or self._default_client
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES)
        self._pending: set[asyncio.Task[None]] = set()

    def _default_client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(timeout=self.options.logout.back_channel_logout_timeout, follow_redirects=False)

    async def create_logout_token(self, client: Client, subject_id: str, session_id: str | None, issuer: str) -> str:
        """A signed logout token for the client (Back-Channel Logout §2.4): ``sub``, ``sid`` when known, the logout
        event, never a ``nonce``."""
        claims = [
            Claim("sub", subject_id),
            Claim("events", json.dumps({BACKCHANNEL_LOGOUT_EVENT: {}}), ClaimValueTypes.JSON),
        ]
        if session_id:
            claims.append(Claim("sid", session_id))
        token = Token(
            type=LOGOUT_TOKEN,
            client_id=client.client_id,
            issuer=issuer,
            creation_time=int(self.clock.timestamp()),
            lifetime=LOGOUT_TOKEN_LIFETIME,
            audiences=[client.client_id],
            claims=claims,
            allowed_signing_algorithms=list(client.allowed_identity_token_signing_algorithms),
            include_jwt_id=True,
        )
        return await self.creation.create_token(token)

    async def send_logout_notifications(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str
    ) -> None:
        """Start delivery to every client with a back-channel URI and return at once."""
        targets = [c for c in clients if c.back_channel_logout_uri]
        if not targets:
            return
        tokens = []
        for client in targets:
            if client.back_channel_logout_session_required and not session_id:
                continue
            tokens.append((client, await self.create_logout_token(client, subject_id, session_id, issuer)))
        task = asyncio.ensure_future(self._deliver_all(tokens))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver_all(self, tokens: list[tuple[Client, str]]) -> None:
        # a new client loads the CA bundle for its TLS context, some 30 ms of CPU: made off the event loop
        async with await asyncio.to_thread(self.client_factory) as http:
            await asyncio.gather(*(self._deliver(http, client, token) for client, token in tokens))

    async def _deliver(self, http: httpx.AsyncClient, client: Client, token: str) -> None:
        uri = client.back_channel_logout_uri
        if uri is None:
            raise ValueError(f"client {client.client_id} has no back-channel logout URI to deliver to")
        if client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) == "true" and not await resolves_to_public_addresses(
            uri
        ):
            logger.warning(
                "not sending back-channel logout for client %s: its URI does not resolve to public addresses",
                client.client_id,
            )
            return
        async with self._semaphore:
            try:
                response = await asyncio.wait_for(
                    http.post(uri, data={"logout_token": token}), self.options.logout.back_channel_logout_timeout
                )
            except (_http_error(), TimeoutError, OSError) as exc:
                logger.warning(
                    "back-channel logout to %s for client %s failed: %s", uri, client.client_id, type(exc).__name__
                )
                return
        if not response.is_success:
            logger.warning(
                "back-channel logout to %s for client %s answered %s", uri, client.client_id, response.status_code
            )

    async def drain(self) -> None:
        """Wait for deliveries in flight (tests and shutdown)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
