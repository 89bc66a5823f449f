"""Token endpoint, ``refresh_token`` grant (RFC 6749 §6; RFC 9700 §4.14; OIDC Core §12; duende §1.20, §6 items
7-8; security.md 1.3 and 3.1 R2, R4).

One-time tokens rotate; reuse tokens stay; lifetimes are absolute from the first issuance or sliding (capped by
the absolute lifetime). With ``delete_one_time_only_refresh_tokens_on_use`` (6.3 default) a used token is
deleted (leaving a tombstone); when false it is kept as consumed. Either way presenting it again revokes its
whole family."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import left_half_hash
from identityserver.models.claims import Claim
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import IdentityServerOptions, PersistentGrantOptions
from tests.support.browser import refresh, tokens_for
from tests.support.client_auth import form_basic, jwt_parts, verify_jwt
from tests.support.concurrency import interleaving
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running

API1 = form_basic("urn:api1", "api1-secret")
CONSUME = replace(
    IdentityServerOptions(), persisted_grants=PersistentGrantOptions(delete_one_time_only_refresh_tokens_on_use=False)
)


def assert_invalid_grant(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


async def userinfo_status(server: Server, access_token: str) -> int:
    response = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def refresh_token_rows(server: Server, client_id: str = "web") -> list:
    return await server.services.persisted_grants.get_all(
        PersistedGrantFilter(subject_id="1", client_id=client_id, type=PersistedGrantTypes.REFRESH_TOKEN)
    )


# -- rotation and reuse -------------------------------------------------------------------------------------------


async def test_one_time_refresh_token_rotates_and_the_old_one_is_refused(server):
    first = await tokens_for(server.client)
    response = await refresh(server.client, "web", first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["token_type"] == "Bearer" and second["expires_in"] == 3600
    assert set(second["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
    assert await userinfo_status(server, second["access_token"]) == 200
    assert (await refresh(server.client, "web", second["refresh_token"])).status_code == 200
    assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))


async def test_reuse_refresh_token_stays_the_same_and_keeps_working(server):
    first = await tokens_for(server.client, "web.reuse", scope="openid api1 offline_access")
    for _ in range(3):
        response = await refresh(server.client, "web.reuse", first["refresh_token"])
        assert response.status_code == 200, response.text
        assert response.json()["refresh_token"] == first["refresh_token"]


async def test_refresh_tokens_are_stored_by_hashed_handle_only(server):
    first = await tokens_for(server.client)
    rows = await refresh_token_rows(server)
    assert len(rows) == 1
    handle = first["refresh_token"]
    assert handle not in rows[0].key and handle not in rows[0].data


# -- lifetimes -----------------------------------------------------------------------------------------------------


async def test_absolute_lifetime_counts_from_the_first_issuance_across_rotations(server):
    token = (await tokens_for(server.client))["refresh_token"]
    server.clock.advance(days=20)
    response = await refresh(server.client, "web", token)
    assert response.status_code == 200
    token = response.json()["refresh_token"]
    server.clock.advance(days=9, hours=23)
    response = await refresh(server.client, "web", token)
    assert response.status_code == 200
    token = response.json()["refresh_token"]
    server.clock.advance(hours=1, seconds=1)  # 30 days + 1 s after the first issuance
    assert_invalid_grant(await refresh(server.client, "web", token))


async def test_sliding_lifetime_is_extended_by_use_but_capped_by_the_absolute_lifetime(server):
    # web.sliding: sliding 1000 s, absolute 2500 s
    token = (await tokens_for(server.client, "web.sliding", scope="openid api1 offline_access"))["refresh_token"]
    for _ in range(2):
        server.clock.advance(900)  # t = 900, 1800: each within 1000 s of the last use
        response = await refresh(server.client, "web.sliding", token)
        assert response.status_code == 200, response.text
        token = response.json()["refresh_token"]
    server.clock.advance(650)  # t = 2450 < 2500
    response = await refresh(server.client, "web.sliding", token)
    assert response.status_code == 200
    token = response.json()["refresh_token"]
    server.clock.advance(100)  # t = 2550: within the sliding window of the last use, past the absolute cap
    assert_invalid_grant(await refresh(server.client, "web.sliding", token))


async def test_sliding_refresh_token_expires_when_unused_for_the_sliding_lifetime(server):
    token = (await tokens_for(server.client, "web.sliding", scope="openid api1 offline_access"))["refresh_token"]
    server.clock.advance(1001)
    assert_invalid_grant(await refresh(server.client, "web.sliding", token))


async def test_sliding_refresh_token_used_just_in_time_survives(server):
    token = (await tokens_for(server.client, "web.sliding", scope="openid api1 offline_access"))["refresh_token"]
    server.clock.advance(999)
    assert (await refresh(server.client, "web.sliding", token)).status_code == 200


# -- scopes ----------------------------------------------------------------------------------------------------------


async def test_narrower_scope_is_granted_and_the_refresh_token_keeps_the_original_grant(server):
    first = await tokens_for(server.client)
    response = await refresh(server.client, "web", first["refresh_token"], scope="api1")
    assert response.status_code == 200, response.text
    narrowed = response.json()
    assert narrowed["scope"] == "api1"
    assert "id_token" not in narrowed
    assert jwt_parts(narrowed["access_token"])[1]["scope"] == "api1"
    assert await userinfo_status(server, narrowed["access_token"]) == 403
    again = await refresh(server.client, "web", narrowed["refresh_token"])
    assert again.status_code == 200
    assert set(again.json()["scope"].split()) == {"openid", "profile", "api1", "offline_access"}


@pytest.mark.parametrize("scope", ["api2", "openid api1 email", "openid api1 api2", "unknown", "isolated.scope"])
async def test_scope_beyond_the_original_grant_is_invalid_scope(server, scope):
    first = await tokens_for(server.client)
    response = await refresh(server.client, "web", first["refresh_token"], scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_scope_escalation_attempt_does_not_burn_the_refresh_token(server):
    first = await tokens_for(server.client)
    assert (await refresh(server.client, "web", first["refresh_token"], scope="api2")).status_code == 400
    assert (await refresh(server.client, "web", first["refresh_token"])).status_code == 200


# -- binding to the client, the user and the client's settings ----------------------------------------------------


async def test_refresh_token_of_another_client_is_invalid_grant(server):
    first = await tokens_for(server.client)
    assert_invalid_grant(await refresh(server.client, "web.reuse", first["refresh_token"]))
    assert (await refresh(server.client, "web", first["refresh_token"])).status_code == 200


async def test_confidential_client_must_authenticate_to_refresh(server):
    first = await tokens_for(server.client)
    response = await server.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "web"}
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    response = await server.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, headers=basic("web", "wrong")
    )
    assert response.json()["error"] == "invalid_client"


async def test_client_that_lost_offline_access_cannot_refresh(server):
    first = await tokens_for(server.client)
    client = await server.services.clients.find_client_by_id("web")
    assert client is not None
    client.allow_offline_access = False
    response = await refresh(server.client, "web", first["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "unauthorized_client")


async def test_client_without_offline_access_gets_no_refresh_token(server):
    body = await tokens_for(server.client, "web.nooffline", scope="openid api1")
    assert "refresh_token" not in body
    response = await refresh(server.client, "web.nooffline", "anything")
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "unauthorized_client")


async def test_refresh_token_of_an_inactive_user_is_invalid_grant(server):
    first = await tokens_for(server.client)
    user = await server.services.users.find_by_username("alice")
    user.is_active = False
    assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))


@pytest.mark.parametrize("token", ["unknown", "a" * 101, "ä" * 20])
async def test_unknown_or_oversized_refresh_token_is_invalid_grant(server, token):
    assert_invalid_grant(await refresh(server.client, "web", token))


async def test_missing_refresh_token_is_invalid_request(server):
    response = await server.token({"grant_type": "refresh_token"}, headers=basic("web", "secret"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


# -- delete vs consume of used one-time tokens ----------------------------------------------------------------------


async def test_used_one_time_token_is_deleted_by_default_and_its_replay_revokes_the_family(server):
    first = await tokens_for(server.client)
    second = (await refresh(server.client, "web", first["refresh_token"])).json()
    assert len(await refresh_token_rows(server)) == 1
    assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))
    # 6.3 revokes nothing here; the used token's tombstone lets the replay revoke the family (RFC 9700 §4.14.2)
    assert_invalid_grant(await refresh(server.client, "web", second["refresh_token"]))
    assert await refresh_token_rows(server) == []


async def test_with_consume_a_used_token_is_kept_consumed_and_its_replay_revokes_the_family():
    async with running(make_builder(options=CONSUME)) as server:
        first = await tokens_for(server.client)
        second = (await refresh(server.client, "web", first["refresh_token"])).json()
        rows = await refresh_token_rows(server)
        assert len(rows) == 2 and sum(r.consumed_time is not None for r in rows) == 1
        assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))
        assert_invalid_grant(await refresh(server.client, "web", second["refresh_token"]))
        assert await refresh_token_rows(server) == []


async def test_with_consume_the_replay_revokes_the_family_reference_access_tokens():
    async with running(make_builder(options=CONSUME)) as server:
        first = await tokens_for(server.client, "web.reference", scope="openid api1 offline_access")
        second = (await refresh(server.client, "web.reference", first["refresh_token"])).json()
        assert await userinfo_status(server, second["access_token"]) == 200
        assert_invalid_grant(await refresh(server.client, "web.reference", first["refresh_token"]))
        assert await userinfo_status(server, second["access_token"]) == 401


async def test_with_consume_a_replay_does_not_revoke_another_family():
    async with running(make_builder(options=CONSUME)) as server:
        first = await tokens_for(server.client)
        other = await tokens_for(server.client)
        await refresh(server.client, "web", first["refresh_token"])
        assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))
        assert (await refresh(server.client, "web", other["refresh_token"])).status_code == 200


async def test_introspection_reports_a_consumed_refresh_token_inactive():
    async with running(make_builder(options=CONSUME)) as server:
        first = await tokens_for(server.client)
        await refresh(server.client, "web", first["refresh_token"])
        response = await server.client.post(
            "/connect/introspect", data={"token": first["refresh_token"]}, headers=basic("web", "secret")
        )
        assert response.json() == {"active": False}


# -- concurrency (security.md 3.1 R2, R4) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(None, id="delete"),
        pytest.param(CONSUME, id="consume"),
    ],
)
async def test_twenty_parallel_refreshes_of_a_one_time_token_give_exactly_one_success(options):
    async with running(interleaving(make_builder(options=options))) as server:
        token = (await tokens_for(server.client))["refresh_token"]
        responses = await asyncio.gather(*(refresh(server.client, "web", token) for _ in range(20)))
        assert sorted(r.status_code for r in responses) == [200] + [400] * 19
        assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
        winner = next(r.json() for r in responses if r.status_code == 200)
        outcome = (await refresh(server.client, "web", winner["refresh_token"])).status_code
        # the losers present a used token (deleted with a tombstone, or consumed): a reuse, and the family is
        # revoked (RFC 9700 §4.14.2) - whatever the interleaving
        assert outcome == 400


async def test_twenty_parallel_refreshes_of_a_reuse_token_all_succeed():
    async with running(interleaving(make_builder())) as server:
        await _reuse_race(server)


async def _reuse_race(server: Server) -> None:
    token = (await tokens_for(server.client, "web.reuse", scope="openid api1 offline_access"))["refresh_token"]
    responses = await asyncio.gather(*(refresh(server.client, "web.reuse", token) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert {r.json()["refresh_token"] for r in responses} == {token}


# -- access token and id_token on refresh -------------------------------------------------------------------------

CLAIMS_TOML = """
[[clients]]
client_id = "claims.static"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api3"]
allow_offline_access = true

