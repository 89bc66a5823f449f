"""What happens to a session's clients when the user signs out (Duende ``LogoutNotificationService`` and
``DefaultSessionCoordinationService``): front-channel URLs for the logged-out page (OIDC Front-Channel Logout
§2-3) and back-channel logout tokens (OIDC Back-Channel Logout §2.5, sent by ``BackChannelLogoutService``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode

from identityserver.models.client import Client
from identityserver.models.messages import LogoutMessage
from identityserver.stores.protocols import ClientStore

SessionEnded = Callable[[str, str | None, list[Client], str, str], Awaitable[None]]


class DefaultLogoutService:
    """The default ``LogoutService``: the clients of the ending session, their front-channel logout URLs, and the
    session-ended hooks."""

    def __init__(self, clients: ClientStore, on_session_ended: Sequence[SessionEnded] = ()) -> None:
        self.clients = clients
        self.on_session_ended: tuple[SessionEnded, ...] = tuple(on_session_ended)
        """Hooks run after a sign-out: ``(subject_id, session_id, clients, issuer, reason)`` (the session
        coordination service's ``process_logout``)."""

    async def session_clients(self, client_ids: list[str]) -> list[Client]:
        """The enabled clients among ``client_ids``."""
        result = []
        for client_id in client_ids:
            client = await self.clients.find_client_by_id(client_id)
            if client is not None and client.enabled:
                result.append(client)
        return result

    def front_channel_logout_url(self, client: Client, issuer: str, session_id: str | None) -> str | None:
        """The client's front-channel logout URI, with ``iss`` and ``sid`` when it requires the session (Front-Channel
        Logout 1.0 §2)."""
        uri = client.front_channel_logout_uri
        if not uri:
            return None
        if client.front_channel_logout_session_required and session_id:
            separator = "&" if "?" in uri else "?"
            return f"{uri}{separator}{urlencode({'iss': issuer, 'sid': session_id})}"
        return uri

    async def signed_out(self, message: LogoutMessage, issuer: str) -> LogoutMessage:
        """Fill in the front-channel URLs and run the session-ended hooks (back-channel, token revocation)."""
        clients = await self.session_clients(message.client_ids)
        message.front_channel_logout_urls = [
            url for c in clients if (url := self.front_channel_logout_url(c, issuer, message.session_id))
        ]
        if message.subject_id:
            for hook in self.on_session_ended:
                await hook(message.subject_id, message.session_id, clients, issuer, "user_logout")
        return message
