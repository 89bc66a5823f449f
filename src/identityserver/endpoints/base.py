"""The framework-neutral request an endpoint receives and the handler contract (Duende ``IEndpointHandler``).

Hosting builds an ``EndpointRequest`` from ASGI; endpoints never see Starlette."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from identityserver._utils.forms import FormError, Parameters, parse_form
from identityserver.endpoints.results.common import JsonResult, StatusCodeResult


@dataclass(slots=True)
class EndpointRequest:
    method: str
    path: str
    base_url: str
    """``scheme://host[:port][/root_path]`` without a trailing slash."""
    issuer: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Header names are lower-case; repeated headers stay separate."""
    query_string: str = ""
    body: bytes = b""
    remote_ip: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    _form: Parameters | None = None
    _query: Parameters | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def content_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    def is_form(self) -> bool:
        return self.content_type == "application/x-www-form-urlencoded"

    def form(self) -> Parameters:
        """The parsed form body; raises ``FormError`` for undecodable bodies."""
        if self._form is None:
            self._form = parse_form(self.body)
        return self._form

    def query(self) -> Parameters:
        if self._query is None:
            self._query = parse_form(self.query_string)
        return self._query

    def url_for(self, path: str) -> str:
        return self.base_url + path


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
    except (FormError, UnicodeDecodeError):
        return StatusCodeResult(400, body={"error": "invalid_request"})


def read_unique_form(request: EndpointRequest) -> Parameters | StatusCodeResult | JsonResult:
    """A POSTed form in which no parameter repeats (RFC 6749 §3.1; RFC 7009 §2.1; RFC 7662 §2.1)."""
    form = read_parameters(request, allow_get=False)
    if isinstance(form, Parameters) and form.duplicated() is not None:
        return JsonResult({"error": "invalid_request", "error_description": "a parameter was sent more than once"},
                          status=400)
    return form


class EndpointResult(Protocol):
    """Marker for result data; ``hosting.writers`` turns each result type into an HTTP response."""


class EndpointHandler(Protocol):
    async def process(self, request: EndpointRequest) -> object:
        """Handle the request and return a result object."""
        ...


__all__ = ["EndpointHandler", "EndpointRequest", "EndpointResult", "FormError", "Parameters"]
