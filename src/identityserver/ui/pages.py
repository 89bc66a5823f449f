"""Home, error and grants pages (Duende host ``Pages/Index``, ``Pages/Home/Error``, ``Pages/Grants``)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from identityserver.ui.context import UiContext
from identityserver.ui.forms import field


class Pages:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui

    async def home(self, request: Request) -> Response:
        user = await self.ui.user(request)
        return await self.ui.render(request, "home.html", user=user, issuer=self.ui.base_url(request))

    async def error(self, request: Request) -> Response:
        options = self.ui.services.options.user_interaction
        message = await self.ui.services.interaction.get_error_context(
            request.query_params.get(options.error_id_parameter)
        )
        if message is None:
            return await self.ui.render(
                request, "error.html", 400, error="error", error_description="Sorry, there was an error."
            )
        return await self.ui.render(
            request, "error.html", 400, error=message.error, error_description=message.error_description
        )

    async def server_error(self, request: Request, error: Exception) -> Response:
        """The error page, 500, for a failure no page handled (a store down, say: security.md F3). Starlette's
        server-error middleware re-raises ``error`` afterwards, so the server still logs it with its traceback;
        the browser gets no detail of it. Plain text if the page itself cannot be rendered."""
        try:
            return await self.ui.render(
                request,
                "error.html",
                500,
                error="server_error",
                error_description="Something went wrong on our side. Please try again in a moment.",
            )
        except Exception:
            return PlainTextResponse("Internal Server Error", status_code=500)

    async def grants(self, request: Request) -> Response:
        """The consents the signed-in user gave, each revocable (POST ``client_id`` with the anti-forgery token)."""
        user = await self.ui.user(request)
        if user is None:
            login = self.ui.path(request, self.ui.services.options.user_interaction.login_url)
            return self.ui.redirect(f"{login}?{urlencode({'returnUrl': self.ui.path(request, '/grants')})}")
        interaction = self.ui.services.interaction
        if request.method == "POST":
            form = await self.ui.verified_form(request)
            if not isinstance(form, FormData):
                return form
            client_id = field(form, "client_id", 200)
            if client_id:
                await interaction.revoke_user_consent(user.subject_id, client_id)
            return self.ui.redirect(self.ui.path(request, "/grants"))
        grants = await interaction.get_all_user_grants(user.subject_id)
        return await self.ui.render(request, "grants.html", grants=grants)
