"""``create_app(services)``: the ASGI application (Duende ``app.UseIdentityServer()``)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from identityserver.hosting.client_certificates import ClientCertificateMiddleware
from identityserver.hosting.forwarded import ForwardedHeadersMiddleware
from identityserver.hosting.health import HealthEndpoints
from identityserver.hosting.host_filter import AllowedHostsMiddleware
from identityserver.hosting.lifespan import SHUTDOWN_STEP_TIMEOUT, Lifespan
from identityserver.hosting.middleware import ASGIApp, IdentityServerMiddleware
from identityserver.hosting.services import Services
from identityserver.hosting.telemetry import RequestTelemetry


async def _not_found(request: Request) -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def create_app(
    services: Services, ui: ASGIApp | None = None, *, shutdown_step_timeout: float = SHUTDOWN_STEP_TIMEOUT
) -> ASGIApp:
    """The protocol endpoints in front of ``ui`` (the login/consent pages; a 404 app when ``None``), behind the
    health probes and the forwarded-headers handling (``options.forwarded_headers``), and the lifespan's start-up,
    background and shutdown steps (``hosting/lifespan.py``)."""
    inner = ui or Starlette(routes=[Route("/{path:path}", _not_found)])
    app = Starlette(routes=[])
    app.mount("/", inner)
    protocol: ASGIApp = IdentityServerMiddleware(
        app, services.router, services.options, services.cors, services.events, services.writers
    )
    if services.options.telemetry.enabled:
        protocol = RequestTelemetry(protocol, services.router)
    if not services.options.issuer_uri:
        protocol = AllowedHostsMiddleware(protocol, services.options)
    served: ASGIApp = HealthEndpoints(protocol, services.health_checks)
    if services.options.mutual_tls.enabled:  # inside the forwarded headers: it needs the real peer and host
        served = ClientCertificateMiddleware(served, services.options.mutual_tls)
    # outermost, so that telemetry, the protocol endpoints and the UI all see the forwarded client
    forwarded = ForwardedHeadersMiddleware(served, services.options.forwarded_headers)
    return Lifespan(forwarded, services, shutdown_step_timeout)
