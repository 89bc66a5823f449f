"""Per-request helpers shared by the page handlers: base URL, secure flag, current user, rendering."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from identityserver.hosting.middleware import base_url_from_scope
from identityserver.hosting.services import Services
from identityserver.services.user_session import SessionTicket
from identityserver.ui.forms import Antiforgery, read_form

if TYPE_CHECKING:
    from jinja2 import Environment


class UiContext:
    def __init__(self, services: Services, template_dirs: Sequence[str | Path] = ()) -> None:
        self.services = services
        self.template_dirs = [str(d) for d in template_dirs]
        self._env: Environment | None = None
        self.antiforgery = Antiforgery(services.data_protection.create_protector("identityserver.antiforgery"))

    @property
    def env(self) -> Environment:
        """The pages' templates, loaded at the first page: a worker that serves only the protocol endpoints never
        imports Jinja2 (1.8 MiB of its RSS; docs/performance-stored-grants.md, seventh pass)."""
        if self._env is None:
            from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

            loaders: list[Any] = [FileSystemLoader(self.template_dirs)] if self.template_dirs else []
            loaders.append(PackageLoader("identityserver.ui", "templates"))
            self._env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True))
        return self._env

    def base_url(self, request: Request) -> str:
        return base_url_from_scope(request.scope, self.services.options) or ""

    def secure(self, request: Request) -> bool:
        return self.base_url(request).startswith("https://")

    def path(self, request: Request, path: str) -> str:
        """A local URL under the application's root path."""
        root: str = request.scope.get("root_path", "")
        return root.rstrip("/") + path

    async def user(self, request: Request) -> SessionTicket | None:
        return await self.services.user_session.authenticate(dict(request.cookies))

    async def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        cookies: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> Response:
        secret, antiforgery_cookie = await self.antiforgery.cookie_value(request, self.secure(request))
        values.setdefault("antiforgery_token", await self.antiforgery.token_for(secret))
        values.setdefault("root", request.scope.get("root_path", "").rstrip("/"))
        html = self.env.get_template(template).render(**values)
        response = HTMLResponse(html, status_code=status, headers=headers)
        for cookie in cookies:
            response.headers.append("set-cookie", cookie)
        if antiforgery_cookie is not None:
            response.headers.append("set-cookie", antiforgery_cookie)
        return response

    async def verified_form(self, request: Request) -> FormData | Response:
        """The posted form when its anti-forgery token is valid, else the error page (400)."""
        form = await read_form(request)
        if await self.antiforgery.validate(request, form, self.secure(request)):
            return form
        return await self.render(
            request,
            "error.html",
            400,
            error="invalid_request",
            error_description="The form has expired. Go back and try again.",
        )

    @staticmethod
    def redirect(url: str, cookies: Sequence[str] = ()) -> Response:
        response = RedirectResponse(url, status_code=302)  # never 307 after a POST (RFC 9700 §4.12)
        for cookie in cookies:
            response.headers.append("set-cookie", cookie)
        return response
