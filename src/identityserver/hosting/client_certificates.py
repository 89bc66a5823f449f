"""Where the client certificate of mutual TLS comes from (RFC 8705 §2, RFC 9440), and the mTLS endpoint aliases
(RFC 8705 §5; Duende ``MutualTlsEndpointMiddleware``).

A pure-ASGI middleware, inside the forwarded-headers one, that puts the DER certificate in
``scope[CLIENT_CERTIFICATE]`` (``EndpointRequest.client_certificate`` downstream):

- from the ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``) when this server
  terminated TLS (``serve --tls-client-ca``);
- else from the ``Client-Cert`` header (RFC 9440 byte sequence ``:base64(DER):``, or nginx's
  ``$ssl_client_escaped_cert`` URL-escaped PEM) when the TCP peer is one of ``[options.mutual_tls]
  trusted_proxies``. From anyone else the header is removed unread, so nothing downstream can see a forged one.

``/connect/mtls/{token,revocation,introspect,deviceauthorization}`` (or ``/connect/*`` on the
``domain_name`` host) are the same endpoints, reached with a certificate; without one they answer
``invalid_client``."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import unquote

from identityserver.constants import TokenErrors
from identityserver.crypto.certificates import MAX_CERTIFICATE_BYTES, CertificateError, leaf_certificate, pem_to_der
from identityserver.hosting.forwarded import IPNetwork, direct_peer, parse_trusted_proxies
from identityserver.options import MutualTlsOptions
from identityserver.response_handling.mutual_tls_metadata import ALIASED_ENDPOINTS, MTLS_PATH_PREFIX

if TYPE_CHECKING:
    from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("identityserver")

CLIENT_CERTIFICATE = "identityserver.client_certificate"
"""Scope key: the DER client certificate of the request, or ``None``."""
_ALIAS_TARGETS = frozenset(ALIASED_ENDPOINTS.values())
_NO_CERTIFICATE = json.dumps(
    {"error": TokenErrors.INVALID_CLIENT, "error_description": "this mTLS endpoint needs a client certificate"}
).encode()


def certificate_from_header(value: str) -> bytes:
    """The DER certificate of a ``Client-Cert`` value: an RFC 8941 byte sequence (RFC 9440 §2.2), or the
    URL-escaped PEM of nginx's ``$ssl_client_escaped_cert``; ``CertificateError`` otherwise."""
    value = value.strip()
    if len(value) > 4 * MAX_CERTIFICATE_BYTES:
        raise CertificateError("Client-Cert header is too long")
    if len(value) > 2 and value[0] == ":" and value[-1] == ":":
        try:
            der = base64.b64decode(value[1:-1], validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("Client-Cert is not a base64 byte sequence") from None
        return der
    pem = unquote(value)
    if pem.startswith("-----BEGIN CERTIFICATE-----"):
        return pem_to_der(pem)
    raise CertificateError("Client-Cert is neither a byte sequence nor a PEM certificate")


def certificate_from_tls(scope: Scope) -> bytes | None:
    """The leaf of the ASGI TLS extension's ``client_cert_chain`` (PEM strings, leaf first)."""
    extensions = scope.get("extensions") or {}
    tls = extensions.get("tls") if isinstance(extensions, dict) else None
    return leaf_certificate(tls.get("client_cert_chain") if isinstance(tls, dict) else None)


def _is_trusted(peer: tuple[str, int] | None, networks: tuple[IPNetwork, ...]) -> bool:
    if peer is None or not networks:
        return False
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class ClientCertificateMiddleware:
    """Puts the request's client certificate in the scope and routes the mTLS aliases (``[options.mutual_tls]``)."""

    def __init__(self, app: ASGIApp, options: MutualTlsOptions) -> None:
        self.app = app
        self.networks = parse_trusted_proxies(options.trusted_proxies)
        self.header = options.client_certificate_header.lower().encode("latin-1")
        self.domain = (options.domain_name or "").lower() or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        forwarded = [value for name, value in headers if name == self.header]
        certificate = certificate_from_tls(scope)
        if forwarded:
            scope["headers"] = [(name, value) for name, value in headers if name != self.header]
            if certificate is None and _is_trusted(direct_peer(scope), self.networks):
                certificate = self._from_header(forwarded)
        scope[CLIENT_CERTIFICATE] = certificate
        if self._is_alias(scope) and certificate is None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"cache-control", b"no-store"),
                        (b"content-length", str(len(_NO_CERTIFICATE)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _NO_CERTIFICATE})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _from_header(values: list[bytes]) -> bytes | None:
        if len(values) != 1:
            logger.warning("ignored %d Client-Cert headers from a trusted proxy (one expected)", len(values))
            return None
        try:
            return certificate_from_header(values[0].decode("latin-1"))
        except CertificateError as error:
            logger.warning("ignored a malformed Client-Cert header from a trusted proxy: %s", error)
            return None

    def _is_alias(self, scope: Scope) -> bool:
        """Whether the request is for an mTLS alias; a path alias is rewritten to its endpoint."""
        root: str = scope.get("root_path", "")
        path: str = scope.get("path", "/")
        relative = path[len(root) :] if root and path.startswith(root) else path
        if relative.startswith(MTLS_PATH_PREFIX + "/"):
            target = "/connect" + relative[len(MTLS_PATH_PREFIX) :].rstrip("/")
            if target not in _ALIAS_TARGETS:
                return False
            scope["path"] = root + target
            scope["raw_path"] = (root + target).encode("latin-1")
            return True
        if self.domain is None or relative.rstrip("/") not in _ALIAS_TARGETS:
            return False
        host = next((v.decode("latin-1") for n, v in scope.get("headers", []) if n == b"host"), "").lower()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return host == self.domain if "." in self.domain else host.startswith(self.domain + ".")
