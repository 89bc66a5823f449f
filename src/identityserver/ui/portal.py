"""The client application portal (Duende host ``Pages/Portal``, new in 6.3): every client with an
``initiate_login_uri``, linked for third-party initiated login (OIDC Core §4) with ``iss`` so that the client
starts an authentication request at this issuer."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from identityserver.ui.context import UiContext


def initiate_login_link(initiate_login_uri: str, issuer: str, login_hint: str | None = None) -> str:
    """OIDC Core §4: ``iss`` is required; ``login_hint`` and ``target_link_uri`` are optional."""
    params = {"iss": issuer}
    if login_hint:
        params["login_hint"] = login_hint
    separator = "&" if "?" in initiate_login_uri else "?"
    return f"{initiate_login_uri}{separator}{urlencode(params)}"


class PortalPage:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui

    async def handle(self, request: Request) -> Response:
        issuer = self.ui.base_url(request)
        listed = self.ui.services.client_list
        found = await listed.get_all_clients() if listed is not None else []
        clients = [
            c
            for c in found
            if c.enabled and c.initiate_login_uri and c.initiate_login_uri.lower().startswith(("https://", "http://"))
        ]
        entries = [
            {"name": c.client_name or c.client_id, "url": initiate_login_link(c.initiate_login_uri or "", issuer)}
            for c in sorted(clients, key=lambda c: (c.client_name or c.client_id).lower())
        ]
        return await self.ui.render(request, "portal.html", entries=entries)
