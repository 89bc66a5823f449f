"""End-session request validation (Duende ``EndSessionRequestValidator``; OIDC RP-Initiated Logout 1.0 §2-3).

``post_logout_redirect_uri`` is honoured only with a valid ``id_token_hint`` or ``client_id`` naming the
client, and only when it exactly matches one of the client's registered URIs. ``state`` only travels with an
accepted redirect URI."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.models.client import Client
from identityserver.options import InputLengthRestrictions
from identityserver.services.user_session import SessionTicket
from identityserver.stores.protocols import ClientStore
from identityserver.validation.client_configuration import INVALID_REDIRECT_URI_PREFIXES
from identityserver.validation.identity_token import IdentityTokenValidator


@dataclass(slots=True)
class ValidatedEndSessionRequest:
    client: Client | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None
    ui_locales: str | None = None
    subject_id: str | None = None
    session_id: str | None = None
    hint_subject_id: str | None = None
    has_valid_hint: bool = False


@dataclass(slots=True)
class EndSessionValidationResult:
    request: ValidatedEndSessionRequest
    error: str | None = None
    error_description: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None


def is_navigable_redirect(uri: str) -> bool:
    """Defence in depth for URIs that reached the store without the loader's checks: http(s) or a
    reverse-domain private-use scheme (RFC 8252 §7.1), never ``javascript:``, ``data:`` and the like."""
    cleaned = "".join(ch for ch in uri if ord(ch) > 0x20).lower()
    if cleaned.startswith(INVALID_REDIRECT_URI_PREFIXES) or cleaned.startswith("vbscript:"):
        return False
    scheme = cleaned.split(":", 1)[0]
    return scheme in ("http", "https") or "." in scheme


class EndSessionRequestValidator:
    """Validates end-session requests (Duende ``EndSessionRequestValidator``; OIDC RP-Initiated Logout 1.0 §2-3);
    override to change which redirects are honoured."""

    def __init__(
        self, clients: ClientStore, id_tokens: IdentityTokenValidator, limits: InputLengthRestrictions
    ) -> None:
        self.clients = clients
        self.id_tokens = id_tokens
        self.limits = limits

    async def validate(
        self, parameters: dict[str, str], issuer: str, ticket: SessionTicket | None
    ) -> EndSessionValidationResult:
        """The validated request (the client, subject and accepted ``post_logout_redirect_uri`` and ``state``), or an
        error for the error page; never an error redirect."""
        request = ValidatedEndSessionRequest()
        result = EndSessionValidationResult(request)
        if ticket is not None:
            request.subject_id, request.session_id = ticket.subject_id, ticket.session_id
        hint = parameters.get("id_token_hint")
        client_id = parameters.get("client_id")
        if client_id is not None and (not client_id or len(client_id) > self.limits.client_id):
            return self._fail(result, "client_id is malformed")
        if hint:
            if len(hint) > self.limits.id_token_hint:
                return self._fail(result, "id_token_hint is too long")
            claims = await self.id_tokens.validate(hint, issuer, client_id)
            if claims is None:
                return self._fail(result, "id_token_hint is invalid")
            aud = claims.get("aud")
            client_id = client_id or (
                aud if isinstance(aud, str) else aud[0] if isinstance(aud, list) and aud else None
            )
            request.hint_subject_id = str(claims["sub"])
            if ticket is not None and ticket.subject_id != request.hint_subject_id:
                return self._fail(result, "id_token_hint is for another user")
            request.has_valid_hint = True
        if client_id:
            client = await self.clients.find_client_by_id(client_id)
            if client is None or not client.enabled:
                return self._fail(result, "unknown client")
            request.client = client
        redirect = parameters.get("post_logout_redirect_uri")
        if redirect is not None:
            if request.client is None:
                return self._fail(result, "post_logout_redirect_uri needs id_token_hint or client_id")
            if len(redirect) > self.limits.redirect_uri or redirect not in request.client.post_logout_redirect_uris:
                return self._fail(result, "post_logout_redirect_uri is not registered for the client")
            if not is_navigable_redirect(redirect):
                return self._fail(result, "post_logout_redirect_uri uses a scheme that is never followed")
            request.post_logout_redirect_uri = redirect
            state = parameters.get("state")
            if state is not None and len(state) <= self.limits.state:
                request.state = state
        ui_locales = parameters.get("ui_locales")
        if ui_locales is not None and len(ui_locales) <= self.limits.ui_locale:
            request.ui_locales = ui_locales
        return result

    @staticmethod
    def _fail(result: EndSessionValidationResult, description: str) -> EndSessionValidationResult:
        result.error, result.error_description = "invalid_request", description
        return result
