"""A published OpenID Connect client library completes the code flow with PKCE against the server (issue 3,
"Verification"): Authlib's ``AsyncOAuth2Client`` builds the request, fetches the token, refreshes it and calls
userinfo; Authlib's ``CodeIDToken`` validates the ID token with the server's JWKS."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.browser import Browser, complete_authorize
from tests.support.server import Server


@pytest.fixture(autouse=True)
def _quiet_authlib_deprecations() -> Iterator[None]:
    import authlib.deprecate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        yield


def oauth_client(server: Server, **kwargs: Any):
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    # Authlib's client is an httpx client: it talks to the in-process application through the same transport
    return AsyncOAuth2Client(code_challenge_method="S256", transport=server.client._transport, **kwargs)


def validate_id_token(
    id_token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, nonce: str, access_token: str, now: int
) -> dict[str, Any]:
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken

    claims = jwt.decode(
        id_token,
        JsonWebKey.import_key_set(jwks),
        claims_cls=CodeIDToken,
        claims_options={"iss": {"values": [issuer]}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate(now=now)
    return dict(claims)


async def run_code_flow(
    server: Server, client_id: str, secret: str | None, redirect_uri: str, scope: str, auth_method: str
) -> None:
    discovery = (await server.client.get("/.well-known/openid-configuration")).json()
    assert "S256" in discovery["code_challenge_methods_supported"]
    jwks = (await server.client.get(discovery["jwks_uri"])).json()
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    async with oauth_client(
        server,
        client_id=client_id,
        client_secret=secret,
        scope=scope,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method=auth_method,
    ) as client:
        url, state = client.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        assert "code_challenge=" in url and "code_challenge_method=S256" in url

        # the user signs in (and consents) in the browser; the library only sees the final redirect
        browser = Browser(server.client)
        final = await complete_authorize(browser, dict(parse_qsl(urlsplit(url).query)))
        assert final.status_code == 302, final.text[:300]
        authorization_response = final.headers["location"]
        assert authorization_response.startswith(redirect_uri + "?")

        token = await client.fetch_token(
            discovery["token_endpoint"],
            authorization_response=authorization_response,
            code_verifier=verifier,
            state=state,
        )
        assert token["token_type"] == "Bearer"
        claims = validate_id_token(
            token["id_token"],
            jwks,
            issuer=discovery["issuer"],
            client_id=client_id,
            nonce=nonce,
            access_token=token["access_token"],
            now=int(server.clock.timestamp()),
        )
        assert claims["sub"] == "1" and claims["aud"] == client_id

        info = await client.get(discovery["userinfo_endpoint"])
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"]

        if "refresh_token" in token:
            refreshed = await client.refresh_token(discovery["token_endpoint"])
            assert refreshed["access_token"] != token["access_token"]
            assert refreshed["refresh_token"] != token["refresh_token"]
            again = await client.get(discovery["userinfo_endpoint"])
            assert again.status_code == 200


async def test_authlib_confidential_client_completes_the_code_flow_with_pkce(server):
    await run_code_flow(
        server, "web", "secret", "https://web.example/cb", "openid profile api1 offline_access", "client_secret_basic"
    )


async def test_authlib_confidential_client_with_client_secret_post(server):
    await run_code_flow(
        server, "web", "secret", "https://web.example/cb", "openid profile offline_access", "client_secret_post"
    )


async def test_authlib_public_client_completes_the_code_flow_with_pkce(server):
    await run_code_flow(server, "public", None, "https://app.example/cb", "openid api1", "none")


async def test_authlib_rejects_an_authorization_response_with_a_wrong_state(server):
    from authlib.oauth2.rfc6749.errors import MismatchingStateException

    discovery = (await server.client.get("/.well-known/openid-configuration")).json()
    verifier = secrets.token_urlsafe(48)
    async with oauth_client(
        server,
        client_id="public",
        scope="openid",
        redirect_uri="https://app.example/cb",
        token_endpoint_auth_method="none",
    ) as client:
        url, _ = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
        final = await complete_authorize(Browser(server.client), dict(parse_qsl(urlsplit(url).query)))
        with pytest.raises(MismatchingStateException):
            await client.fetch_token(
                discovery["token_endpoint"],
                authorization_response=final.headers["location"],
                code_verifier=verifier,
                state="another-state",
            )
