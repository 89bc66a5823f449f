"""The consent page (Duende host ``Pages/Consent``): scope checkboxes ``scopes_consented``, ``remember_consent``,
``button=yes|no``."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver.models.messages import AuthorizationError, AuthorizationRequest, ConsentResponse
from identityserver.models.resources import Resources
from identityserver.ui.context import UiContext
from identityserver.ui.forms import field


def scope_views(context: AuthorizationRequest) -> list[dict[str, object]]:
    return resource_views(context.validated_resources.resources)


def resource_views(resources: Resources) -> list[dict[str, object]]:
    """What the consent and device pages list for each requested scope."""
    views: list[dict[str, object]] = [
        {
            "name": r.name,
            "display": r.display_name or r.name,
            "description": r.description,
            "required": r.required,
            "emphasize": r.emphasize,
        }
        for r in resources.identity_resources
    ]
    views += [
        {
            "name": s.name,
            "display": s.display_name or s.name,
            "description": s.description,
            "required": s.required,
            "emphasize": s.emphasize,
        }
        for s in resources.api_scopes
    ]
    if resources.offline_access:
        views.append(
            {
                "name": "offline_access",
                "display": "Offline access",
                "description": "Access to your applications and resources, even when you are offline",
                "required": False,
                "emphasize": True,
            }
        )
    return views


class ConsentPage:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui

    async def handle(self, request: Request) -> Response:
        form: FormData | None = None
        if request.method == "GET":
            return_url = request.query_params.get("returnUrl", "")
        else:
            verified = await self.ui.verified_form(request)
            if not isinstance(verified, FormData):
                return verified
            form = verified
            return_url = field(form, "returnUrl", 8000)
        user = await self.ui.user(request)
        if user is None:
            login = self.ui.path(request, self.ui.services.options.user_interaction.login_url)
            return self.ui.redirect(f"{login}?{urlencode({'returnUrl': return_url})}")
        context = await self.ui.services.interaction.get_authorization_context(return_url, self.ui.base_url(request))
        if context is None:
            return await self.ui.render(
                request,
                "error.html",
                400,
                error="invalid_request",
                error_description="There is no pending authorization request.",
            )
        views = scope_views(context)
        if form is None:
            return await self.ui.render(
                request,
                "consent.html",
                context=context,
                scopes=views,
                return_url=return_url,
                checked={v["name"] for v in views},
            )
        interaction = self.ui.services.interaction
        if field(form, "button") != "yes":
            return self.ui.redirect(
                await interaction.deny_authorization(
                    context, AuthorizationError.ACCESS_DENIED, return_url, user.subject_id
                )
            )
        requested = {str(v["name"]) for v in views}
        chosen = [s for s in form.getlist("scopes_consented") if isinstance(s, str) and s in requested]
        chosen += [str(v["name"]) for v in views if v["required"] and v["name"] not in chosen]
        if not chosen:
            return await self.ui.render(
                request,
                "consent.html",
                400,
                context=context,
                scopes=views,
                return_url=return_url,
                checked=set(),
                error="Select at least one permission.",
            )
        response = ConsentResponse(
            sorted(set(chosen)), field(form, "remember_consent") == "true" and context.client.allow_remember_consent
        )
        return self.ui.redirect(await interaction.grant_consent(context, response, user.subject_id, return_url))