[[clients]]
client_id = "claims.updated"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api3"]
allow_offline_access = true
update_access_token_claims_on_refresh = true

[[api_scopes]]
name = "api3"
user_claims = ["email"]

[[api_resources]]
name = "urn:api3"
scopes = ["api3"]
"""


@pytest.mark.parametrize(
    "client_id, expected", [("claims.static", "alice@example.com"), ("claims.updated", "alice@new.example")]
)
async def test_access_token_claims_are_kept_on_refresh_unless_the_client_updates_them(client_id, expected):
    async with running(make_builder(configuration_with(CLAIMS_TOML))) as server:
        first = await tokens_for(server.client, client_id, scope="openid api3 offline_access")
        assert jwt_parts(first["access_token"])[1]["email"] == "alice@example.com"
        user = await server.services.users.find_by_username("alice")
        user.claims = [c for c in user.claims if c.type != "email"] + [Claim("email", "alice@new.example")]
        server.clock.advance(10)
        response = await refresh(server.client, client_id, first["refresh_token"])
        assert response.status_code == 200, response.text
        claims = jwt_parts(response.json()["access_token"])[1]
        assert claims["email"] == expected
        assert claims["iat"] == jwt_parts(first["access_token"])[1]["iat"] + 10
        assert claims["jti"] != jwt_parts(first["access_token"])[1]["jti"]


async def test_id_token_on_refresh_keeps_iss_sub_aud_auth_time_and_hashes_the_new_access_token(server):
    first = await tokens_for(server.client)
    original = jwt_parts(first["id_token"])[1]
    server.clock.advance(60)
    body = (await refresh(server.client, "web", first["refresh_token"])).json()
    jwks = (await server.client.get("/.well-known/openid-configuration/jwks")).json()
    claims = verify_jwt(body["id_token"], jwks, ["RS256"])
    for name in ("iss", "sub", "aud", "auth_time", "sid", "amr", "idp"):
        assert claims[name] == original[name], name
    assert claims["iat"] == original["iat"] + 60
    assert "nonce" not in claims
    assert claims["at_hash"] == left_half_hash(body["access_token"], jwt_parts(body["id_token"])[0]["alg"])


async def test_reference_access_token_is_issued_again_on_refresh(server):
    first = await tokens_for(server.client, "web.reference", scope="openid api1 offline_access")
    body = (await refresh(server.client, "web.reference", first["refresh_token"])).json()
    assert "." not in body["access_token"]
    assert await userinfo_status(server, body["access_token"]) == 200


# -- introspection and revocation of refresh tokens ----------------------------------------------------------------


async def test_client_introspects_its_own_refresh_token(server):
    first = await tokens_for(server.client)
    response = await server.client.post(
        "/connect/introspect", data={"token": first["refresh_token"]}, headers=basic("web", "secret")
    )
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == "web" and body["sub"] == "1"
    assert set(body["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
    assert body["exp"] - body["iat"] == 2592000


async def test_another_client_sees_a_refresh_token_inactive(server):
    first = await tokens_for(server.client)
    response = await server.client.post(
        "/connect/introspect", data={"token": first["refresh_token"]}, headers=basic("web.reuse", "secret")
    )
    assert response.json() == {"active": False}
    assert (await refresh(server.client, "web", first["refresh_token"])).status_code == 200


async def test_revoked_refresh_token_cannot_be_used(server):
    first = await tokens_for(server.client)
    response = await server.client.post(
        "/connect/revocation",
        data={"token": first["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic("web", "secret"),
    )
    assert response.status_code == 200
    assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))


async def test_revocation_by_another_client_leaves_the_refresh_token_alone(server):
    first = await tokens_for(server.client)
    response = await server.client.post(
        "/connect/revocation", data={"token": first["refresh_token"]}, headers=basic("web.reuse", "secret")
    )
    assert response.status_code == 200
    assert (await refresh(server.client, "web", first["refresh_token"])).status_code == 200
