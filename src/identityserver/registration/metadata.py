"""A registered client's current metadata (RFC 7592 §2.1 read response, RFC 7591 §2 names), derived from the stored
``Client`` so that it shows what the server enforces, including changes an administrator made."""

from __future__ import annotations

import json
from typing import Any

from identityserver.constants import GrantType, SecretTypes, StandardScopes
from identityserver.models.client import Client
from identityserver.registration.validator import LIFETIMES, SOFTWARE_STATEMENT_PROPERTY

_DEFAULTS = Client(client_id="")


def client_metadata(client: Client) -> dict[str, Any]:
    """The client's registered metadata, without credentials."""
    grants = list(client.allowed_grant_types) + ([GrantType.REFRESH_TOKEN] if client.allow_offline_access else [])
    scopes = list(client.allowed_scopes) + ([StandardScopes.OFFLINE_ACCESS] if client.allow_offline_access else [])
    metadata: dict[str, Any] = {"client_id": client.client_id, "grant_types": grants, "scope": " ".join(scopes)}
    if GrantType.AUTHORIZATION_CODE in grants:
        metadata["response_types"] = ["code"]
    if client.token_endpoint_auth_method:
        metadata["token_endpoint_auth_method"] = client.token_endpoint_auth_method
    keys = [json.loads(s.value) for s in client.client_secrets if s.type == SecretTypes.JSON_WEB_KEY]
    if keys:
        metadata["jwks"] = {"keys": keys}
    for name, value in (
        ("client_name", client.client_name),
        ("redirect_uris", client.redirect_uris),
        ("post_logout_redirect_uris", client.post_logout_redirect_uris),
        ("client_uri", client.client_uri),
        ("logo_uri", client.logo_uri),
        ("initiate_login_uri", client.initiate_login_uri),
        ("frontchannel_logout_uri", client.front_channel_logout_uri),
        ("backchannel_logout_uri", client.back_channel_logout_uri),
        ("default_max_age", client.user_sso_lifetime),
    ):
        if value:
            metadata[name] = value
    if client.front_channel_logout_uri:
        metadata["frontchannel_logout_session_required"] = client.front_channel_logout_session_required
    if client.back_channel_logout_uri:
        metadata["backchannel_logout_session_required"] = client.back_channel_logout_session_required
    for name in LIFETIMES:
        if getattr(client, name) != getattr(_DEFAULTS, name):
            metadata[name] = getattr(client, name)
    statement = client.properties.get(SOFTWARE_STATEMENT_PROPERTY)
    if statement:
        metadata["software_statement"] = statement  # RFC 7591 §3.2.1: returned unmodified
    return metadata
