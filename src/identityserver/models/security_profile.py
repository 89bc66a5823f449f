"""Security profiles a client (or the whole server) can follow: the FAPI 2.0 Security Profile (final, 2025) and
FAPI 2.0 Message Signing. ``apply_security_profile`` turns a client into the client the profile allows, so the
ordinary pipeline enforces most clauses with its own errors; docs/fapi.md maps each clause to its check."""

from __future__ import annotations

import dataclasses
from typing import Final

from identityserver.constants import GrantType, TokenEndpointAuthMethods
from identityserver.models.client import Client, TokenUsage

FAPI2: Final = "fapi2"
FAPI2_MESSAGE_SIGNING: Final = "fapi2_message_signing"
SECURITY_PROFILES: Final = (FAPI2, FAPI2_MESSAGE_SIGNING)

#: FAPI 2.0 SP §5.4.1: PS256, ES256 or EdDSA (Ed25519) for every signature.
FAPI_SIGNING_ALGORITHMS: Final = ("PS256", "ES256", "EdDSA")
#: FAPI 2.0 SP §5.3.2.1: client authentication by mTLS (RFC 8705) or ``private_key_jwt``.
FAPI_AUTH_METHODS: Final = (
    TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
    "tls_client_auth",
    "self_signed_tls_client_auth",
)
#: FAPI 2.0 SP §5.3.2.2: authorization codes live at most 60 seconds.
FAPI_MAX_CODE_LIFETIME: Final = 60
#: FAPI 2.0 SP §5.3.2.1: only the code flow (no implicit or hybrid tokens in the front channel, no ROPC).
FAPI_FORBIDDEN_GRANTS: Final = (GrantType.IMPLICIT, GrantType.HYBRID, GrantType.PASSWORD)
#: The client field of RFC 8705 §3.4 certificate binding: a client bound by mTLS needs no DPoP.
MTLS_BINDING_FIELD: Final = "tls_client_certificate_bound_access_tokens"


def security_profile_of(client: Client, default: str | None = None) -> str | None:
    """The profile ``client`` follows: its own setting, else the server's default."""
    return client.security_profile or default


def is_mtls_bound(client: Client) -> bool:
    """Whether the client's tokens are bound to its TLS certificate (RFC 8705), which sender-constrains them
    without DPoP (the mTLS feature adds the field; until then no client is)."""
    return bool(getattr(client, MTLS_BINDING_FIELD, False))


def apply_security_profile(client: Client, default: str | None = None) -> Client:
    """``client`` as its security profile allows it (a copy; the stored client is unchanged), or ``client`` itself
    when it follows none. Each setting the profile fixes is overridden here, so that the ordinary checks refuse
    what the profile forbids with their usual errors."""
    profile = security_profile_of(client, default)
    if profile not in SECURITY_PROFILES:
        return client
    method = client.token_endpoint_auth_method
    signing = [a for a in client.allowed_identity_token_signing_algorithms if a in FAPI_SIGNING_ALGORITHMS]
    return dataclasses.replace(
        client,
        security_profile=profile,
        # §5.3.2.1: confidential clients only, authenticated by private_key_jwt or mTLS
        require_client_secret=True,
        token_endpoint_auth_method=method if method in FAPI_AUTH_METHODS else TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
        allowed_grant_types=[g for g in client.allowed_grant_types if g not in FAPI_FORBIDDEN_GRANTS],
        allow_access_tokens_via_browser=False,
        # §5.3.2.2: PAR, PKCE with S256 only
        require_pushed_authorization=True,
        require_pkce=True,
        allow_plain_text_pkce=False,
        # §5.3.2.1: sender-constrained access tokens (DPoP unless the client is bound by mTLS)
        require_dpop=client.require_dpop or not is_mtls_bound(client),
        # §5.3.2.1: authorization codes of at most 60 s; refresh tokens not rotated
        authorization_code_lifetime=min(client.authorization_code_lifetime, FAPI_MAX_CODE_LIFETIME),
        refresh_token_usage=TokenUsage.RE_USE,
        # §5.4.1: PS256, ES256 or EdDSA
        allowed_identity_token_signing_algorithms=signing or list(FAPI_SIGNING_ALGORITHMS),
        # Message Signing §5.3: signed request objects (JAR) required
        require_request_object=client.require_request_object or profile == FAPI2_MESSAGE_SIGNING,
    )


def client_setting_problem(client: Client, signing_algorithms: tuple[str, ...]) -> tuple[str, str] | None:
    """``(field, problem)`` of a client whose ``security_profile`` or ``authorization_signed_response_alg`` cannot
    be honoured with ``signing_algorithms`` (the algorithms the server signs with)."""
    if client.security_profile is not None and client.security_profile not in SECURITY_PROFILES:
        return "security_profile", f"expected one of {', '.join(SECURITY_PROFILES)}"
    alg = client.authorization_signed_response_alg
    if alg is not None and alg not in signing_algorithms:
        return "authorization_signed_response_alg", f"{alg!r} is not one of {', '.join(signing_algorithms)}"
    if client.security_profile is not None and alg is not None and alg not in FAPI_SIGNING_ALGORITHMS:
        return "authorization_signed_response_alg", f"FAPI 2.0 allows only {', '.join(FAPI_SIGNING_ALGORITHMS)}"
    return None
