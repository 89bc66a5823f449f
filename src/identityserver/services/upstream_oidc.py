"""Calls to upstream OpenID Connect providers: discovery (OIDC Discovery 1.0 §4), their JWKS (cached, refetched
once on an unknown ``kid`` so that rotated keys are picked up), the token endpoint (OIDC Core §3.1.3) and userinfo
(§5.3). Operator-configured authorities only (``models.identity_providers.check_authority``); no redirects are
followed and every call has a timeout."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from identityserver._utils.egress import is_public_https_url
from identityserver.clock import Clock
from identityserver.crypto.jwk import JwkError, PublicKey, load_public_jwk
from identityserver.models.identity_providers import IdentityProviderError, OidcProvider, check_authority

if TYPE_CHECKING:
    import httpx

HTTP_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 512 * 1024
#: An unknown ``kid`` refetches the JWKS at most this often (seconds): a flood of forged kids costs one fetch.
MIN_JWKS_REFRESH = 30.0


class UpstreamError(Exception):
    """The upstream provider could not be reached or answered something unusable."""


@dataclass(frozen=True, slots=True)
class UpstreamMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str | None
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    id_token_signing_alg_values_supported: tuple[str, ...]
    authorization_response_iss_parameter_supported: bool = False


def _endpoint(document: dict[str, Any], name: str, required: bool, authority: str) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise UpstreamError(f"discovery document: {name} is missing or not a URL")
    try:
        check_authority(value.split("?", 1)[0])
    except IdentityProviderError as exc:
        raise UpstreamError(f"discovery document: {name}: {exc}") from exc
    # the operator chose the authority; its document must not steer this server into its own network
    if not is_public_https_url(value) and is_public_https_url(authority):
        raise UpstreamError(f"discovery document: {name} names an internal address")
    return value


def _default_client() -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)


class UpstreamOidcClient:
    """One per server: metadata and keys cached per authority for ``cache_seconds``."""

    def __init__(
        self, clock: Clock, cache_seconds: float = 3600, client_factory: Callable[[], httpx.AsyncClient] | None = None
    ) -> None:
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.client_factory = client_factory or _default_client
        self._metadata: dict[str, tuple[float, UpstreamMetadata]] = {}
        self._keys: dict[str, tuple[float, float, dict[str, tuple[str | None, PublicKey]]]] = {}
        self._lock = asyncio.Lock()

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        import httpx

        try:
            async with self.client_factory() as http:
                response = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{url}: {type(exc).__name__}") from exc
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise UpstreamError(f"{url}: response too large")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            raise UpstreamError(f"{url}: HTTP {response.status_code}" + (f" ({error})" if error else ""))
        if not isinstance(body, dict):
            raise UpstreamError(f"{url}: not a JSON object")
        return body

    async def metadata(self, provider: OidcProvider) -> UpstreamMetadata:
        now = self.clock.timestamp()
        cached = self._metadata.get(provider.authority)
        if cached is not None and cached[0] > now:
            return cached[1]
        document = await self._request("GET", f"{provider.authority}/.well-known/openid-configuration")
        # OIDC Discovery §4.3: the issuer must be exactly the authority the document was fetched from
        if document.get("issuer") != provider.authority:
            raise UpstreamError(f"discovery document: issuer {document.get('issuer')!r} is not {provider.authority!r}")
        algs = document.get("id_token_signing_alg_values_supported")
        metadata = UpstreamMetadata(
            issuer=provider.authority,
            authorization_endpoint=_endpoint(document, "authorization_endpoint", True, provider.authority) or "",
            token_endpoint=_endpoint(document, "token_endpoint", provider.response_type == "code", provider.authority),
            jwks_uri=_endpoint(document, "jwks_uri", True, provider.authority) or "",
            userinfo_endpoint=_endpoint(document, "userinfo_endpoint", False, provider.authority),
            end_session_endpoint=_endpoint(document, "end_session_endpoint", False, provider.authority),
            id_token_signing_alg_values_supported=tuple(a for a in algs if isinstance(a, str))
            if isinstance(algs, list)
            else ("RS256",),
            authorization_response_iss_parameter_supported=document.get(
                "authorization_response_iss_parameter_supported"
            )
            is True,
        )
        self._metadata[provider.authority] = (now + self.cache_seconds, metadata)
        return metadata

    async def signing_key(self, metadata: UpstreamMetadata, kid: str | None) -> list[tuple[str | None, PublicKey]]:
        """The upstream keys ``kid`` names (every key when the token has no ``kid``); an unknown ``kid``
        refetches the JWKS once per ``MIN_JWKS_REFRESH``."""
        now = self.clock.timestamp()
        cached = self._keys.get(metadata.jwks_uri)
        stale = cached is None or cached[0] <= now
        unknown = kid is not None and cached is not None and kid not in cached[2]
        if stale or (unknown and cached is not None and now - cached[1] >= MIN_JWKS_REFRESH):
            async with self._lock:
                cached = await self._fetch_keys(metadata.jwks_uri, now)
        keys = cached[2] if cached else {}
        if kid is not None:
            return [keys[kid]] if kid in keys else []
        return list(keys.values())

    async def _fetch_keys(
        self, jwks_uri: str, now: float
    ) -> tuple[float, float, dict[str, tuple[str | None, PublicKey]]]:
        document = await self._request("GET", jwks_uri)
        keys: dict[str, tuple[str | None, PublicKey]] = {}
        for index, jwk in enumerate(document.get("keys") or []):
            if not isinstance(jwk, dict) or jwk.get("use") not in (None, "sig"):
                continue
            try:
                key = load_public_jwk(jwk)
            except JwkError:
                continue
            alg = jwk.get("alg") if isinstance(jwk.get("alg"), str) else None
            keys[jwk["kid"] if isinstance(jwk.get("kid"), str) else f"#{index}"] = (alg, key)
        entry = (now + self.cache_seconds, now, keys)
        self._keys[jwks_uri] = entry
        return entry

    async def redeem_code(
        self, provider: OidcProvider, metadata: UpstreamMetadata, code: str, redirect_uri: str, verifier: str | None
    ) -> dict[str, Any]:
        """The token response (OIDC Core §3.1.3.3); the client authenticates with ``client_secret_basic``
        when it has a secret (RFC 6749 §2.3.1, form-encoded id and secret)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier:
            form["code_verifier"] = verifier
        headers = {"Accept": "application/json"}
        if provider.client_secret:
            raw = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(raw.encode()).decode()
        else:
            form["client_id"] = provider.client_id
        response: dict[str, Any] = await self._request(
            "POST", metadata.token_endpoint or "", data=form, headers=headers
        )
        return response

    async def userinfo(self, metadata: UpstreamMetadata, access_token: str) -> dict[str, Any]:
        if not metadata.userinfo_endpoint:
            return {}
        response: dict[str, Any] = await self._request(
            "GET",
            metadata.userinfo_endpoint,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        return response
