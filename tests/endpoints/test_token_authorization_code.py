"""Token endpoint, ``authorization_code`` grant (RFC 6749 §4.1.3, §10.5; RFC 7636 §4.5-4.6; RFC 9700 §2.1.1, §4.5;
duende §1.2, §1.6; security.md 1.2 items 25-34 and 3.1 R1).

A code is redeemed once, atomically; a failed attempt burns it; a replay revokes what the first redemption
issued (refresh token, reference token, and the JWT access token's ``jti``)."""

from __future__ import annotations

import asyncio

import pytest

from identityserver.services.authorization_codes import DERIVED_JTI_REVOCATION, access_token_jti
from tests.support.browser import (
    Browser,
    CodeGrant,
    authorize_path,
    obtain_code,
    redeem,
    redirect_parameters,
    refresh,
    sign_in,
)
from tests.support.client_auth import form_basic, jwt_parts
from tests.support.concurrency import interleaving
from tests.support.server import Server, basic, make_builder, running

API1 = form_basic("urn:api1", "api1-secret")


async def userinfo(server: Server, access_token: str) -> int:
    response = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def introspect(server: Server, token: str, headers: dict[str, str] = API1, **extra: str) -> bool:
    response = await server.client.post("/connect/introspect", data={"token": token, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    active: bool = response.json()["active"]
    return active


def assert_invalid_grant(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"


# -- success ----------------------------------------------------------------------------------------------------


async def test_code_with_s256_verifier_is_exchanged_for_tokens(server):
    grant = await obtain_code(server.client)
    response = await redeem(server.client, grant)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
    assert {"access_token", "id_token", "refresh_token"} <= set(body)
    claims = jwt_parts(body["access_token"])[1]
    assert claims["sub"] == "1" and claims["client_id"] == "web" and claims["aud"] == "urn:api1"
    assert claims["sid"] and claims["amr"] == ["pwd"] and claims["idp"] == "local"
    assert await userinfo(server, body["access_token"]) == 200


async def test_code_with_plain_verifier_is_exchanged_for_a_client_allowing_plain(server):
    browser = Browser(server.client)
    await sign_in(browser)
    verifier = "v" * 43
    params = {
        "client_id": "native.plain",
        "response_type": "code",
        "redirect_uri": "https://native.example/cb",
        "scope": "openid api1",
        "state": "s",
        "code_challenge": verifier,
        "code_challenge_method": "plain",
    }
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    grant = CodeGrant(returned["code"], verifier, params, returned)
    assert (await redeem(server.client, grant, code_verifier="w" * 43)).status_code == 400
    grant = CodeGrant(redirect_parameters(await browser.get(authorize_path(params)))["code"], verifier, params, {})
    assert (await redeem(server.client, grant)).status_code == 200


async def test_code_without_pkce_is_exchanged_for_a_client_not_requiring_pkce(server):
    browser = Browser(server.client)
    await sign_in(browser)
    params = {
        "client_id": "native.nopkce",
        "response_type": "code",
        "redirect_uri": "https://native.example/cb",
        "scope": "openid api1",
        "state": "s",
    }
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    response = await redeem(server.client, CodeGrant(returned["code"], "", params, returned), code_verifier=None)
    assert response.status_code == 200, response.text


# -- PKCE at the token endpoint -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verifier",
    [
        None,
        "x" * 43,
        "a" * 42,
        "a" * 129,
        "a" * 42 + "+",
        "a" * 42 + "%",
        "",
    ],
)
async def test_missing_wrong_or_malformed_verifier_is_invalid_grant(server, verifier):
    grant = await obtain_code(server.client)
    assert_invalid_grant(await redeem(server.client, grant, code_verifier=verifier))


async def test_s256_challenge_presented_as_a_plain_verifier_is_invalid_grant(server):
    grant = await obtain_code(server.client)
    assert_invalid_grant(await redeem(server.client, grant, code_verifier=grant.request["code_challenge"]))


async def test_verifier_sent_when_no_challenge_was_used_is_invalid_grant(server):
    browser = Browser(server.client)
    await sign_in(browser)
    params = {
        "client_id": "native.nopkce",
        "response_type": "code",
        "redirect_uri": "https://native.example/cb",
        "scope": "openid",
        "state": "s",
    }
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    grant = CodeGrant(returned["code"], "a" * 43, params, returned)
    assert_invalid_grant(await redeem(server.client, grant))


async def test_failed_redemption_burns_the_code(server):
    grant = await obtain_code(server.client)
    assert_invalid_grant(await redeem(server.client, grant, code_verifier="x" * 43))
    assert_invalid_grant(await redeem(server.client, grant))


async def test_failed_redirect_uri_check_burns_the_code(server):
    grant = await obtain_code(server.client)
    assert_invalid_grant(await redeem(server.client, grant, redirect_uri="https://web.example/other"))
    assert_invalid_grant(await redeem(server.client, grant))


# -- redirect_uri, client binding, expiry, malformed codes ------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        None,
        "https://web.example/CB",
        "https://web.example/cb/",
        "https://web.example/cb?x=1",
        "https://evil.example/cb",
        "",
    ],
)
async def test_redirect_uri_missing_or_different_from_the_authorize_request_is_refused(server, redirect_uri):
    grant = await obtain_code(server.client)
    response = await redeem(server.client, grant, redirect_uri=redirect_uri)
    assert response.status_code == 400
    # security.md item 28: invalid_grant (Duende answers a missing one with unauthorized_client)
    assert response.json()["error"] in (
        ("invalid_grant", "unauthorized_client") if not redirect_uri else ("invalid_grant",)
    )


