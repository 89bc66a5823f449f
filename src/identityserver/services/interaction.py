"""The UI's only door into the engine (Duende ``DefaultIdentityServerInteractionService``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from urllib.parse import urlencode

from identityserver._utils.urls import split_authorize_callback_url
from identityserver.events import ConsentDeniedEvent, ConsentGrantedEvent, GrantsRevokedEvent
from identityserver.models.client import Client
from identityserver.models.grants import Consent
from identityserver.models.messages import (
    AuthorizationError,
    AuthorizationRequest,
    ConsentResponse,
    ErrorMessage,
    LogoutMessage,
)
from identityserver.services.protocols import ConsentService, EventService, MessageStore, ReturnUrlParser
from identityserver.stores.protocols import ClientStore, ReplayCache

CONSENT_PARAMETER = "consent_response"
#: Parameters the engine adds while resuming; they do not change the identity of the request.
_RESUME_PARAMETERS = (CONSENT_PARAMETER, "suppressed_prompt")


def request_id(parameters: dict[str, str], resources: list[str], subject_id: str | None) -> str:
    """Binds a consent answer to exactly this request and this user."""
    stable = {k: v for k, v in sorted(parameters.items()) if k not in _RESUME_PARAMETERS}
    material = json.dumps([stable, sorted(resources), subject_id or ""], separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class DefaultIdentityServerInteractionService:
    """The default ``IdentityServerInteractionService``: what the login, consent, logout and error pages call into
    (Duende ``DefaultIdentityServerInteractionService``)."""

    def __init__(
        self,
        return_url_parser: ReturnUrlParser,
        messages: MessageStore,
        consents: ConsentService,
        clients: ClientStore,
        events: EventService,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        self.replay_cache = replay_cache
        self.return_url_parser = return_url_parser
        self.messages = messages
        self.consents = consents
        self.clients = clients
        self.events = events

    async def get_authorization_context(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request behind a login/consent ``returnUrl``; ``None`` when it is not one."""
        return await self.return_url_parser.parse(return_url, issuer)

    def is_valid_return_url(self, return_url: str | None) -> bool:
        """True for the authorize callback URL of a pending request (and only local URLs)."""
        return split_authorize_callback_url(return_url) is not None

    async def grant_consent(
        self, request: AuthorizationRequest, response: ConsentResponse, subject_id: str, return_url: str
    ) -> str:
        """Record the user's answer and return the URL that resumes the request."""
        event_type = ConsentGrantedEvent if response.granted else ConsentDeniedEvent
        await self.events.raise_event(
            event_type(
                subject_id=subject_id,
                client_id=request.client.client_id,
                scopes=" ".join(response.scopes_values_consented),
                remember_consent=response.remember_consent,
                requested_scopes=" ".join(request.requested_scopes),
            )
        )
        return await self._resume_url(request, response, subject_id, return_url)

    async def deny_authorization(
        self,
        request: AuthorizationRequest,
        error: AuthorizationError,
        return_url: str,
        subject_id: str | None = None,
        description: str | None = None,
    ) -> str:
        """Answer the client with ``error`` (e.g. ``access_denied``, ``unmet_authentication_requirements``)."""
        response = ConsentResponse(error=error, error_description=description)
        return await self._resume_url(request, response, subject_id, return_url)

    async def _resume_url(
        self, request: AuthorizationRequest, response: ConsentResponse, subject_id: str | None, return_url: str
    ) -> str:
        split = split_authorize_callback_url(return_url)
        if split is None:
            raise ValueError("return_url is not an authorize callback URL")
        params, resources = split
        payload = dataclasses.asdict(response)
        payload["error"] = response.error.value if response.error else None
        token = await self.messages.write(
            "consent",
            {
                "request_id": request_id(params, resources, subject_id),
                "response": payload,
            },
        )
        base = return_url.split("?", 1)[0]
        query = {k: v for k, v in params.items() if k != CONSENT_PARAMETER}
        pairs = list(query.items()) + [("resource", r) for r in resources] + [(CONSENT_PARAMETER, token)]
        return base + "?" + urlencode(pairs)

    async def read_consent_response(
        self, token: str | None, parameters: dict[str, str], resources: list[str], subject_id: str | None
    ) -> ConsentResponse | None:
        """The consent answer for exactly this request and user, else ``None`` (tampered, stale or foreign)."""
        data = await self.messages.read("consent", token)
        if data is None or data.get("request_id") != request_id(parameters, resources, subject_id):
            return None
        if (
            self.replay_cache is not None
            and token is not None
            and not await self.replay_cache.add(
                "consent_response", hashlib.sha256(token.encode("ascii", "replace")).hexdigest(), self.messages.lifetime
            )
        ):
            return None  # each answer resumes its request once (IdentityServer deletes the consent message)
        raw = data.get("response") or {}
        try:
            error = AuthorizationError(raw["error"]) if raw.get("error") else None
            return ConsentResponse(
                list(raw.get("scopes_values_consented") or []),
                bool(raw.get("remember_consent")),
                raw.get("description"),
                error,
                raw.get("error_description"),
            )
        except (ValueError, KeyError):
            return None

    async def create_error_id(self, message: ErrorMessage) -> str:
        """Seal an error message for the error page; the id travels in its URL."""
        return await self.messages.write("error", dataclasses.asdict(message))

    async def get_error_context(self, error_id: str | None) -> ErrorMessage | None:
        """The error message behind an error id, or ``None`` when it is unreadable or expired."""
        data = await self.messages.read("error", error_id)
        if data is None:
            return None
        try:
            return ErrorMessage(**data)
        except TypeError:
            return None

    async def create_logout_id(self, message: LogoutMessage) -> str:
        """Seal a logout message for the logout pages; the id travels in their URLs."""
        return await self.messages.write("logout", dataclasses.asdict(message))

    async def get_logout_context(self, logout_id: str | None) -> LogoutMessage | None:
        """The logout message behind a logout id, or ``None`` when it is unreadable or expired."""
        data = await self.messages.read("logout", logout_id)
        if data is None:
            return None
        try:
            return LogoutMessage(**data)
        except TypeError:
            return None

    async def get_all_user_grants(self, subject_id: str) -> list[tuple[Consent, Client | None]]:
        """Every remembered consent of the user with its client (``None`` when the client no longer exists)."""
        result = []
        for consent in await self.consents.get_all_consents(subject_id):
            result.append((consent, await self.clients.find_client_by_id(consent.client_id)))
        return result

    async def revoke_user_consent(self, subject_id: str, client_id: str) -> None:
        """Revoke the user's consent for the client (and what it allowed) and raise ``GrantsRevokedEvent``."""
        await self.consents.revoke_consent(subject_id, client_id)
        await self.events.raise_event(GrantsRevokedEvent(subject_id=subject_id, client_id=client_id))
