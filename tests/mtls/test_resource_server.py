"""``identityserver.resource_server`` checks the certificate binding (RFC 8705 §3): a bound token is accepted only
from a request made with its certificate, from the TLS extension or a trusted proxy's ``Client-Cert``."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from identityserver.hosting.client_certificates import ClientCertificateMiddleware
from identityserver.options import MutualTlsOptions
from identityserver.resource_server import AccessTokenMiddleware, AccessTokenValidator, JwksCache, ResourceServerOptions
from identityserver.resource_server.starlette import RequireAccessToken
from tests.mtls.support import DN_CLIENT, OTHER_DEVICE, PROXY, mtls_server

API = "https://api.example"


def api(validator: AccessTokenValidator, tls_chain: list[str] | None = None) -> httpx.AsyncClient:
    async def orders(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.scope["identityserver.access_token"].subject})

    require = RequireAccessToken(validator, scopes=["api1"])

    async def admin(request: Request) -> JSONResponse:
        return JSONResponse({"scopes": (await require(request)).scopes})

    inner = AccessTokenMiddleware(Starlette(routes=[Route("/orders", orders)]), validator)
    dependency = Starlette(routes=[Route("/admin", admin)])

    async def app(scope, receive, send):
        if tls_chain is not None:  # what a server implementing the ASGI TLS extension reports
            scope = {**scope, "extensions": {"tls": {"client_cert_chain": tls_chain}}}
        await (dependency if scope["path"].startswith("/admin") else inner)(scope, receive, send)

    fronted = ClientCertificateMiddleware(app, MutualTlsOptions(enabled=True, trusted_proxies=(PROXY,)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=fronted, client=(PROXY, 1234)), base_url=API)


async def _bound_token(proxy) -> str:
    data = {"grant_type": "client_credentials", "scope": "api1", "client_id": "mtls.dn"}
    return (await proxy.token(data, DN_CLIENT)).json()["access_token"]


async def test_the_api_accepts_a_bound_token_only_with_its_certificate():
    async with mtls_server() as proxy:
        token = await _bound_token(proxy)
        jwks = JwksCache(proxy.server.issuer, http=proxy.server.client)
        validator = AccessTokenValidator(
            ResourceServerOptions(proxy.server.issuer, audience="urn:api1"), jwks, clock=proxy.server.clock
        )
        bearer = {"Authorization": f"Bearer {token}"}
        async with api(validator) as client:
            right = await client.get("/orders", headers={**bearer, "Client-Cert": DN_CLIENT.client_cert_header})
            missing = await client.get("/orders", headers=bearer)
            other = await client.get("/orders", headers={**bearer, "Client-Cert": OTHER_DEVICE.client_cert_header})
            dependency = await client.get("/admin", headers={**bearer, "Client-Cert": DN_CLIENT.client_cert_header})
            dependency_missing = await client.get("/admin", headers=bearer)
        async with api(validator, tls_chain=[DN_CLIENT.pem]) as client:
            over_tls = await client.get("/orders", headers=bearer)
    assert right.status_code == 200 and right.json() == {"sub": "mtls.dn"}
    assert over_tls.status_code == 200, over_tls.text
    assert dependency.status_code == 200 and dependency.json() == {"scopes": ["api1"]}
    for refused in (missing, other, dependency_missing):
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
