"""The framework-neutral request an endpoint receives: hosting builds it from ASGI, so that no stage sees
Starlette."""

from __future__ import annotations

from dataclasses import dataclass, field

from identityserver.http.parameters import Parameters, parse_form


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
    client_certificate: bytes | None = None
    """The DER client certificate of the TLS connection or of a trusted proxy's ``Client-Cert`` header (RFC 8705,
    RFC 9440; ``hosting/client_certificates.py``); ``None`` without one or while mutual TLS is off."""
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
