"""Bad input at the federation endpoints: an error page or a clean refusal, the session unchanged, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode, urljoin

import httpx

from identityserver.events import UserLoginFailureEvent
from tests.federation.support import DOWNSTREAM, UPSTREAM, Federation, federation, query
from tests.support.browser import forms, is_login_page
from tests.support.client_auth import RecordingEventSink


async def start(fed: Federation, scheme: str = "corp") -> tuple[httpx.Response, dict[str, str]]:
    """Start the round trip; returns the redirect to the upstream and its parameters."""
    challenge = await fed.http.get(f"{DOWNSTREAM}/account/external", params={"scheme": scheme})
    assert challenge.status_code == 302, challenge.text
    return challenge, query(challenge.headers["location"])


async def answer_of_upstream(fed: Federation, location: str) -> str:
    """Sign in at the upstream and return its redirect back to us (not followed)."""
    page = await fed.browser.get(location)
    assert is_login_page(page)
    form = dict(forms(page.text)[0].fields)
    response = await fed.http.post(
        str(page.url).split("?")[0], data={**form, "username": "alice", "password": "alice", "button": "login"}
    )
    while not response.headers["location"].startswith(f"{DOWNSTREAM}/federation/"):
        response = await fed.http.get(urljoin(str(response.url), response.headers["location"]))
    return response.headers["location"]


async def test_the_request_to_the_upstream_carries_state_nonce_and_pkce() -> None:
    async with federation() as fed:
        challenge, sent = await start(fed)
        assert challenge.headers["location"].startswith(f"{UPSTREAM}/connect/authorize?")
        assert sent["response_type"] == "code" and sent["code_challenge_method"] == "S256"
        assert len(sent["state"]) >= 32 and len(sent["nonce"]) >= 32 and sent["state"] != sent["nonce"]
        assert sent["redirect_uri"] == f"{DOWNSTREAM}/federation/corp/signin"
        cookie = challenge.headers["set-cookie"]
        assert cookie.startswith("idsrv.external=") and "HttpOnly" in cookie and "SameSite=None; Secure" in cookie


async def test_unknown_and_disabled_schemes_are_refused() -> None:
    async with federation() as fed:
        for scheme in ("nope", "off", "", "x" * 300, "../corp"):
            response = await fed.http.get(f"{DOWNSTREAM}/account/external", params={"scheme": scheme})
            assert response.status_code == 404, scheme
            assert "not available" in response.text
        callback = await fed.http.get(f"{DOWNSTREAM}/federation/nope/signin?code=x&state=y")
        assert callback.status_code == 400


async def test_a_mismatched_state_or_a_missing_cookie_is_refused() -> None:
    async with federation() as fed:
        _, sent = await start(fed)
        back = await answer_of_upstream(fed, f"{UPSTREAM}/connect/authorize?{urlencode(sent)}")
        forged = back.replace(f"state={sent['state']}", "state=forged")
        refused = await fed.http.get(forged)
        assert refused.status_code == 400 and fed.session_cookie(DOWNSTREAM) is None
        # another browser (no state cookie) presenting the real answer
        async with httpx.AsyncClient(mounts=fed.mounts) as other:
            stranger = await other.get(back)
        assert stranger.status_code == 400


async def test_a_replayed_answer_is_refused_and_the_session_is_unchanged() -> None:
    async with federation() as fed:
        _, sent = await start(fed)
        cookie = fed.http.cookies.get("idsrv.external", domain="downstream.example")
        back = await answer_of_upstream(fed, f"{UPSTREAM}/connect/authorize?{urlencode(sent)}")
        first = await fed.http.get(back)
        assert first.status_code == 302 and fed.session_cookie(DOWNSTREAM)
        session = fed.session_cookie(DOWNSTREAM)
        fed.http.cookies.set("idsrv.external", cookie or "", domain="downstream.example")  # a captured cookie
        replay = await fed.http.get(back)
        assert replay.status_code == 400 and fed.session_cookie(DOWNSTREAM) == session


async def test_an_upstream_error_is_an_error_page_and_a_failure_event() -> None:
    sink = RecordingEventSink()
    async with federation(events=sink) as fed:
        _, sent = await start(fed)
        response = await fed.http.get(
            f"{DOWNSTREAM}/federation/corp/signin",
            params={"error": "access_denied", "state": sent["state"]},
        )
        assert response.status_code == 400 and "did not sign you in (access_denied)" in response.text
        assert fed.session_cookie(DOWNSTREAM) is None
        assert "idsrv.external=;" in response.headers["set-cookie"]  # the round trip is over
        (failure,) = sink.of_type(UserLoginFailureEvent)
        assert failure.username == "corp:external" and failure.message == "upstream error access_denied"


async def test_a_forged_code_or_id_token_is_refused() -> None:
    async with federation() as fed:
        _, sent = await start(fed)
        bad_code = await fed.http.get(
            f"{DOWNSTREAM}/federation/corp/signin", params={"code": "forged", "state": sent["state"]}
        )
        assert bad_code.status_code == 400 and "was not valid" in bad_code.text
        _, sent = await start(fed, "legacy")
        token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."  # alg none
        forged = await fed.http.post(
            f"{DOWNSTREAM}/federation/legacy/signin", data={"id_token": token, "state": sent["state"]}
        )
        assert forged.status_code == 400 and fed.session_cookie(DOWNSTREAM) is None


async def test_an_unreachable_upstream_is_an_error_page() -> None:
    async with federation(extra_downstream=UNREACHABLE) as fed:
        response = await fed.http.get(f"{DOWNSTREAM}/account/external", params={"scheme": "gone"})
        assert response.status_code == 502 and "cannot be reached" in response.text


UNREACHABLE = """
[[identity_providers]]
scheme = "gone"
authority = "https://gone.example"
client_id = "x"
response_type = "code"
"""
