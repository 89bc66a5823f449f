"""Registration request validation (Duende ``DynamicClientRegistrationValidator``; RFC 7591 §2, §3.2.2).

A registered client is untrusted: it gets PKCE and consent whatever it asks, only the grants and scopes its
registration policy allows (registration/policy.py), redirect URIs that are https, loopback http (RFC 8252 §7.3)
or private-use schemes (RFC 8252 §7.1), and descriptive URIs that name public hosts. Fields that would grant
privileges (``client_id``, ``client_secret``, ``require_pkce`` ...) are ignored, as RFC 7591 §2 asks for unknown
metadata. A software statement (RFC 7591 §2.3) is verified and its claims take precedence."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from identityserver._utils.egress import is_public_https_url
from identityserver.clock import Clock, SystemClock
from identityserver.constants import GrantType, SecretTypes, StandardScopes, TokenEndpointAuthMethods
from identityserver.crypto.jwk import JwkError, has_private_members, load_public_jwk
from identityserver.models.client import Client, Secret
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.registration.policy import REGISTRABLE_GRANTS, RegistrationPolicy
from identityserver.registration.software_statement import (
    UNAPPROVED_SOFTWARE_STATEMENT,
    SoftwareStatementError,
    SoftwareStatementValidator,
)
from identityserver.services.backchannel_logout import DYNAMIC_REGISTRATION_PROPERTY
from identityserver.stores.protocols import ResourceStore

INVALID_CLIENT_METADATA = "invalid_client_metadata"
INVALID_REDIRECT_URI = "invalid_redirect_uri"
#: Client properties a registration writes: the policy it was made under and its software statement.
POLICY_PROPERTY = "identityserver:registration_policy"
SOFTWARE_STATEMENT_PROPERTY = "identityserver:software_statement"
#: Grants usable without the code flow (client authentication only, or the user's password).
NON_CODE_GRANTS = frozenset(REGISTRABLE_GRANTS - {GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN})
AUTH_METHODS = (
    TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
    TokenEndpointAuthMethods.CLIENT_SECRET_POST,
    TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
    TokenEndpointAuthMethods.NONE,
)
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1", "localhost")
MAX_URIS = 20
LIFETIMES = {"access_token_lifetime": 86400, "identity_token_lifetime": 3600, "authorization_code_lifetime": 600}


class RegistrationError(ValueError):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(slots=True)
class ValidatedRegistration:
    client: Client
    metadata: dict[str, Any] = field(default_factory=dict)
    """The registered metadata, echoed in the response (RFC 7591 §3.2.1)."""
    needs_secret: bool = True


def _string(body: dict[str, Any], name: str, max_length: int = 2000) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise RegistrationError(
            INVALID_CLIENT_METADATA, f"{name} must be a non-empty string of at most {max_length} characters"
        )
    return value


def _string_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_URIS or not all(isinstance(v, str) and v for v in value):
        raise RegistrationError(INVALID_CLIENT_METADATA, f"{name} must be an array of at most {MAX_URIS} strings")
    return list(dict.fromkeys(value))


def is_acceptable_redirect_uri(uri: str) -> bool:
    """https anywhere; http only on loopback (RFC 8252 §7.3); reverse-domain private-use schemes (§7.1)."""
    if len(uri) > 400 or "#" in uri or any(ch.isspace() or ord(ch) < 0x20 for ch in uri):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme == "https":
        return bool(parts.netloc) and "@" not in parts.netloc
    if scheme == "http":
        return (parts.hostname or "") in LOOPBACK_HOSTS and "@" not in parts.netloc
    return "." in scheme and scheme not in ("javascript", "data", "file", "vbscript")


def _https_uri(body: dict[str, Any], name: str) -> str | None:
    """OIDC Registration §2: these URIs use https. They must also name a public host: the server calls some
    (back-channel logout) and browsers of other users load or follow the others (logo, client, initiate login,
    policy, terms), so none may point at loopback, link-local or private networks (issue 16 item 7)."""
    value = _string(body, name)
    if value is None:
        return None
    if not (is_acceptable_redirect_uri(value) and value.lower().startswith("https:")):
        raise RegistrationError(INVALID_CLIENT_METADATA, f"{name} must be an https URL")
    if not is_public_https_url(value):
        raise RegistrationError(INVALID_CLIENT_METADATA, f"{name} must name a public host")
    return value


class DynamicClientRegistrationValidator:
    """Turns registration metadata (RFC 7591 §2) into a ``Client``, refusing what this server does not support; override
    a step to accept more or less."""

    def __init__(
        self,
        resources: ResourceStore,
        options: DynamicClientRegistrationOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.resources = resources
        self.options = options or DynamicClientRegistrationOptions()
        self.statements = SoftwareStatementValidator(self.options, clock or SystemClock())

    async def validate(self, body: dict[str, Any], policy: RegistrationPolicy | None = None) -> ValidatedRegistration:
        """Raise ``RegistrationError`` with the RFC 7591 §3.2.2 error, or return the client to create under
        ``policy`` (the default policy when ``None``)."""
        policy = policy or RegistrationPolicy()
        statement = body.get("software_statement")
        if statement is not None:
            try:
                # RFC 7591 §2.3: the statement's values take precedence over those sent in the clear
                body = {**body, **self.statements.verify(statement)}
            except SoftwareStatementError as exc:
                raise RegistrationError(exc.error, exc.description) from exc
        elif self.options.require_software_statement:
            raise RegistrationError(UNAPPROVED_SOFTWARE_STATEMENT, "a software statement is required")
        grants = _string_list(body, "grant_types") or [GrantType.AUTHORIZATION_CODE]  # RFC 7591 §2 default
        unsupported = [g for g in grants if g not in REGISTRABLE_GRANTS]
        if unsupported:
            raise RegistrationError(INVALID_CLIENT_METADATA, f"grant type {unsupported[0]!r} is not supported")
        refused = [g for g in grants if g not in policy.grant_types]
        if refused:
            raise RegistrationError(
                INVALID_CLIENT_METADATA, f"grant type {refused[0]!r} is not open to registered clients"
            )
        code = GrantType.AUTHORIZATION_CODE in grants
        if GrantType.REFRESH_TOKEN in grants and not code:
            raise RegistrationError(INVALID_CLIENT_METADATA, "refresh_token needs authorization_code")
        response_types = _string_list(body, "response_types")
        if response_types is not None and (not code or response_types != ["code"]):
            raise RegistrationError(INVALID_CLIENT_METADATA, 'only response_types ["code"] is supported')
        client = Client(
            client_id="",
            properties={DYNAMIC_REGISTRATION_PROPERTY: "true", POLICY_PROPERTY: policy.name},
            require_pkce=True,
            require_consent=True,
            allow_plain_text_pkce=False,
            allowed_grant_types=[g for g in grants if g != GrantType.REFRESH_TOKEN],
            allow_offline_access=GrantType.REFRESH_TOKEN in grants,
        )
        metadata: dict[str, Any] = {"grant_types": grants}
        if code:
            metadata["response_types"] = ["code"]
        self.validate_redirect_uris(body, client, metadata, code)
        needs_secret = self.validate_authentication(body, client, metadata, grants)
        await self.validate_scope(body, client, metadata, code, policy)
        self.validate_descriptive(body, client, metadata)
        if isinstance(statement, str):
            client.properties[SOFTWARE_STATEMENT_PROPERTY] = metadata["software_statement"] = statement
        return ValidatedRegistration(client, metadata, needs_secret)

    def validate_redirect_uris(
        self, body: dict[str, Any], client: Client, metadata: dict[str, Any], code: bool
    ) -> None:
        """``redirect_uris`` (required for, and only with, ``authorization_code``) and ``post_logout_redirect_uris``,
        each acceptable (RFC 7591 §2, RFC 9700 §4.1)."""
        redirect_uris = _string_list(body, "redirect_uris") or []
        if code and not redirect_uris:
            raise RegistrationError(INVALID_REDIRECT_URI, "redirect_uris are required for authorization_code")
        if redirect_uris and not code:
            raise RegistrationError(INVALID_REDIRECT_URI, "redirect_uris need the authorization_code grant")
        for name in ("redirect_uris", "post_logout_redirect_uris"):
            uris = redirect_uris if name == "redirect_uris" else (_string_list(body, name) or [])
            bad = [u for u in uris if not is_acceptable_redirect_uri(u)]
            if bad:
                problem = f"{name} contains an unacceptable URI: {bad[0][:100]}"
                raise RegistrationError(INVALID_REDIRECT_URI, problem)
            setattr(client, name, uris)
            if uris:
                metadata[name] = uris

    def validate_authentication(
        self, body: dict[str, Any], client: Client, metadata: dict[str, Any], grants: list[str]
    ) -> bool:
        """The token endpoint authentication method (a shared secret, ``private_key_jwt`` with ``jwks``, or ``none``
        for public clients); whether the endpoint must generate a secret."""
        if body.get("jwks_uri") is not None:
            raise RegistrationError(INVALID_CLIENT_METADATA, "jwks_uri is not supported; send the keys in jwks")
        jwks = body.get("jwks")
        method = _string(body, "token_endpoint_auth_method", 50) or (
            TokenEndpointAuthMethods.PRIVATE_KEY_JWT
            if jwks is not None
            else TokenEndpointAuthMethods.CLIENT_SECRET_BASIC
        )
        if method not in AUTH_METHODS:
            raise RegistrationError(INVALID_CLIENT_METADATA, f"token_endpoint_auth_method {method!r} is not supported")
        client.token_endpoint_auth_method = method
        metadata["token_endpoint_auth_method"] = method
        if method == TokenEndpointAuthMethods.NONE:
            needing = [g for g in grants if g in NON_CODE_GRANTS]
            if needing:
                raise RegistrationError(INVALID_CLIENT_METADATA, f"{needing[0]} needs client authentication")
            client.require_client_secret = False
            return False
        if method == TokenEndpointAuthMethods.PRIVATE_KEY_JWT:
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
                raise RegistrationError(INVALID_CLIENT_METADATA, "private_key_jwt needs jwks with at least one key")
            if len(jwks["keys"]) > 10:
                raise RegistrationError(INVALID_CLIENT_METADATA, "jwks may hold at most 10 keys")
            kids = [k.get("kid") for k in jwks["keys"] if isinstance(k, dict) and k.get("kid") is not None]
            if len(kids) != len(set(map(str, kids))):
                raise RegistrationError(INVALID_CLIENT_METADATA, "jwks key ids must be unique (RFC 7517 §4.5)")
            for key in jwks["keys"]:
                if not isinstance(key, dict) or has_private_members(key):
                    raise RegistrationError(INVALID_CLIENT_METADATA, "jwks must contain public keys only")
                try:
                    load_public_jwk(key)
                except JwkError as exc:
                    raise RegistrationError(INVALID_CLIENT_METADATA, f"jwks: {exc}") from exc
                client.client_secrets.append(Secret(json.dumps(key), SecretTypes.JSON_WEB_KEY))
            metadata["jwks"] = jwks
            return False
        if jwks is not None:
            raise RegistrationError(INVALID_CLIENT_METADATA, "jwks needs token_endpoint_auth_method private_key_jwt")
        return True

    async def validate_scope(
        self,
        body: dict[str, Any],
        client: Client,
        metadata: dict[str, Any],
        code: bool,
        policy: RegistrationPolicy | None = None,
    ) -> None:
        """Requested scopes must exist and be open to registered clients (``allowed_scopes``, by default the
        identity scopes, plus the policy's); identity scopes need the code flow; ``openid`` by default."""
        policy = policy or RegistrationPolicy()
        scope = _string(body, "scope", 1000)
        requested = [s for s in (scope or "").split(" ") if s]
        if not requested:
            if not code:
                raise RegistrationError(INVALID_CLIENT_METADATA, "scope is required without authorization_code")
            requested = [StandardScopes.OPENID]
        requested = [s for s in dict.fromkeys(requested) if s != StandardScopes.OFFLINE_ACCESS]
        identity = {r.name for r in await self.resources.find_identity_resources_by_scope_name(requested) if r.enabled}
        api = {s.name for s in await self.resources.find_api_scopes_by_name(requested) if s.enabled}
        unknown = [s for s in requested if s not in identity | api]
        if unknown:
            raise RegistrationError(INVALID_CLIENT_METADATA, f"scope {unknown[0]!r} is not available")
        allowed = identity if self.options.allowed_scopes is None else set(self.options.allowed_scopes)
        closed = [s for s in requested if s not in allowed and s not in policy.scopes]
        if closed:
            raise RegistrationError(INVALID_CLIENT_METADATA, f"scope {closed[0]!r} is not open to registered clients")
        if identity and not code:
            raise RegistrationError(INVALID_CLIENT_METADATA, "identity scopes need the authorization_code grant")
        client.allowed_scopes = requested
        metadata["scope"] = " ".join(
            requested + ([StandardScopes.OFFLINE_ACCESS] if client.allow_offline_access else [])
        )

    def validate_descriptive(self, body: dict[str, Any], client: Client, metadata: dict[str, Any]) -> None:
        """``client_name`` and the https URIs (client, logo, initiate login, front- and back-channel logout)."""
        name = _string(body, "client_name", 200)
        if name is not None:
            client.client_name = metadata["client_name"] = name
        for field_name, attribute in (
            ("client_uri", "client_uri"),
            ("logo_uri", "logo_uri"),
            ("initiate_login_uri", "initiate_login_uri"),
            ("frontchannel_logout_uri", "front_channel_logout_uri"),
            ("backchannel_logout_uri", "back_channel_logout_uri"),
            ("policy_uri", None),
            ("tos_uri", None),
        ):
            value = _https_uri(body, field_name)
            if value is not None and attribute is not None:  # policy and terms URIs are checked, not kept
                setattr(client, attribute, value)
                metadata[field_name] = value
        for field_name, attribute in (
            ("frontchannel_logout_session_required", "front_channel_logout_session_required"),
            ("backchannel_logout_session_required", "back_channel_logout_session_required"),
        ):
            value = body.get(field_name)
            if value is not None:
                if not isinstance(value, bool):
                    raise RegistrationError(INVALID_CLIENT_METADATA, f"{field_name} must be a boolean")
                setattr(client, attribute, value)
                metadata[field_name] = value
        max_age = body.get("default_max_age")
        if max_age is not None:
            if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 < max_age <= 10**9:
                raise RegistrationError(INVALID_CLIENT_METADATA, "default_max_age must be a positive integer")
            client.user_sso_lifetime = metadata["default_max_age"] = max_age
        for field_name, maximum in LIFETIMES.items():
            value = body.get(field_name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
                    raise RegistrationError(
                        INVALID_CLIENT_METADATA, f"{field_name} must be a positive integer of at most {maximum}"
                    )
                setattr(client, field_name, value)
                metadata[field_name] = value
