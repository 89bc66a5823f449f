"""The handler contract (Duende ``IEndpointHandler``) and the parameter reading every endpoint shares."""

from __future__ import annotations

from typing import Protocol

from identityserver.endpoints.results.common import JsonResult, StatusCodeResult
from identityserver.http.parameters import FormError, Parameters
from identityserver.http.request import EndpointRequest


def read_parameters(request: EndpointRequest, allow_get: bool) -> Parameters | StatusCodeResult:
    """The query of a GET (when allowed) or the form of a POST; 405, 415 or 400 otherwise."""
    try:
        if allow_get and request.method == "GET":
            return request.query()
        if request.method != "POST":
            return StatusCodeResult(405, {"Allow": "GET, POST" if allow_get else "POST"})
        if not request.is_form():
            return StatusCodeResult(415)
        return request.form()
    except FormError:
        return StatusCodeResult(400, body={"error": "invalid_request"})


def read_unique_form(request: EndpointRequest) -> Parameters | StatusCodeResult | JsonResult:
    """A POSTed form in which no parameter repeats (RFC 6749 §3.1; RFC 7009 §2.1; RFC 7662 §2.1)."""
    form = read_parameters(request, allow_get=False)
    if isinstance(form, Parameters) and form.duplicated() is not None:
        return JsonResult(
            {"error": "invalid_request", "error_description": "a parameter was sent more than once"}, status=400
        )
    return form


class EndpointResult(Protocol):
    """Marker for result data; ``hosting.writers`` turns each result type into an HTTP response."""


class EndpointHandler(Protocol):
    """One protocol endpoint (Duende ``IEndpointHandler``): the router calls ``process`` for its path."""

    async def process(self, request: EndpointRequest) -> object:
        """Handle the request and return a result object."""
        ...
