"""The CIBA ping callback (OpenID Connect CIBA Core 1.0 §10.2): a JSON POST of ``{"auth_req_id": ...}`` with the
client's ``client_notification_token`` as bearer token to its ``backchannel_client_notification_endpoint``.

It goes out through the guards of back-channel logout: in the background, from a bounded pool, with a timeout,
without following redirects, and for a dynamically registered client only to public addresses (SSRF). Plain
http is allowed only to loopback addresses, and only for clients of the configuration file (checked when the
client is loaded, and again here). A failed attempt is retried with exponential backoff; 4xx answers other than
408/425/429 are final."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from identityserver._utils.egress import PinnedTarget, pin_public_address
from identityserver.models.client import Client
from identityserver.options import CibaOptions
from identityserver.services.backchannel_logout import DYNAMIC_REGISTRATION_PROPERTY

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("identityserver.ciba")

MAX_CONCURRENT_DELIVERIES = 32
RETRIABLE_STATUSES = frozenset({408, 425, 429})
INITIAL_DELAY = 1.0
MAX_DELAY = 60.0


def is_loopback_http_url(url: str) -> bool:
    """``http://`` to a loopback IP literal or ``localhost`` (RFC 8252 §8.3's exception for local receivers)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() != "http" or "@" in parts.netloc:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def notification_endpoint_problem(url: str, dynamic: bool) -> str | None:
    """Why a client may not use this notification endpoint, or ``None``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "must be an absolute URI"
    if not parts.hostname or parts.fragment:
        return "must be an absolute URI without a fragment"
    if parts.scheme.lower() == "https":
        return None
    if is_loopback_http_url(url) and not dynamic:
        return None
    return "must be https (plain http only to a loopback address, for clients of the configuration file)"


class DefaultBackchannelClientNotificationService:
    """Sends ping callbacks; ``client_factory`` makes the ``httpx.AsyncClient`` (the ``HttpClientFactory`` slot)."""

    def __init__(
        self,
        options: CibaOptions,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
    ) -> None:
        self.options = options
        self.client_factory = client_factory or self._default_client
        self.sleep = sleep
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES)
        self._pending: set[asyncio.Task[None]] = set()

    def _default_client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(timeout=self.options.notification_timeout, follow_redirects=False)

    async def send_ping(self, client: Client, auth_req_id: str, client_notification_token: str) -> None:
        task = asyncio.ensure_future(self._deliver(client, auth_req_id, client_notification_token))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver(self, client: Client, auth_req_id: str, token: str) -> None:
        uri = client.backchannel_client_notification_endpoint
        dynamic = client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) == "true"
        if uri is None or notification_endpoint_problem(uri, dynamic) is not None:
            logger.warning(
                "not pinging client %s: no usable backchannel_client_notification_endpoint", client.client_id
            )
            return
        # resolved once, and every attempt goes to the checked address (no second DNS answer; issue 16 item 7)
        pinned = await pin_public_address(uri) if dynamic else None
        if dynamic and pinned is None:
            logger.warning("not pinging client %s: its endpoint does not resolve to public addresses", client.client_id)
            return
        attempts = max(self.options.notification_max_attempts, 1)
        delay = INITIAL_DELAY
        for attempt in range(1, attempts + 1):
            outcome = await self._attempt(uri, auth_req_id, token, pinned)
            if outcome is None:
                return
            final = outcome.startswith("HTTP 4") and int(outcome[5:]) not in RETRIABLE_STATUSES
            if final or attempt == attempts:
                logger.warning(
                    "ping to %s for client %s failed (%s); given up after %d attempt(s)",
                    uri,
                    client.client_id,
                    outcome,
                    attempt,
                )
                return
            logger.warning(
                "ping to %s for client %s failed (%s); attempt %d of %d, next in %.0f s",
                uri,
                client.client_id,
                outcome,
                attempt,
                attempts,
                delay,
            )
            await self.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    async def _attempt(self, uri: str, auth_req_id: str, token: str, pinned: PinnedTarget | None) -> str | None:
        """``None`` when delivered, else what went wrong (``HTTP <status>`` or the exception's name)."""
        import httpx

        headers = {"Authorization": f"Bearer {token}"}
        body = {"auth_req_id": auth_req_id}
        async with self._semaphore:
            try:
                async with await asyncio.to_thread(self.client_factory) as http:
                    request = (
                        http.post(
                            pinned.url, json=body, headers={**pinned.headers, **headers}, extensions=pinned.extensions
                        )
                        if pinned is not None
                        else http.post(uri, json=body, headers=headers)
                    )
                    response = await asyncio.wait_for(request, self.options.notification_timeout)
            except (httpx.HTTPError, TimeoutError, OSError) as exc:
                return type(exc).__name__
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"


def ciba_client_problem(client: Client) -> tuple[str, str] | None:
    """A CIBA setting of the client that cannot work (checked when clients are loaded): ``(field, problem)``."""
    mode = client.backchannel_token_delivery_mode
    if mode not in ("poll", "ping"):
        return "backchannel_token_delivery_mode", 'must be "poll" or "ping" (push is not supported)'
    endpoint = client.backchannel_client_notification_endpoint
    if mode == "ping" and not endpoint:
        return "backchannel_client_notification_endpoint", "ping mode needs the endpoint to notify"
    if endpoint:
        problem = notification_endpoint_problem(
            endpoint, client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) == "true"
        )
        if problem is not None:
            return "backchannel_client_notification_endpoint", problem
    for name in ("ciba_lifetime", "polling_interval"):
        value = getattr(client, name)
        if value is not None and value <= 0:
            return name, "must be a positive number of seconds"
    return None
