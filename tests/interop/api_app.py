"""A minimal API protected by identityserver.resource_server, run as a separate process for interop tests:
``IDENTITYSERVER_AUTHORITY=... uvicorn tests.interop.api_app:app``."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from identityserver.models.client import DPoPTokenExpirationValidationMode
from identityserver.resource_server import AccessTokenMiddleware, AccessTokenValidator, ResourceServerOptions


async def whoami(request: Request) -> JSONResponse:
    token = request.scope["identityserver.access_token"]
    return JSONResponse({"sub": token.subject, "scheme": token.scheme, "jkt": token.jkt})


options = ResourceServerOptions(
    os.environ["IDENTITYSERVER_AUTHORITY"],
    audience="urn:api1",
    dpop_validation_mode=DPoPTokenExpirationValidationMode.IAT | DPoPTokenExpirationValidationMode.NONCE,
)
app = AccessTokenMiddleware(Starlette(routes=[Route("/whoami", whoami)]), AccessTokenValidator(options))
