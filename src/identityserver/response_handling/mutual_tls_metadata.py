"""The discovery metadata of mutual TLS (RFC 8705 §3.3, §5; Duende ``DiscoveryResponseGenerator``):
``tls_client_certificate_bound_access_tokens`` and the ``mtls_endpoint_aliases``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from identityserver.constants import ProtocolRoutePaths
from identityserver.options import MutualTlsOptions

MTLS_PATH_PREFIX = "/connect/mtls"
#: The endpoints that have an mTLS alias, by discovery name.
ALIASED_ENDPOINTS = {
    "token_endpoint": ProtocolRoutePaths.TOKEN,
    "revocation_endpoint": ProtocolRoutePaths.REVOCATION,
    "introspection_endpoint": ProtocolRoutePaths.INTROSPECTION,
    "device_authorization_endpoint": ProtocolRoutePaths.DEVICE_AUTHORIZATION,
}


def alias_url(options: MutualTlsOptions, base_url: str, path: str) -> str:
    """Path mode ``{base}/connect/mtls/token``; domain mode ``https://{domain_name}/connect/token``; sub-domain
    mode (a name without a dot) ``https://{domain_name}.{issuer host}/connect/token``."""
    domain = options.domain_name
    if not domain:
        return base_url + MTLS_PATH_PREFIX + path.removeprefix("/connect")
    if "." in domain:
        return f"https://{domain}{path}"
    _, _, rest = base_url.partition("://")
    return f"https://{domain}.{rest}{path}"


def mutual_tls_metadata(options: MutualTlsOptions, base_url: str, endpoints: Collection[str]) -> dict[str, Any]:
    """The entries mutual TLS adds to the discovery document (none while it is off)."""
    if not options.enabled:
        return {}
    aliases = {
        name: alias_url(options, base_url, path) for name, path in ALIASED_ENDPOINTS.items() if path in endpoints
    }
    metadata: dict[str, Any] = {"tls_client_certificate_bound_access_tokens": True}
    if aliases:
        metadata["mtls_endpoint_aliases"] = aliases
    return metadata
