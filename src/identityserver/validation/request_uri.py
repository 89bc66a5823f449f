"""``request_uri`` at the authorize endpoint: a pushed request's reference (RFC 9126 §4) or a request object by
reference (RFC 9101 §5.2, OIDC Core §6.2; Duende ``AuthorizeRequestValidator.LoadRequestObjectAsync``).

A pushed request replaces the parameters sent beside it (RFC 9126 §4: only ``client_id`` and ``request_uri`` are
used); a request object by reference is fetched from a URI the client registered, through the outgoing-call guards
(https, public addresses, no redirects, bounded size and time), and then validated like one sent by value."""

from __future__ import annotations

from identityserver.constants import AuthorizeErrors
from identityserver.options import IdentityServerOptions
from identityserver.services.pushed_authorization import REQUEST_URI_PREFIX, PushedAuthorizationService
from identityserver.services.request_uri_fetch import JwtRequestUriFetcher, RequestUriError
from identityserver.validation.authorize_results import ValidatedAuthorizeRequest

#: RFC 9101 §5.2: the client keeps request_uri short; 512 ASCII characters is the limit it states.
MAX_REQUEST_URI_LENGTH = 512
#: Parameters the engine adds to a resumed request; the only ones kept beside a pushed request's reference.
ENGINE_PARAMETERS = ("suppressed_prompt",)


class RequestUriResolver:
    """Turns ``request_uri`` into parameters: a pushed request's (:meth:`load_pushed`) or a ``request`` object
    fetched by reference (:meth:`load_by_reference`)."""

    def __init__(
        self,
        options: IdentityServerOptions,
        pushed_requests: PushedAuthorizationService,
        fetcher: JwtRequestUriFetcher,
    ) -> None:
        self.options = options
        self.pushed_requests = pushed_requests
        self.fetcher = fetcher

    def requires_pushed_authorization(self, request: ValidatedAuthorizeRequest) -> bool:
        """RFC 9126 §5-6: the server-wide option or the client's ``require_pushed_authorization``."""
        return self.options.pushed_authorization.required or request.client.require_pushed_authorization

    async def resolve(self, request: ValidatedAuthorizeRequest) -> RequestUriError | None:
        """Load what ``request_uri`` names into ``request``, then require a pushed request where the client or the
        server does (RFC 9126 §5-6); the error when the request cannot be used."""
        if "request_uri" in request.raw:
            unusable = await self.load_request_uri(request, request.raw["request_uri"])
            if unusable is not None:
                return unusable
        if not request.pushed_authorization and self.requires_pushed_authorization(request):
            return RequestUriError(
                AuthorizeErrors.INVALID_REQUEST, "the client must use pushed authorization (RFC 9126)"
            )
        return None

    async def load_request_uri(self, request: ValidatedAuthorizeRequest, request_uri: str) -> RequestUriError | None:
        """A pushed request's reference or a request object by reference."""
        if "request" in request.raw:
            # RFC 9101 §5: request and request_uri are alternatives
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST, "request and request_uri cannot both be sent")
        pushed = request_uri.startswith(REQUEST_URI_PREFIX)
        if not pushed and not self.options.endpoints.enable_jwt_request_uri:
            return RequestUriError(AuthorizeErrors.REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported")
        if not request_uri or len(request_uri) > MAX_REQUEST_URI_LENGTH:
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST_URI, "request_uri is missing or too long")
        if pushed:
            return await self.load_pushed(request, request_uri)
        return await self.load_by_reference(request, request_uri)

    async def load_pushed(self, request: ValidatedAuthorizeRequest, request_uri: str) -> RequestUriError | None:
        """RFC 9126 §4: the pushed parameters, for the client that pushed them, before they expire; the authorize
        endpoint takes the reference (one-time) when it uses it."""
        pushed = await self.pushed_requests.get(request_uri)
        if pushed is None or pushed.client_id != request.client_id:
            return RequestUriError(
                AuthorizeErrors.INVALID_REQUEST_URI,
                "request_uri is unknown, expired, already used, or was pushed by another client",
            )
        raw = dict(pushed.parameters)
        raw["client_id"] = request.client_id
        for name in ENGINE_PARAMETERS:
            if name in request.raw:
                raw[name] = request.raw[name]
        request.raw = raw
        request.requested_resource_indicators = list(pushed.resources)
        request.request_object_used = pushed.request_object_used
        request.pushed_authorization = pushed.pushed
        request.pushed_request_uri = request_uri
        # RFC 9126 §4: parameters outside the pushed request are ignored, so their repetition does not matter
        request.repeated_parameters = []
        return None

    async def load_by_reference(self, request: ValidatedAuthorizeRequest, request_uri: str) -> RequestUriError | None:
        """RFC 9101 §5.2: only when enabled, only a URI the client registered (exact match); the fetched object
        then goes through the by-value checks as ``request``."""
        if request_uri not in request.client.request_uris:
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST_URI, "request_uri is not registered for the client")
        fetched = await self.fetcher.fetch(request_uri)
        if isinstance(fetched, RequestUriError):
            return fetched
        request.raw.pop("request_uri", None)
        request.raw["request"] = fetched
        return None
