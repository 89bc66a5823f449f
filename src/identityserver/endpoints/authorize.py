"""The authorize endpoint and its callback (Duende ``AuthorizeEndpoint``, ``AuthorizeCallbackEndpoint``;
RFC 6749 §3.1, OIDC Core §3.1.2)."""

from __future__ import annotations

from identityserver.endpoints.authorize_base import AuthorizeEndpointBase
from identityserver.endpoints.base import read_parameters
from identityserver.endpoints.results import AuthorizeResult, RedirectResult, StatusCodeResult
from identityserver.http.parameters import FormError, Parameters
from identityserver.http.request import EndpointRequest


class AuthorizeEndpoint(AuthorizeEndpointBase):
    """``/connect/authorize`` (RFC 6749 §3.1, OIDC Core §3.1.2), GET or POST; override ``process`` or the base's
    steps."""

    async def process(self, request: EndpointRequest) -> AuthorizeResult | RedirectResult | StatusCodeResult:
        """Read the query (or form) parameters and run the authorize pipeline."""
        parameters = read_parameters(request, allow_get=True)
        if not isinstance(parameters, Parameters):
            return parameters
        return await self.process_authorize_request(request, parameters, is_callback=False)


class AuthorizeCallbackEndpoint(AuthorizeEndpointBase):
    """``/connect/authorize/callback``: where the login and consent pages return the user to finish the request."""

    async def process(self, request: EndpointRequest) -> AuthorizeResult | RedirectResult | StatusCodeResult:
        """Run the authorize pipeline again on the returned request (GET only), with the consent decision it carries."""
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        try:
            parameters = request.query()
        except FormError:
            return StatusCodeResult(400, body={"error": "invalid_request"})
        return await self.process_authorize_request(request, parameters, is_callback=True)
