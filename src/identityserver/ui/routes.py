"""Routes of the built-in UI (Duende ``UserInteractionOptions`` paths). Themable: ``[options.ui] theme_path``
(``ui/theme.py``), or ``template_dirs`` whose templates override the theme's and the package's by name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from identityserver.constants import UiPaths
from identityserver.hosting.services import Services
from identityserver.ui.account import AccountPages
from identityserver.ui.ciba import CibaPage
from identityserver.ui.consent import ConsentPage
from identityserver.ui.context import UiContext
from identityserver.ui.device import DevicePage, device_path
from identityserver.ui.federation import federation_routes
from identityserver.ui.logout import LogoutPages
from identityserver.ui.pages import Pages
from identityserver.ui.portal import PortalPage
from identityserver.ui.security import SecurityHeadersMiddleware
from identityserver.ui.sign_in_routes import sign_in_method_routes
from identityserver.ui.theme import ThemedStaticFiles, load_theme


def create_ui(services: Services, template_dirs: Sequence[str | Path] = ()) -> SecurityHeadersMiddleware:
    theme = load_theme(services.options.ui.theme_path)
    ui = UiContext(services, [*template_dirs, *theme.template_dirs])
    account, consent, logout, pages = AccountPages(ui), ConsentPage(ui), LogoutPages(ui), Pages(ui)
    options = services.options.user_interaction
    routes = [
        Route("/", pages.home),
        Route(options.login_url, account.login, methods=["GET", "POST"]),
        Route(UiPaths.CREATE_ACCOUNT, account.create, methods=["GET", "POST"]),
        Route(options.consent_url, consent.handle, methods=["GET", "POST"]),
        Route(options.logout_url, logout.logout, methods=["GET", "POST"]),
        Route(UiPaths.LOGGED_OUT, logout.logged_out),
        Route(options.error_url, pages.error),
        Route(UiPaths.GRANTS, pages.grants, methods=["GET", "POST"]),
        Route(UiPaths.PORTAL, PortalPage(ui).handle),
        Route(UiPaths.CIBA, CibaPage(ui).handle, methods=["GET", "POST"]),
        Mount("/static", ThemedStaticFiles(theme.static_dirs), name="static"),
    ]
    routes[-1:-1] = sign_in_method_routes(account, services)
    routes[-1:-1] = federation_routes(ui)
    if services.device_flow is not None and services.user_code_throttle is not None:
        device = DevicePage(ui, services.device_flow, services.user_code_throttle)
        routes.insert(-1, Route(device_path(ui), device.handle, methods=["GET", "POST"]))
    app = Starlette(routes=routes, exception_handlers={Exception: pages.server_error})
    return SecurityHeadersMiddleware(app, services.options.input_length_restrictions.request_body)


def page_routes(services: Services) -> dict[str, set[str]]:
    """Path -> methods of the UI's pages (static files left out), for ``identityserver openapi --ui``."""
    app = create_ui(services).app
    return {r.path: set(r.methods or {"GET"}) for r in getattr(app, "routes", []) if isinstance(r, Route)}
