"""The issuer's signing keys, fetched from discovery and cached; an unknown ``kid`` triggers a refresh (at most
once per ``min_refresh_interval``) so that key rotation is picked up without restarting the API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from identityserver.clock import monotonic
from identityserver.crypto.jwk import JwkError, PublicKey, load_public_jwk


class JwksCache:
    def __init__(
        self,
        authority: str,
        http: httpx.AsyncClient | None = None,
        cache_duration: float = 3600,
        min_refresh_interval: float = 30,
    ) -> None:
        self.authority = authority.rstrip("/")
        self.http = http or httpx.AsyncClient(timeout=10, follow_redirects=False)
        self.cache_duration = cache_duration
        self.min_refresh_interval = min_refresh_interval
        self.issuer: str | None = None
        self.introspection_endpoint: str | None = None
        """From discovery (RFC 8414 §2); what reference tokens are validated against."""
        self._keys: dict[str, tuple[str | None, PublicKey]] = {}
        self._expires = 0.0
        self._last_fetch = -1e9
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> tuple[str | None, PublicKey] | None:
        """The key and its ``alg`` for ``kid``; refreshes when the cache is stale or the kid is unknown."""
        if monotonic() >= self._expires or (
            kid not in self._keys and monotonic() - self._last_fetch >= self.min_refresh_interval
        ):
            await self.refresh()
        return self._keys.get(kid)

    async def load_metadata(self) -> None:
        """Read discovery (and the keys) unless they are loaded and fresh."""
        if self.issuer is None or monotonic() >= self._expires:
            await self.refresh()

    async def refresh(self) -> None:
        async with self._lock:
            if monotonic() - self._last_fetch < self.min_refresh_interval and monotonic() < self._expires:
                return
            self._last_fetch = monotonic()
            discovery = await self._get_json(f"{self.authority}/.well-known/openid-configuration")
            self.issuer = str(discovery["issuer"])
            endpoint = discovery.get("introspection_endpoint")
            self.introspection_endpoint = endpoint if isinstance(endpoint, str) else None
            jwks = await self._get_json(str(discovery["jwks_uri"]))
            keys: dict[str, tuple[str | None, PublicKey]] = {}
            for jwk in jwks.get("keys", []):
                if (
                    not isinstance(jwk, dict)
                    or not isinstance(jwk.get("kid"), str)
                    or jwk.get("use") not in (None, "sig")
                ):
                    continue
                try:
                    keys[jwk["kid"]] = (jwk.get("alg"), load_public_jwk(jwk))
                except JwkError:
                    continue
            self._keys = keys
            self._expires = monotonic() + self.cache_duration

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self.http.get(url)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"{url} did not return a JSON object")
        return data
