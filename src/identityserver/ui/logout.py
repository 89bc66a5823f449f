"""Logout prompt and logged-out page (Duende host ``Pages/Account/Logout``, ``LoggedOut``).

Signing out ends the session cookie and hands the session's clients to the engine, which notifies them
(front-channel iframes rendered here, back-channel POSTs sent by the server)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver._utils.origins import web_origin
from identityserver.events import UserLogoutSuccessEvent
from identityserver.models.messages import LogoutMessage
from identityserver.ui.context import UiContext
from identityserver.ui.federation import federated_session, upstream_sign_out_url
from identityserver.ui.forms import field


class LogoutPages:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui

    async def logout(self, request: Request) -> Response:
        options = self.ui.services.options.user_interaction
        interaction = self.ui.services.interaction
        if request.method == "GET":
            logout_id = request.query_params.get(options.logout_id_parameter)
            context = await interaction.get_logout_context(logout_id)
            user = await self.ui.user(request)
            if user is not None and (context is None or context.prompt_needed(user.subject_id)):
                return await self.ui.render(request, "logout.html", logout_id=logout_id or "")
        else:
            form = await self.ui.verified_form(request)
            if not isinstance(form, FormData):
                return form
            if field(form, "button") != "yes":
                return self.ui.redirect(self.ui.path(request, "/"))
            logout_id = field(form, "logoutId", 16384)
            context = await interaction.get_logout_context(logout_id)
        ticket = await self.ui.user(request)
        upstream_session = await federated_session(self.ui, ticket)  # read before the session's grants go
        message = context or LogoutMessage()
        cookies: list[str] = []
        if ticket is not None:
            cookies = await self.ui.services.user_session.sign_out(ticket, self.ui.secure(request))
            message.subject_id = ticket.subject_id
            message.session_id = ticket.session_id
            message.client_ids = sorted(set(message.client_ids) | set(ticket.client_ids))
            await self.ui.services.events.raise_event(
                UserLogoutSuccessEvent(
                    subject_id=ticket.subject_id, session_id=ticket.session_id, display_name=ticket.display_name
                ),
                request.client.host if request.client else None,
            )
            message = await self.ui.services.logout.signed_out(message, self.ui.base_url(request))
        logged_out = self.ui.path(request, "/account/logged-out")
        new_id = await interaction.create_logout_id(message)
        if (upstream := await upstream_sign_out_url(self.ui, request, upstream_session, new_id)) is not None:
            return self.ui.redirect(upstream, cookies)  # federated sign-out, back at .../signout-callback
        return self.ui.redirect(f"{logged_out}?{urlencode({options.logout_id_parameter: new_id})}", cookies)

    async def logged_out(self, request: Request) -> Response:
        options = self.ui.services.options.user_interaction
        context = await self.ui.services.interaction.get_logout_context(
            request.query_params.get(options.logout_id_parameter)
        )
        # the CSP is built from each URI's parsed, IDNA-encoded origin only; a URI without a valid web origin gets
        # no iframe (issue 16 item 4: a stored host must never reach the header raw)
        urls = context.front_channel_logout_urls if context else []
        frames = [url for url in urls if web_origin(url) is not None]
        headers = None
        if frames:
            origins = " ".join(sorted({origin for url in frames if (origin := web_origin(url))}))
            headers = {
                "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                f"frame-src {origins}; frame-ancestors 'none'; base-uri 'none'"
            }
        return await self.ui.render(request, "logged_out.html", headers=headers, context=context, frames=frames)