async def test_code_of_another_client_is_invalid_grant(server):
    grant = await obtain_code(server.client)
    response = await server.client.post(
        "/connect/token",
        headers=basic("web.reference", "secret"),
        data={
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": grant.request["redirect_uri"],
            "code_verifier": grant.verifier,
        },
    )
    assert_invalid_grant(response)
    assert_invalid_grant(await redeem(server.client, grant))  # and the attempt burned it


async def test_code_of_a_confidential_client_needs_its_credentials(server):
    grant = await obtain_code(server.client)
    response = await server.client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": grant.request["redirect_uri"],
            "code_verifier": grant.verifier,
            "client_id": "web",
        },
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    assert (await redeem(server.client, grant)).status_code == 200  # an unauthenticated attempt does not burn it


async def test_code_is_refused_to_a_client_not_allowed_the_grant(server):
    response = await server.token(
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a/cb", "code_verifier": "a" * 43},
        headers=basic("m2m", "secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_expired_code_is_invalid_grant(server):
    grant = await obtain_code(server.client)
    server.clock.advance(301)
    assert_invalid_grant(await redeem(server.client, grant))


async def test_code_just_within_its_lifetime_is_accepted(server):
    grant = await obtain_code(server.client)
    server.clock.advance(299)
    assert (await redeem(server.client, grant)).status_code == 200


@pytest.mark.parametrize("code", ["unknown", "a" * 101, "é" * 10])
async def test_unknown_or_oversized_code_is_invalid_grant(server, code):
    grant = await obtain_code(server.client)
    grant.code = code
    assert_invalid_grant(await redeem(server.client, grant))


async def test_missing_code_is_invalid_request(server):
    grant = await obtain_code(server.client)
    response = await redeem(server.client, grant, code=None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_code_sent_twice_in_one_request_is_invalid_request(server):
    grant = await obtain_code(server.client)
    response = await server.client.post(
        "/connect/token",
        headers=basic("web", "secret"),
        content=(
            f"grant_type=authorization_code&code={grant.code}&code=other&redirect_uri=https%3A%2F%2Fweb.example%2Fcb"
            f"&code_verifier={grant.verifier}"
        ),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# -- replay: revoke what the first redemption issued ------------------------------------------------------------


async def test_replayed_code_is_invalid_grant_and_revokes_the_jwt_access_and_refresh_token(server):
    grant = await obtain_code(server.client)
    first = (await redeem(server.client, grant)).json()
    assert await userinfo(server, first["access_token"]) == 200
    assert await introspect(server, first["access_token"])
    server.clock.advance(30)
    assert_invalid_grant(await redeem(server.client, grant))
    assert await userinfo(server, first["access_token"]) == 401
    assert not await introspect(server, first["access_token"])
    assert not await introspect(server, first["refresh_token"], basic("web", "secret"))
    assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))


async def test_replayed_code_revokes_the_reference_access_token(server):
    grant = await obtain_code(server.client, "web.reference", scope="openid api1 offline_access")
    first = (await redeem(server.client, grant)).json()
    assert "." not in first["access_token"]
    assert await userinfo(server, first["access_token"]) == 200
    assert await introspect(server, first["access_token"])
    assert_invalid_grant(await redeem(server.client, grant))
    assert await userinfo(server, first["access_token"]) == 401
    assert not await introspect(server, first["access_token"])
    assert_invalid_grant(await refresh(server.client, "web.reference", first["refresh_token"]))


async def test_replay_by_another_client_also_revokes_the_first_redemption(server):
    grant = await obtain_code(server.client)
    first = (await redeem(server.client, grant)).json()
    response = await server.client.post(
        "/connect/token",
        headers=basic("web.reference", "secret"),
        data={
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": grant.request["redirect_uri"],
            "code_verifier": grant.verifier,
        },
    )
    assert_invalid_grant(response)
    assert await userinfo(server, first["access_token"]) == 401


async def test_replay_does_not_touch_tokens_of_other_codes(server):
    grant = await obtain_code(server.client)
    other = (await redeem(server.client, await obtain_code(server.client))).json()
    await redeem(server.client, grant)
    assert_invalid_grant(await redeem(server.client, grant))
    assert await userinfo(server, other["access_token"]) == 200
    assert (await refresh(server.client, "web", other["refresh_token"])).status_code == 200


async def test_tokens_refreshed_from_a_replayed_code_are_revoked(server):
    grant = await obtain_code(server.client, "web.reference", scope="openid api1 offline_access")
    first = (await redeem(server.client, grant)).json()
    rotated = await refresh(server.client, "web.reference", first["refresh_token"])
    assert rotated.status_code == 200
    assert_invalid_grant(await redeem(server.client, grant))
    assert_invalid_grant(await refresh(server.client, "web.reference", rotated.json()["refresh_token"]))
    assert await userinfo(server, rotated.json()["access_token"]) == 401


async def test_the_access_token_of_a_code_carries_the_jti_derived_from_it(server):
    grant = await obtain_code(server.client)
    first = (await redeem(server.client, grant)).json()
    assert jwt_parts(first["access_token"])[1]["jti"] == access_token_jti(grant.code)


async def test_replay_revokes_the_access_token_of_a_redemption_without_refresh_token(server):
    """No refresh token, so no family to find the JWT by: the replay refuses the ``jti`` derived from the code."""
    grant = await obtain_code(server.client, scope="openid api1")
    first = (await redeem(server.client, grant)).json()
    assert "refresh_token" not in first
    assert await userinfo(server, first["access_token"]) == 200
    assert_invalid_grant(await redeem(server.client, grant))
    assert await userinfo(server, first["access_token"]) == 401
    assert not await introspect(server, first["access_token"])


async def test_replay_revokes_an_access_token_that_outlives_the_derived_revocation_for_all_its_life():
    builder = make_builder()
    web = next(c for c in builder.clients if c.client_id == "web")
    web.access_token_lifetime = 2 * DERIVED_JTI_REVOCATION
    async with running(builder) as server:
        grant = await obtain_code(server.client, scope="openid api1")
        first = (await redeem(server.client, grant)).json()
        assert_invalid_grant(await redeem(server.client, grant))
        server.clock.advance(DERIVED_JTI_REVOCATION + 60)
        await server.services.token_cleanup.cleanup_grants()
        assert await userinfo(server, first["access_token"]) == 401


# -- concurrency (security.md 3.1 R1) ---------------------------------------------------------------------------


async def test_twenty_parallel_redemptions_of_one_code_give_exactly_one_success():
    async with running(interleaving(make_builder())) as server:
        await _code_race(server)


async def test_twenty_parallel_redemptions_of_a_code_without_refresh_token_revoke_the_winners_jwt():
    async with running(interleaving(make_builder())) as server:
        await _code_race(server, scope="openid api1")


async def _code_race(server: Server, scope: str = "openid profile api1 offline_access") -> None:
    grant = await obtain_code(server.client, scope=scope)
    responses = await asyncio.gather(*(redeem(server.client, grant) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    # the losers are replays: what the winner got is revoked, consistently
    assert await userinfo(server, winner["access_token"]) == 401
    if "refresh_token" in winner:
        assert_invalid_grant(await refresh(server.client, "web", winner["refresh_token"]))
