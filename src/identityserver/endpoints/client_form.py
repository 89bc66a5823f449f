"""The preamble of the endpoints that take a form POST from an authenticated client (token, device authorization,
PAR, CIBA): method and content type, strict parsing, repeated parameters, and the client authentication error."""

from __future__ import annotations

from collections.abc import Iterable

from identityserver.constants import TokenErrors
from identityserver.endpoints.results import StatusCodeResult, TokenErrorResult
from identityserver.http.parameters import FormError, Parameters
from identityserver.http.request import EndpointRequest
from identityserver.validation.results import ClientSecretValidationResult

#: RFC 6749 §5.2: the challenge for a client that authenticated with HTTP Basic.
BASIC_CHALLENGE = 'Basic realm="identityserver"'


def read_client_form(
    request: EndpointRequest, *, repeatable: Iterable[str] = (), checked: Iterable[str] | None = None
) -> Parameters | TokenErrorResult | StatusCodeResult:
    """The POSTed form, or the error: 405 for another method, ``invalid_request`` for another content type, a body
    that does not parse, or a repeated parameter (RFC 6749 §3.2: "parameters MUST NOT be included more than once").
    ``repeatable`` names the parameters that may repeat (RFC 8707 ``resource``); ``checked``, when given, limits the
    check to those names (RFC 9126 §2.1 lets a pushed request carry any authorize parameter, repeated or not)."""
    if request.method != "POST":
        return StatusCodeResult(405, {"Allow": "POST"})
    if not request.is_form():
        return TokenErrorResult(TokenErrors.INVALID_REQUEST, "the request must be application/x-www-form-urlencoded")
    try:
        form = request.form()
    except FormError:
        return TokenErrorResult(TokenErrors.INVALID_REQUEST, "the request body cannot be parsed")
    if checked is not None:
        repeated = next((name for name in checked if name in form.repeated), None)
    else:
        repeated = form.duplicated(repeatable)
    if repeated is not None:
        return TokenErrorResult(TokenErrors.INVALID_REQUEST, f"parameter '{repeated}' was sent more than once")
    return form


def client_authentication_error(result: ClientSecretValidationResult) -> TokenErrorResult:
    """The error for a client that did not authenticate: 401 with a Basic challenge when the failed credentials came
    in the Authorization header (RFC 6749 §5.2), else 400 with the validator's error."""
    if result.error == TokenErrors.INVALID_CLIENT and result.from_authorization_header:
        return TokenErrorResult(
            TokenErrors.INVALID_CLIENT, result.error_description, status=401, www_authenticate=BASIC_CHALLENGE
        )
    return TokenErrorResult(result.error or TokenErrors.INVALID_CLIENT, result.error_description)
