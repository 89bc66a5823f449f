"""Messages exchanged between the engine and the UI (Duende ``AuthorizationRequest``, ``ConsentResponse``,
``ErrorMessage``, ``LogoutRequest``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult


class AuthorizationError(StrEnum):
    """Errors the UI may return to the client instead of consenting (OIDC Core §3.1.2.6, RFC 9470 §3)."""

    ACCESS_DENIED = "access_denied"
    INTERACTION_REQUIRED = "interaction_required"
    LOGIN_REQUIRED = "login_required"
    ACCOUNT_SELECTION_REQUIRED = "account_selection_required"
    CONSENT_REQUIRED = "consent_required"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    UNMET_AUTHENTICATION_REQUIREMENTS = "unmet_authentication_requirements"


@dataclass(slots=True)
class AuthorizationRequest:
    """What the UI learns about a pending authorize request (Duende ``AuthorizationRequest``)."""

    client: Client
    redirect_uri: str
    validated_resources: ResourceValidationResult
    parameters: dict[str, str]
    request_id: str
    """Identifies the request (hash of its parameters); consent answers are bound to it."""
    display_mode: str | None = None
    ui_locales: str | None = None
    idp: str | None = None
    tenant: str | None = None
    login_hint: str | None = None
    prompt_modes: list[str] = field(default_factory=list)
    acr_values: list[str] = field(default_factory=list)
    requested_scopes: list[str] = field(default_factory=list)
    requested_claims: list[str] = field(default_factory=list)
    """User claims asked for individually by the ``claims`` parameter (OIDC Core §5.5) beyond the scopes."""


@dataclass(slots=True)
class ConsentResponse:
    """The user's answer on the consent page, or an error the UI sends back to the client."""

    scopes_values_consented: list[str] = field(default_factory=list)
    remember_consent: bool = False
    description: str | None = None
    error: AuthorizationError | None = None
    error_description: str | None = None

    @property
    def granted(self) -> bool:
        return self.error is None and bool(self.scopes_values_consented)


@dataclass(slots=True)
class ErrorMessage:
    """Shown on the error page; never contains request text that was not validated."""

    error: str
    error_description: str | None = None
    client_id: str | None = None
    redirect_uri: str | None = None
    response_mode: str | None = None
    display_mode: str | None = None
    ui_locales: str | None = None
    request_id: str | None = None


@dataclass(slots=True)
class LogoutMessage:
    """The context of a sign-out (Duende ``LogoutMessage``/``LogoutRequest``)."""

    client_id: str | None = None
    client_name: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None
    subject_id: str | None = None
    session_id: str | None = None
    client_ids: list[str] = field(default_factory=list)
    ui_locales: str | None = None
    show_signout_prompt: bool = True
    hint_subject_id: str | None = None
    """The ``sub`` of a valid ``id_token_hint``: the prompt is skipped only for that user (RP-Initiated §2)."""
    front_channel_logout_urls: list[str] = field(default_factory=list)

    def prompt_needed(self, current_subject_id: str) -> bool:
        """Ask the user unless a valid hint names exactly the signed-in user (no logout CSRF)."""
        return self.show_signout_prompt or self.hint_subject_id != current_subject_id
