"""The ``/ciba`` page (as IdentityServer's quickstart ``Pages/Ciba``): the signed-in user's pending backchannel
authentication requests (OpenID Connect CIBA Core 1.0), each with its binding message, client and scopes, to
approve (choosing scopes) or deny. Forms carry the anti-forgery token."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver.constants import StandardScopes, UiPaths
from identityserver.models.backchannel_authentication import CompleteBackchannelLoginRequest
from identityserver.ui.context import UiContext
from identityserver.ui.forms import field

#: Longest ``internal_id`` accepted from the form (a hashed handle is far shorter).
MAX_ID = 200


class CibaPage:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui

    async def handle(self, request: Request) -> Response:
        interaction = self.ui.services.backchannel_authentication
        if interaction is None:
            return await self.ui.render(
                request, "error.html", 404, error="not_found", error_description="CIBA is not enabled."
            )
        user = await self.ui.user(request)
        if user is None:
            login = self.ui.path(request, self.ui.services.options.user_interaction.login_url)
            return self.ui.redirect(f"{login}?{urlencode({'returnUrl': self.ui.path(request, UiPaths.CIBA)})}")
        message = None
        if request.method == "POST":
            form = await self.ui.verified_form(request)
            if not isinstance(form, FormData):
                return form
            approve = field(form, "button", 10) == "yes"
            scopes = [v for v in form.getlist("scopes_consented") if isinstance(v, str)] if approve else []
            if approve and StandardScopes.OPENID not in scopes:
                scopes.append(StandardScopes.OPENID)
            done = await interaction.complete_login_request(
                CompleteBackchannelLoginRequest(
                    internal_id=field(form, "id", MAX_ID),
                    subject=user.principal(),
                    scopes_consented=scopes,
                    session_id=user.session_id,
                )
            )
            if not done:
                message = "That request is no longer pending."
            else:
                return self.ui.redirect(self.ui.path(request, UiPaths.CIBA) + ("?approved" if approve else "?denied"))
        elif "approved" in request.query_params:
            message = "You approved the request."
        elif "denied" in request.query_params:
            message = "You denied the request."
        pending = await interaction.get_pending_login_requests_for_user(user.subject_id)
        names = await self.scope_names({s for login in pending for s in login.requested_scopes})
        return await self.ui.render(request, "ciba.html", pending=pending, names=names, message=message)

    async def scope_names(self, scopes: set[str]) -> dict[str, str]:
        """Display names of the scopes (the scope name where none is set)."""
        resources = self.ui.services.resources
        names = {scope: scope for scope in scopes}
        for identity in await resources.find_identity_resources_by_scope_name(sorted(scopes)):
            names[identity.name] = identity.display_name or identity.name
        for api_scope in await resources.find_api_scopes_by_name(sorted(scopes)):
            names[api_scope.name] = api_scope.display_name or api_scope.name
        return names
