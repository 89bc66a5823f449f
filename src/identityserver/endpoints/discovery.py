"""Discovery and JWKS endpoints (Duende ``DiscoveryEndpoint``, ``DiscoveryKeyEndpoint``)."""

from __future__ import annotations

import json
from typing import Any

from identityserver.endpoints.results import JsonResult, StatusCodeResult
from identityserver.http.request import EndpointRequest
from identityserver.response_handling.discovery import DiscoveryResponseGenerator
from identityserver.services.protocols import KeyMaterialService


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class DiscoveryEndpoint:
    """``/.well-known/openid-configuration`` (OIDC Discovery §4, RFC 8414 §3); the document comes from
    ``DiscoveryResponseGenerator``."""

    def __init__(self, generator: DiscoveryResponseGenerator) -> None:
        self.generator = generator
        self._prepared: tuple[dict[str, Any], bytes] | None = None
        """The last document and its bytes: serialized again only when it changes (issue 15)."""

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """The discovery document (GET only), cacheable for ``discovery.response_cache_interval``."""
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        document = await self.generator.create_discovery_document(request.base_url, request.issuer)
        if self._prepared is None or self._prepared[0] != document:
            self._prepared = (document, _encode(document))
        interval = self.generator.options.discovery.response_cache_interval
        return JsonResult(document, no_store=interval is None, max_age=interval, encoded=self._prepared[1])


class DiscoveryKeyEndpoint:
    """The JWKS URI (RFC 7517 §5): the public keys tokens are verified with."""

    def __init__(self, keys: KeyMaterialService, max_age: int | None) -> None:
        self.keys = keys
        self.max_age = max_age
        self._prepared: tuple[dict[str, Any], bytes] | None = None
        """The last document and its bytes: serialized again only when the keys change (issue 15)."""

    async def process(self, request: EndpointRequest) -> JsonResult | StatusCodeResult:
        """Every published signing key as ``application/jwk-set+json`` (GET only)."""
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        jwks = {"keys": await self.keys.get_json_web_keys()}
        if self._prepared is None or self._prepared[0] != jwks:
            self._prepared = (jwks, _encode(jwks))
        return JsonResult(
            jwks,
            headers={"Content-Type": "application/jwk-set+json"},
            no_store=self.max_age is None,
            max_age=self.max_age,
            encoded=self._prepared[1],
        )
