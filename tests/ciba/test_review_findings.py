"""Regressions found by an adversarial review of CIBA (CIBA Core 1.0 §7.1, §11): malformed input is a clean
error, and a refused poll changes nothing."""

from __future__ import annotations

from tests.ciba.support import backchannel, ciba_builder, decide, poll, start
from tests.support.server import running


async def test_requested_expiry_in_non_ascii_digits_is_invalid_request_not_a_500() -> None:
    async with running(ciba_builder()) as server:
        for value in ("\u00b2", "\uff11\uff12", "\u0663"):  # superscript two, fullwidth 12, Arabic-Indic 3
            response = await backchannel(server, {"scope": "openid", "login_hint": "alice", "requested_expiry": value})
            assert response.status_code == 400, (value, response.text)
            assert response.json()["error"] == "invalid_request"


async def test_poll_with_a_resource_outside_the_request_leaves_the_approved_request_redeemable() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server, resource="urn:api1")
        await decide(server)
        server.clock.advance(5)
        wrong = await server.token(
            {"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": auth_req_id, "resource": "urn:api2"},
            auth=("ciba", "secret"),
        )
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_target"), wrong.text
        server.clock.advance(5)
        tokens = await poll(server, auth_req_id)
        assert tokens.status_code == 200, tokens.text


async def test_request_object_resource_that_is_not_a_string_or_array_of_strings_is_invalid_request() -> None:
    from tests.ciba.test_request_objects import SIGNED_TOML, claims, count, send
    from tests.support.client_auth import client_assertion
    from tests.support.data import RSA_CLIENT_KEY

    async with running(ciba_builder(SIGNED_TOML)) as server:
        for resource in (5, True, {"urn:api1": 1}, ["urn:api1", 2]):
            token = client_assertion(RSA_CLIENT_KEY, "RS256", claims(server, resource=resource))
            response = await send(server, {"request": token})
            assert response.status_code == 400, (resource, response.text)
            assert response.json()["error"] == "invalid_request"
            assert "resource" in response.json()["error_description"]
        assert await count(server) == 0


async def test_a_notification_token_that_is_not_a_bearer_token_is_invalid_request() -> None:
    """CIBA Core §7.1: client_notification_token is a bearer token (RFC 6750 §2.1 b64token); one that cannot be
    sent in an Authorization header (a line break would be a header injection) is refused, not accepted and then
    never delivered."""
    from tests.ciba.test_ping import ping_client

    async with running(ciba_builder(ping_client("http://127.0.0.1:9/cb"))) as server:
        for token in ("a\r\nX-Injected: 1", "two words", "caf\u00e9"):
            data = {"scope": "openid", "login_hint": "alice", "client_notification_token": token}
            response = await backchannel(server, data, "ciba.pinged")
            assert response.status_code == 400, (token, response.text)
            assert response.json()["error"] == "invalid_request"
        fine = {"scope": "openid", "login_hint": "alice", "client_notification_token": "rp-Token_1.2~3+4/5=="}
        assert (await backchannel(server, fine, "ciba.pinged")).status_code == 200
