"""Finding the access token of a request (Duende ``BearerTokenUsageValidator``; RFC 6750 §2.1, §2.2;
RFC 9449 §7.1). Query-string tokens (RFC 6750 §2.3) are not accepted."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.http.parameters import FormError
from identityserver.http.request import EndpointRequest


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
    body_token = _form_token(request)
    if headers and body_token is not None:
        return BearerTokenUsage(error="the access token was sent in more than one way")  # RFC 6750 §2
    if headers:
        scheme, _, token = headers[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            return BearerTokenUsage(token, "Bearer")
        if scheme.lower() == "dpop" and token:
            return BearerTokenUsage(token, "DPoP")
        return BearerTokenUsage(error="unsupported authorization scheme")
    if body_token:
        return BearerTokenUsage(body_token, "Bearer")
    return BearerTokenUsage()


def _form_token(request: EndpointRequest) -> str | None:
    """``access_token`` of a form-encoded POST body (RFC 6750 §2.2), if any."""
    if request.method != "POST" or not request.is_form():
        return None
    try:
        form = request.form()
    except FormError:
        return None
    if form.duplicated() is not None:
        return None
    return form.get("access_token")
