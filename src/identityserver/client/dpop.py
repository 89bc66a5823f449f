"""A DPoP client for httpx (RFC 9449 §4, §7, §8): proofs for every request, one retry on a nonce challenge, and
DPoP-bound tokens that refresh themselves.

    key = DPoPKey.generate()
    tokens = DPoPTokenClient(token_endpoint, "client", "secret", key)
    await tokens.client_credentials("api1")
    async with httpx.AsyncClient(auth=tokens.auth()) as http:
        await http.get("https://api.example/orders")
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator, Generator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from identityserver.clock import Clock, SystemClock
from identityserver.crypto.hashing import access_token_hash
from identityserver.crypto.jwk import PrivateKey, jwk_thumbprint, public_jwk
from identityserver.crypto.jwt import encode_jws


class DPoPKey:
    """The client's proof-of-possession key."""

    def __init__(self, private_key: PrivateKey, alg: str, clock: Clock | None = None) -> None:
        self.private_key = private_key
        self.alg = alg
        self.clock = clock or SystemClock()
        self.jwk = public_jwk(private_key)
        self.thumbprint = jwk_thumbprint(self.jwk)

    @classmethod
    def generate(cls, alg: str = "ES256", clock: Clock | None = None) -> DPoPKey:
        key: PrivateKey
        if alg == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        elif alg == "ES384":
            key = ec.generate_private_key(ec.SECP384R1())
        elif alg in ("RS256", "PS256"):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"unsupported DPoP algorithm {alg}")
        return cls(key, alg, clock)

    def create_proof(
        self, method: str, url: str, access_token: str | None = None, nonce: str | None = None, iat: int | None = None
    ) -> str:
        parts = urlsplit(url)
        htu = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))  # RFC 9449 §4.2: no query/fragment
        payload: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": htu,
            "iat": iat if iat is not None else int(self.clock.timestamp()),
        }
        if access_token is not None:
            payload["ath"] = access_token_hash(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        return encode_jws(header, payload, self.private_key)


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _is_nonce_challenge(response: httpx.Response) -> bool:
    if response.status_code == 400:
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("error") == "use_dpop_nonce"
    return response.status_code == 401 and "use_dpop_nonce" in response.headers.get("www-authenticate", "")


class DPoPAuth(httpx.Auth):
    """Signs each request with a DPoP proof (and ``Authorization: DPoP`` when it has a token); on a
    ``use_dpop_nonce`` challenge it retries once with the nonce the server sent (RFC 9449 §8)."""

    def __init__(self, key: DPoPKey, access_token: str | None = None, nonces: dict[str, str] | None = None) -> None:
        self.key = key
        self.access_token = access_token
        self.nonces = nonces if nonces is not None else {}

    def _sign(self, request: httpx.Request) -> None:
        origin = _origin(request.url)
        request.headers["DPoP"] = self.key.create_proof(
            request.method, str(request.url), self.access_token, self.nonces.get(origin)
        )
        if self.access_token is not None:
            request.headers["Authorization"] = f"DPoP {self.access_token}"

    def _remember_nonce(self, request: httpx.Request, response: httpx.Response) -> bool:
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            self.nonces[_origin(request.url)] = nonce
        return bool(nonce) and _is_nonce_challenge(response)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._sign(request)
        response = yield request
        if self._remember_nonce(request, response):
            self._sign(request)
            yield request


class DPoPTokenClient:
    """Obtains DPoP-bound tokens from the token endpoint and refreshes them when an API rejects an expired one."""

    def __init__(
        self,
        token_endpoint: str,
        client_id: str,
        client_secret: str | None,
        key: DPoPKey,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.token_endpoint = token_endpoint
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = key
        self.http = http or httpx.AsyncClient()
        self.nonces: dict[str, str] = {}
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.token_response: dict[str, Any] = {}

    async def request_token(self, data: dict[str, str]) -> dict[str, Any]:
        body = dict(data)
        auth: tuple[str, str] | None = None
        if self.client_secret is not None:
            auth = (self.client_id, self.client_secret)
        else:
            body["client_id"] = self.client_id
        response = await self.http.post(
            self.token_endpoint, data=body, auth=auth or httpx.USE_CLIENT_DEFAULT, headers=self._proof_headers()
        )
        if response.headers.get("dpop-nonce"):
            self.nonces[_origin(httpx.URL(self.token_endpoint))] = response.headers["dpop-nonce"]
            if _is_nonce_challenge(response):
                response = await self.http.post(
                    self.token_endpoint, data=body, auth=auth or httpx.USE_CLIENT_DEFAULT, headers=self._proof_headers()
                )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        if result.get("token_type") != "DPoP":
            raise ValueError("the server did not issue a DPoP-bound token")
        self.token_response = result
        self.access_token = result["access_token"]
        self.refresh_token = result.get("refresh_token", self.refresh_token)
        return result

    def _proof_headers(self) -> dict[str, str]:
        nonce = self.nonces.get(_origin(httpx.URL(self.token_endpoint)))
        return {"DPoP": self.key.create_proof("POST", self.token_endpoint, nonce=nonce)}

    async def client_credentials(self, scope: str | None = None) -> dict[str, Any]:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        return await self.request_token(data)

    async def refresh(self) -> dict[str, Any]:
        if self.refresh_token is None:
            raise ValueError("no refresh token")
        return await self.request_token({"grant_type": "refresh_token", "refresh_token": self.refresh_token})

    def auth(self) -> _RefreshingDPoPAuth:
        return _RefreshingDPoPAuth(self)


class _RefreshingDPoPAuth(httpx.Auth):
    """``DPoPAuth`` that, on ``invalid_token``, refreshes the token once and retries."""

    def __init__(self, tokens: DPoPTokenClient) -> None:
        self.tokens = tokens

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        inner = DPoPAuth(self.tokens.key, self.tokens.access_token, self.tokens.nonces)
        inner._sign(request)
        response = yield request
        if inner._remember_nonce(request, response):
            inner._sign(request)
            response = yield request
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code == 401 and "invalid_token" in challenge and self.tokens.refresh_token:
            await self.tokens.refresh()
            inner.access_token = self.tokens.access_token
            inner._sign(request)
            yield request
