"""Back-channel logout (OIDC Back-Channel Logout 1.0 §2.4-2.8; Duende ``DefaultBackChannelLogoutService``).

Logout tokens are signed like ID tokens with ``typ`` from ``options.logout.logout_token_jwt_type``; they carry
iss, aud, iat, exp (2 minutes), jti, the back-channel event, sub and sid, and never a nonce. Each client with a
``back_channel_logout_uri`` receives a ``logout_token`` form POST, without following redirects, with a timeout,
from a bounded pool, in the background: a slow receiver never delays or exhausts the server.

Deliveries go through a durable queue (``BackChannelLogoutQueue``, in the database with the SQL stores): a logout
enqueues one delivery per client, then tries it at once; a failed attempt is retried with exponential backoff by
whichever server process polls the queue next, until it succeeds, is refused, or runs out of attempts or age. A
restart or a crash loses nothing: a delivery whose sender died becomes due again when its lease ends.

The queue holds what the token says (client, sub, sid, issuer, jti), not the token: the token is signed at each
attempt, so a retry after the token's 2-minute lifetime still sends an unexpired token (§2.4 asks for a short
``exp``), with the same ``jti`` every time so that a relying party detecting replays (§2.6) sees one logout."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from identityserver._utils.egress import pin_public_address
from identityserver.clock import Clock
from identityserver.models.claims import Claim, ClaimValueTypes
from identityserver.models.client import Client
from identityserver.models.grants import Token
from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import TokenCreationService
from identityserver.services.token_creation import LOGOUT_TOKEN, new_jti
from identityserver.stores.in_memory.backchannel_logout_queue import InMemoryBackChannelLogoutQueue
from identityserver.stores.protocols import BackChannelLogoutQueue, ClientStore

if TYPE_CHECKING:
    import httpx  # imported when the first logout token is sent: workers that never send one save ~2 MiB

logger = logging.getLogger("identityserver.logout")
#: Marks clients created by dynamic registration: untrusted, so no silent error redirects (RFC 9700 §4.18) and
#: no server-side calls to non-public addresses (SSRF).
DYNAMIC_REGISTRATION_PROPERTY = "identityserver:dynamic_registration"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120
MAX_CONCURRENT_DELIVERIES = 32
#: Statuses worth retrying: the receiver is overloaded or timed out. Any other non-2xx answer is final: §2.8 has
#: the RP answer 400 to a logout it refuses, and the same token would be refused again.
RETRIABLE_STATUSES = frozenset({408, 425, 429})
#: Floor of the retry delay and the polling interval (seconds), whatever the options say: a zero would spin.
MIN_DELAY = 0.1


def _http_error() -> type[Exception]:
    import httpx

    return httpx.HTTPError


class DefaultBackChannelLogoutService:
    """Sends OpenID Connect Back-Channel Logout 1.0 logout tokens (Duende ``DefaultBackChannelLogoutService``)
    through the durable ``queue``; override ``create_logout_token`` to change the token."""

    def __init__(
        self,
        creation: TokenCreationService,
        options: IdentityServerOptions,
        clock: Clock,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        queue: BackChannelLogoutQueue | None = None,
        clients: ClientStore | None = None,
    ) -> None:
        """``clients`` finds the client of a queued delivery when it is retried (perhaps by another process);
        without it only the clients this process has notified are known."""
        self.creation = creation
        self.options = options
        self.clock = clock
        self.client_factory = client_factory or self._default_client
        self.queue: BackChannelLogoutQueue = queue if queue is not None else InMemoryBackChannelLogoutQueue()
        self.clients = clients
        self._known_clients: dict[str, Client] = {}
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES)
        self._pending: set[asyncio.Task[None]] = set()

    def _default_client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(timeout=self.options.logout.back_channel_logout_timeout, follow_redirects=False)

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery belongs to its claimer: room for the wait for a free connection and for
        the attempt itself, after which another process may take it over."""
        return timedelta(seconds=2 * self.options.logout.back_channel_logout_timeout + 1)

    async def create_logout_token(
        self, client: Client, subject_id: str, session_id: str | None, issuer: str, jwt_id: str | None = None
    ) -> str:
        """A signed logout token for the client (Back-Channel Logout §2.4): ``sub``, ``sid`` when known, the logout
        event, never a ``nonce``; ``jwt_id`` (the delivery's id) as ``jti`` when given, else a new one."""
        claims = [
            Claim("sub", subject_id),
            Claim("events", json.dumps({BACKCHANNEL_LOGOUT_EVENT: {}}), ClaimValueTypes.JSON),
        ]
        if session_id:
            claims.append(Claim("sid", session_id))
        if jwt_id:
            claims.append(Claim("jti", jwt_id))
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
        """Queue a delivery for every client with a back-channel URI, start sending them and return at once."""
        targets = [
            c
            for c in clients
            if c.back_channel_logout_uri and not (c.back_channel_logout_session_required and not session_id)
        ]
        if not targets:
            return
        now = self.clock.utc_now()
        # enqueued already leased to this process, which tries them at once (the happy path stays fast)
        deliveries = [
            BackChannelLogoutDelivery(
                id=new_jti(),
                client_id=client.client_id,
                subject_id=subject_id,
                session_id=session_id,
                issuer=issuer,
                created=now,
                next_attempt_at=now + self.lease,
            )
            for client in targets
        ]
        if self.clients is None:
            self._known_clients.update((client.client_id, client) for client in targets)
        durable = True
        try:
            await self.queue.enqueue(deliveries)
        except Exception:
            # the user's logout goes on; the notifications are tried once, without retries
            logger.exception("could not queue back-channel logout deliveries; sending them once, without retry")
            durable = False
        self._start(self._attempt_all(list(zip(deliveries, targets, strict=True)), durable))

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def deliver_due(self) -> int:
        """Claim the deliveries that are due (failed earlier, or left by a process that died), send them and
        return how many were claimed. Runs until the queue has nothing due."""
        claimed_total = 0
        while True:
            now = self.clock.utc_now()
            claimed = await self.queue.claim(now, now + self.lease, MAX_CONCURRENT_DELIVERIES)
            claimed_total += len(claimed)
            pairs: list[tuple[BackChannelLogoutDelivery, Client]] = []
            for delivery in claimed:
                client = await self._find_client(delivery.client_id)
                if client is None or not client.back_channel_logout_uri:
                    logger.warning(
                        "back-channel logout for client %s given up: the client no longer exists or has no "
                        "back-channel logout URI",
                        delivery.client_id,
                    )
                    await self.queue.complete(delivery.id)
                    continue
                pairs.append((delivery, client))
            if pairs:
                # a task of its own: cancelling the polling job at shutdown does not cut attempts short, and
                # drain() waits for them
                await asyncio.wait([self._start(self._attempt_all(pairs, True))])
            if len(claimed) < MAX_CONCURRENT_DELIVERIES:
                return claimed_total

    async def run_delivery(self) -> None:
        """The background job: deliver what is due now (after a restart: what the last run left), then every
        ``back_channel_logout_poll_interval`` seconds."""
        interval = max(self.options.logout.back_channel_logout_poll_interval, MIN_DELAY)
        while True:
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("delivering queued back-channel logouts failed; next run in %s s", interval)
            await asyncio.sleep(interval)

    async def _find_client(self, client_id: str) -> Client | None:
        if self.clients is not None:
            return await self.clients.find_client_by_id(client_id)
        return self._known_clients.get(client_id)

    async def _attempt_all(self, pairs: Sequence[tuple[BackChannelLogoutDelivery, Client]], durable: bool) -> None:
        try:
            # a new client loads the CA bundle for its TLS context, some 30 ms of CPU: made off the event loop
            async with await asyncio.to_thread(self.client_factory) as http:
                await asyncio.gather(*(self._attempt(http, d, c, durable) for d, c in pairs))
        except Exception:
            logger.exception("back-channel logout delivery failed; queued deliveries are retried when due")

    async def _attempt(
        self, http: httpx.AsyncClient, delivery: BackChannelLogoutDelivery, client: Client, durable: bool
    ) -> None:
        uri = client.back_channel_logout_uri
        if uri is None:
            raise ValueError(f"client {client.client_id} has no back-channel logout URI to deliver to")
        timeout = self.options.logout.back_channel_logout_timeout
        async with self._semaphore:
            if durable and self.clock.utc_now() + timedelta(seconds=timeout) > delivery.next_attempt_at:
                # too little of the lease is left to finish: once it ends, another claimer sends it
                return
            dynamic = client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) == "true"
            # resolved once, and the request goes to the checked address (no second DNS answer)
            pinned = await pin_public_address(uri) if dynamic else None
            if dynamic and pinned is None:
                logger.warning(
                    "not sending back-channel logout for client %s: its URI does not resolve to public addresses",
                    client.client_id,
                )
                await self._settle(delivery, durable)
                return
            try:
                token = await self.create_logout_token(
                    client, delivery.subject_id, delivery.session_id, delivery.issuer, delivery.id
                )
            except Exception as exc:
                logger.exception("creating the logout token for client %s failed", client.client_id)
                await self._failed(delivery, uri, f"token creation failed: {type(exc).__name__}", False, durable)
                return
            try:
                form = {"logout_token": token}
                request = (
                    http.post(pinned.url, data=form, headers=pinned.headers, extensions=pinned.extensions)
                    if pinned is not None
                    else http.post(uri, data=form)
                )
                response = await asyncio.wait_for(request, timeout)
            except (_http_error(), TimeoutError, OSError) as exc:
                await self._failed(delivery, uri, type(exc).__name__, False, durable)
                return
        if response.is_success:
            await self._settle(delivery, durable)
            return
        status = response.status_code
        await self._failed(
            delivery, uri, f"HTTP {status}", 300 <= status < 500 and status not in RETRIABLE_STATUSES, durable
        )

    async def _settle(self, delivery: BackChannelLogoutDelivery, durable: bool) -> None:
        if not durable:
            return
        try:
            await self.queue.complete(delivery.id)
        except Exception:
            # it stays leased and is sent again when the lease ends: at least once, never lost
            logger.exception("could not remove the sent back-channel logout delivery %s", delivery.id)

    async def _failed(
        self, delivery: BackChannelLogoutDelivery, uri: str, error: str, final: bool, durable: bool
    ) -> None:
        settings = self.options.logout
        attempts = delivery.attempts + 1
        delay = max(
            min(
                settings.back_channel_logout_retry_initial_delay * 2 ** min(attempts - 1, 62),
                settings.back_channel_logout_retry_max_delay,
            ),
            MIN_DELAY,
        )
        next_attempt = self.clock.utc_now() + timedelta(seconds=delay)
        too_old = next_attempt > delivery.created + timedelta(seconds=settings.back_channel_logout_max_age)
        if not durable or final or attempts >= settings.back_channel_logout_max_attempts or too_old:
            logger.warning(
                "back-channel logout to %s for client %s failed (%s); given up after %d attempt(s)",
                uri,
                delivery.client_id,
                error,
                attempts,
            )
            await self._settle(delivery, durable)
            return
        logger.warning(
            "back-channel logout to %s for client %s failed (%s); attempt %d of %d, next in %.0f s",
            uri,
            delivery.client_id,
            error,
            attempts,
            settings.back_channel_logout_max_attempts,
            delay,
        )
        try:
            await self.queue.retry(delivery.id, next_attempt, attempts, error)
        except Exception:
            logger.exception("could not record the failed back-channel logout attempt %s", delivery.id)

    async def drain(self) -> None:
        """Wait for deliveries in flight (tests and shutdown); retries that are not yet due stay queued."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
