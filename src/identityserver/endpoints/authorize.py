"""The authorize endpoint and its callback (Duende ``AuthorizeEndpoint``, ``AuthorizeCallbackEndpoint``;
RFC 6749 §3.1, OIDC Core §3.1.2)."""

from __future__ import annotations

from identityserver._utils.forms import FormError
from identityserver.endpoints.authorize_base import AuthorizeEndpointBase
from identityserver.endpoints.base import EndpointRequest
from identityserver.endpoints.results import AuthorizeResult, RedirectResult, StatusCodeResult


class AuthorizeEndpoint(AuthorizeEndpointBase):
    async def process(self, request: EndpointRequest) -> AuthorizeResult | RedirectResult | StatusCodeResult:
        try:
            if request.method == "GET":
                parameters = request.query()
            elif request.method == "POST":
                if not request.is_form():
                    return StatusCodeResult(415)
                parameters = request.form()
            else:
                return StatusCodeResult(405, {"Allow": "GET, POST"})
        except (FormError, UnicodeDecodeError):
            return StatusCodeResult(400, body={"error": "invalid_request"})
        return await self.process_authorize_request(request, parameters, is_callback=False)


class AuthorizeCallbackEndpoint(AuthorizeEndpointBase):
    async def process(self, request: EndpointRequest) -> AuthorizeResult | RedirectResult | StatusCodeResult:
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        try:
            parameters = request.query()
        except (FormError, UnicodeDecodeError):
            return StatusCodeResult(400, body={"error": "invalid_request"})
        return await self.process_authorize_request(request, parameters, is_callback=True)
