"""The discovery document (Duende ``DiscoveryResponseGenerator``; OIDC Discovery §3, RFC 8414 §2).

Only what this server implements and has enabled is advertised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from identityserver.constants import ProtocolRoutePaths, StandardScopes
from identityserver.options import IdentityServerOptions
from identityserver.response_handling.mutual_tls_metadata import mutual_tls_metadata
from identityserver.services.protocols import KeyMaterialService
from identityserver.stores.protocols import ResourceStore


@dataclass(slots=True)
class ServerCapabilities:
    """What the composed server supports; filled by the builder from what is registered."""

    endpoints: set[str] = field(default_factory=set)
    """Route paths of the enabled protocol endpoints."""
    grant_types: list[str] = field(default_factory=list)
    response_types: list[str] = field(default_factory=list)
    response_modes: list[str] = field(default_factory=list)
    token_endpoint_auth_methods: list[str] = field(default_factory=list)
    prompt_values: list[str] = field(default_factory=list)
    code_challenge_methods: list[str] = field(default_factory=list)
    dpop_signing_algs: list[str] = field(default_factory=list)
    request_object_signing_algs: list[str] = field(default_factory=list)
    frontchannel_logout: bool = False
    backchannel_logout: bool = False
    check_session: bool = False
    introspection_auth_methods: list[str] = field(default_factory=list)


_ENDPOINT_NAMES = [
    ("authorization_endpoint", ProtocolRoutePaths.AUTHORIZE),
    ("token_endpoint", ProtocolRoutePaths.TOKEN),
    ("userinfo_endpoint", ProtocolRoutePaths.USER_INFO),
    ("end_session_endpoint", ProtocolRoutePaths.END_SESSION),
    ("check_session_iframe", ProtocolRoutePaths.CHECK_SESSION),
    ("revocation_endpoint", ProtocolRoutePaths.REVOCATION),
    ("introspection_endpoint", ProtocolRoutePaths.INTROSPECTION),
    ("device_authorization_endpoint", ProtocolRoutePaths.DEVICE_AUTHORIZATION),
    ("backchannel_authentication_endpoint", ProtocolRoutePaths.BACKCHANNEL_AUTHENTICATION),
    ("registration_endpoint", ProtocolRoutePaths.REGISTRATION),
    ("pushed_authorization_request_endpoint", ProtocolRoutePaths.PUSHED_AUTHORIZATION),
]


class DiscoveryResponseGenerator:
    """Builds the discovery document (Duende ``DiscoveryResponseGenerator``; OIDC Discovery §3, RFC 8414 §2) from the
    server's capabilities and resources; override to add or hide entries."""

    def __init__(
        self,
        options: IdentityServerOptions,
        resources: ResourceStore,
        keys: KeyMaterialService,
        capabilities: ServerCapabilities,
    ) -> None:
        self.options = options
        self.resources = resources
        self.keys = keys
        self.capabilities = capabilities

    async def create_discovery_document(self, base_url: str, issuer: str) -> dict[str, Any]:
        """The metadata for this issuer, with endpoint URLs under ``base_url``."""
        caps = self.capabilities
        doc: dict[str, Any] = {"issuer": issuer, "jwks_uri": base_url + ProtocolRoutePaths.DISCOVERY_WEB_KEYS}
        for name, path in _ENDPOINT_NAMES:
            if path in caps.endpoints:
                doc[name] = base_url + path
        if caps.frontchannel_logout:
            doc["frontchannel_logout_supported"] = True
            doc["frontchannel_logout_session_supported"] = True
        if caps.backchannel_logout:
            doc["backchannel_logout_supported"] = True
            doc["backchannel_logout_session_supported"] = True
        all_resources = await self.resources.get_all_resources()
        scopes = [r.name for r in all_resources.identity_resources if r.show_in_discovery_document and r.enabled]
        scopes += [s.name for s in all_resources.api_scopes if s.show_in_discovery_document and s.enabled]
        if StandardScopes.OFFLINE_ACCESS not in scopes and any(g == "refresh_token" for g in caps.grant_types):
            scopes.append(StandardScopes.OFFLINE_ACCESS)
        doc["scopes_supported"] = scopes
        claims = [
            c
            for r in all_resources.identity_resources
            if r.show_in_discovery_document and r.enabled
            for c in r.user_claims
        ]
        doc["claims_supported"] = list(dict.fromkeys(claims))
        doc["grant_types_supported"] = caps.grant_types
        # OIDC Discovery §3: response_types_supported is required even when the authorize endpoint is off
        doc["response_types_supported"] = caps.response_types or ["code"]
        if caps.response_modes:
            doc["response_modes_supported"] = caps.response_modes
        if ProtocolRoutePaths.TOKEN in caps.endpoints:
            doc["token_endpoint_auth_methods_supported"] = caps.token_endpoint_auth_methods
            if "private_key_jwt" in caps.token_endpoint_auth_methods:
                doc["token_endpoint_auth_signing_alg_values_supported"] = caps.request_object_signing_algs
        if ProtocolRoutePaths.INTROSPECTION in caps.endpoints:
            doc["introspection_endpoint_auth_methods_supported"] = caps.introspection_auth_methods
        if ProtocolRoutePaths.REVOCATION in caps.endpoints:
            doc["revocation_endpoint_auth_methods_supported"] = caps.token_endpoint_auth_methods
        algorithms = [k.algorithm for k in await self.keys.get_all_signing_credentials()]
        doc["id_token_signing_alg_values_supported"] = list(dict.fromkeys(algorithms))
        doc["subject_types_supported"] = ["public"]
        if caps.code_challenge_methods:
            doc["code_challenge_methods_supported"] = caps.code_challenge_methods
        if caps.request_object_signing_algs and ProtocolRoutePaths.AUTHORIZE in caps.endpoints:
            doc["request_parameter_supported"] = True
            doc["request_object_signing_alg_values_supported"] = caps.request_object_signing_algs
            # RFC 9101 §10.5 / OIDC Discovery §3: by reference only when switched on (fetching is an SSRF risk)
            doc["request_uri_parameter_supported"] = self.options.endpoints.enable_jwt_request_uri
        if caps.prompt_values:
            doc["prompt_values_supported"] = caps.prompt_values
        if ProtocolRoutePaths.AUTHORIZE in caps.endpoints:
            doc["authorization_response_iss_parameter_supported"] = bool(
                self.options.emit_issuer_identification_response_parameter or self.options.security_profile
            )
            if "jwt" in caps.response_modes:  # JARM §5
                doc["authorization_signing_alg_values_supported"] = doc["id_token_signing_alg_values_supported"]
            doc["claims_parameter_supported"] = True  # OIDC Core §5.5 (docs/claims-parameter.md)
            # OIDC Discovery §3: the value that asks for a second factor (docs/sign-in.md)
            doc["acr_values_supported"] = [self.options.authentication.mfa_acr_value]
        if ProtocolRoutePaths.PUSHED_AUTHORIZATION in caps.endpoints:
            doc["require_pushed_authorization_requests"] = self.options.pushed_authorization.required  # RFC 9126 §5
        if ProtocolRoutePaths.BACKCHANNEL_AUTHENTICATION in caps.endpoints:
            # CIBA Core §4: poll and ping are built (push is not: IdentityServer has neither push nor ping)
            doc["backchannel_token_delivery_modes_supported"] = ["poll", "ping"]
            doc["backchannel_user_code_parameter_supported"] = True
            if caps.request_object_signing_algs:
                doc["backchannel_authentication_request_signing_alg_values_supported"] = (
                    caps.request_object_signing_algs
                )
        if caps.dpop_signing_algs:
            doc["dpop_signing_alg_values_supported"] = caps.dpop_signing_algs
        doc.update(mutual_tls_metadata(self.options.mutual_tls, base_url, caps.endpoints))
        for name, value in self.options.discovery.custom_entries.items():
            doc.setdefault(name, value.replace("~/", base_url + "/", 1) if value.startswith("~/") else value)
        return doc
