"""The check-session iframe (Duende ``CheckSessionEndpoint``; OIDC Session Management 1.0 §3.3, §4).

Relying parties embed it and post ``client_id session_state``; it answers ``changed``, ``unchanged`` or
``error`` by recomputing the session state from the ``idsrv.session`` cookie. It must be frameable. The page and
its script are rendered by ``hosting`` (``hosting/templates/check_session.*``)."""

from __future__ import annotations

from identityserver.endpoints.results import CheckSessionResult, StatusCodeResult
from identityserver.http.request import EndpointRequest


class CheckSessionEndpoint:
    """``/connect/checksession``: the OIDC Session Management 1.0 §3.3 iframe, which reads the ``sid`` cookie."""

    def __init__(self, cookie_name: str) -> None:
        self.cookie_name = cookie_name

    async def process(self, request: EndpointRequest) -> CheckSessionResult | StatusCodeResult:
        """The iframe page (GET only)."""
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        return CheckSessionResult(self.cookie_name)
