"""Finding the access token of a request (Duende ``BearerTokenUsageValidator``; RFC 6750 §2.1, §2.2;
RFC 9449 §7.1). Query-string tokens (RFC 6750 §2.3) are not accepted."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver._utils.forms import FormError
from identityserver.endpoints.base import EndpointRequest


@dataclass(slots=True)
class BearerTokenUsage:
    token: str | None = None
    scheme: str | None = None
    """``Bearer`` or ``DPoP`` (header), or ``Bearer`` for the form body."""
    error: str | None = None


def find_access_token(request: EndpointRequest) -> BearerTokenUsage:
    headers = request.header_values("authorization")
    if len(headers) > 1:
        return BearerTokenUsage(error="more than one Authorization header")
    if headers:
        scheme, _, token = headers[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            return BearerTokenUsage(token, "Bearer")
        if scheme.lower() == "dpop" and token:
            return BearerTokenUsage(token, "DPoP")
        return BearerTokenUsage(error="unsupported authorization scheme")
    if request.method == "POST" and request.is_form():
        try:
            form = request.form()
        except (FormError, UnicodeDecodeError):
            return BearerTokenUsage(error="malformed form body")
        if form.duplicated() is None and form.get("access_token"):
            return BearerTokenUsage(form.get("access_token"), "Bearer")
    return BearerTokenUsage()
