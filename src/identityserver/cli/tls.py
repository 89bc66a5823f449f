"""``serve --tls-cert --tls-key [--tls-client-ca]``: the server terminates TLS itself and asks clients for a
certificate (RFC 8705 §2), handing it to the app through the ASGI TLS extension
(``scope["extensions"]["tls"]["client_cert_chain"]``).

uvicorn 0.55, hypercorn 0.18 and granian 2.8 all terminate TLS, and granian verifies client certificates, but
none of them puts the client certificate in the scope (measured and read in docs/mtls.md). This protocol is
uvicorn's (with the request-head limits of ``cli/http_limits.py``) plus the extension, read once per connection
after the handshake; the plain-HTTP server is unchanged."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from identityserver.cli.http_limits import LimitedHttpToolsProtocol


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension (asgiref ``specs/tls``) of a connection; ``None`` when it is not TLS."""
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        # Python's ssl exposes the peer's leaf certificate only; the chain was verified in the handshake
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
    }


class TlsHttpToolsProtocol(LimitedHttpToolsProtocol):
    """uvicorn's httptools protocol that reports the TLS connection (and its client certificate) to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._tls = tls_extension(transport)
        super().connection_made(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[dict-item]


def ssl_settings(certificate: str, key: str, client_ca: str | None) -> dict[str, Any]:
    """uvicorn's TLS arguments: the server certificate and key; with ``client_ca``, a client certificate is
    requested and, when sent, must chain to one of those CAs (a self-signed client certificate is trusted by
    listing it there). Clients without one still connect (public clients, discovery)."""
    return {
        "ssl_certfile": certificate,
        "ssl_keyfile": key,
        "ssl_ca_certs": client_ca,
        "ssl_cert_reqs": int(ssl.CERT_OPTIONAL if client_ca else ssl.CERT_NONE),
    }
