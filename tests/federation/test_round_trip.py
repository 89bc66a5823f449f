"""The upstream round trip between two in-process servers over HTTP: sign-in through ``corp`` (code + PKCE) and
``legacy`` (``id_token`` by form_post), provisioning, the tokens' ``idp``/``amr``, ``acr_values=idp:``, client
restrictions, linking, and sign-out in both directions."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from identityserver.events import UserLoginSuccessEvent
from identityserver.services.identity_providers import FederationService
from identityserver.stores.identity_providers import InMemoryExternalLoginStore
from tests.federation.support import (
    DOWNSTREAM,
    RP_REDIRECT,
    UPSTREAM,
    Federation,
    federation,
    idp_links,
    query,
)
from tests.support.browser import code_request, forms, is_login_page, redirect_parameters
from tests.support.client_auth import RecordingEventSink


def claims_of(jwt: str) -> dict[str, object]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def logins(services: object) -> InMemoryExternalLoginStore:
    federation_service = services.federation  # type: ignore[attr-defined]
    assert isinstance(federation_service, FederationService)
    store = federation_service.resolver.logins  # type: ignore[attr-defined]
    assert isinstance(store, InMemoryExternalLoginStore)
    return store


async def authorize(fed: Federation, client_id: str = "rp", **extra: str) -> tuple[httpx.Response, dict[str, str], str]:
    params, verifier = code_request(client_id, RP_REDIRECT, "openid profile email", **extra)
    if client_id == "rp.corp":
        params["scope"] = "openid profile"
    page = await fed.browser.get(f"{DOWNSTREAM}/connect/authorize?{urlencode(params)}")
    return page, params, verifier


async def upstream_login(fed: Federation, page: httpx.Response) -> httpx.Response:
    assert is_login_page(page) and str(page.url).startswith(UPSTREAM), page.text[:300]
    return await fed.browser.login(page, "alice", "alice")


async def redeem(fed: Federation, client_id: str, params: dict[str, str], verifier: str, code: str) -> dict[str, str]:
    response = await fed.http.post(
        f"{DOWNSTREAM}/connect/token",
        auth=(client_id, "secret"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": RP_REDIRECT, "code_verifier": verifier},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def sign_in_through_corp(fed: Federation) -> dict[str, object]:
    page, params, verifier = await authorize(fed)
    links = idp_links(page)
    assert set(links) == {"corp", "legacy"}  # the disabled provider is not offered
    done = await fed.browser.get(links["corp"])
    if is_login_page(done):  # else the upstream session answers at once (single sign-on)
        done = await upstream_login(fed, done)
    assert done.status_code == 302 and done.headers["location"].startswith(RP_REDIRECT), done.text[:500]
    returned = redirect_parameters(done)
    assert returned["state"] == params["state"]
    tokens = await redeem(fed, "rp", params, verifier, returned["code"])
    return claims_of(tokens["id_token"])


async def test_sign_in_through_the_upstream_provisions_a_user_and_sets_idp_and_amr() -> None:
    async with federation() as fed:
        claims = await sign_in_through_corp(fed)
        assert claims["idp"] == "corp" and claims["amr"] == ["external"]
        links = await logins(fed.downstream).find_by_subject(str(claims["sub"]))
        assert [(x.scheme, x.provider_subject_id) for x in links] == [("corp", "up-1")]
        user = await fed.downstream.users.find_by_subject_id(str(claims["sub"]))  # type: ignore[union-attr]
        assert user is not None and user.username == "corp.up-1"  # no preferred_username upstream: its sub
        assert {c.type: c.value for c in user.claims}["name"] == "Alice Upstream"  # profile mapped
        assert fed.session_cookie(UPSTREAM) and fed.session_cookie(DOWNSTREAM)

        # a second sign-in (after signing out here only) finds the same local user: no second account
        fed.http.cookies.delete("idsrv", domain="downstream.example")
        again = await sign_in_through_corp(fed)
        assert again["sub"] == claims["sub"]
        assert len(await logins(fed.downstream).find_by_subject(str(claims["sub"]))) == 1


async def test_the_id_token_response_type_by_form_post() -> None:
    sink = RecordingEventSink()
    async with federation(events=sink) as fed:
        page, params, verifier = await authorize(fed)
        posted = await upstream_login(fed, await fed.browser.get(idp_links(page)["legacy"]))
        form = forms(posted.text)[0]
        assert form.action == f"{DOWNSTREAM}/federation/legacy/signin"
        done = await fed.browser.follow(await fed.http.post(form.action, data=dict(form.fields)))
        returned = redirect_parameters(done)
        claims = claims_of((await redeem(fed, "rp", params, verifier, returned["code"]))["id_token"])
        assert claims["idp"] == "legacy" and claims["amr"] == ["external"]
        (success,) = sink.of_type(UserLoginSuccessEvent)
        assert (success.provider, success.provider_user_id, success.subject_id) == ("legacy", "up-1", claims["sub"])


async def test_acr_values_idp_goes_straight_to_the_provider() -> None:
    async with federation() as fed:
        params, _ = code_request("rp", RP_REDIRECT, "openid", acr_values="idp:corp")
        first = await fed.http.get(f"{DOWNSTREAM}/connect/authorize?{urlencode(params)}")
        login = await fed.http.get(first.headers["location"])
        assert login.status_code == 302 and login.headers["location"].startswith("/account/external?scheme=corp")
        page = await fed.browser.follow(login)
        assert str(page.url).startswith(f"{UPSTREAM}/account/login")


async def test_a_client_with_one_provider_and_no_local_login_goes_straight_there() -> None:
    async with federation() as fed:
        page, params, verifier = await authorize(fed, "rp.corp")
        assert str(page.url).startswith(f"{UPSTREAM}/account/login")  # no local page at all
        done = await upstream_login(fed, page)
        claims = claims_of(
            (await redeem(fed, "rp.corp", params, verifier, redirect_parameters(done)["code"]))["id_token"]
        )
        assert claims["idp"] == "corp"


async def test_restrictions_and_disabled_local_login_are_enforced_on_the_login_page() -> None:
    async with federation() as fed:
        params, _ = code_request("rp.corp", RP_REDIRECT, "openid")
        first = await fed.http.get(f"{DOWNSTREAM}/connect/authorize?{urlencode(params)}")
        return_url = query(first.headers["location"])["returnUrl"]
        # a provider the client does not accept cannot be started for its request
        refused = await fed.http.get(
            f"{DOWNSTREAM}/account/external?{urlencode({'scheme': 'legacy', 'returnUrl': return_url})}"
        )
        assert refused.status_code == 404 and fed.session_cookie(DOWNSTREAM) is None
        # the password form is refused for a client without local login, even when posted directly
        login = await fed.http.get(f"{DOWNSTREAM}/account/login", params={"returnUrl": return_url})
        assert login.status_code == 302  # straight to the only provider
        plain = await fed.http.get(f"{DOWNSTREAM}/account/login")
        token = dict(forms(plain.text)[0].fields)["__RequestVerificationToken"]
        posted = await fed.http.post(
            f"{DOWNSTREAM}/account/login",
            data={
                "__RequestVerificationToken": token,
                "returnUrl": return_url,
                "username": "bob",
                "password": "bob",
                "button": "login",
            },
        )
        assert posted.status_code == 400 and fed.session_cookie(DOWNSTREAM) is None


async def test_linking_needs_the_local_users_own_sign_in() -> None:
    async with federation() as fed:
        refused = await fed.http.get(f"{DOWNSTREAM}/account/external?scheme=corp&link=true")
        assert refused.status_code == 400  # nobody signed in here: nothing to link to
        page = await fed.browser.get(f"{DOWNSTREAM}/account/login")
        await fed.browser.login(page, "bob", "bob")
        done = await upstream_login(fed, await fed.browser.get(f"{DOWNSTREAM}/account/external?scheme=corp&link=true"))
        assert done.status_code == 200 and str(done.url) == f"{DOWNSTREAM}/"
        assert [x.subject_id for x in await logins(fed.downstream).find_by_subject("local-bob")] == ["local-bob"]
        # from now on the upstream account signs in as bob
        fed.http.cookies.delete("idsrv", domain="downstream.example")
        claims = await sign_in_through_corp(fed)
        assert claims["sub"] == "local-bob" and claims["idp"] == "corp"


@pytest.mark.parametrize("server_side_sessions", [False, True])
async def test_signing_out_here_signs_out_upstream_too(server_side_sessions: bool) -> None:
    async with federation(server_side_sessions=server_side_sessions) as fed:
        await sign_in_through_corp(fed)
        page = await fed.browser.get(f"{DOWNSTREAM}/account/logout")
        upstream = await fed.http.post(
            f"{DOWNSTREAM}/account/logout", data={**dict(forms(page.text)[0].fields), "button": "yes"}
        )
        location = upstream.headers["location"]
        assert location.startswith(f"{UPSTREAM}/connect/endsession?")
        sent = query(location)
        assert sent["client_id"] == "downstream" and sent["id_token_hint"].count(".") == 2
        assert sent["post_logout_redirect_uri"] == f"{DOWNSTREAM}/federation/corp/signout-callback"
        assert fed.session_cookie(DOWNSTREAM) in (None, "")
        ended = await fed.browser.get(location)  # the upstream ends its session (a valid id_token_hint: no prompt)
        assert fed.session_cookie(UPSTREAM) in (None, "")
        back = next(a for a in ended.text.split('"') if a.startswith(f"{DOWNSTREAM}/federation/corp/signout-callback"))
        final = await fed.browser.get(back.replace("&amp;", "&"))
        assert urlsplit(str(final.url)).path == "/account/logged-out" and final.status_code == 200


@pytest.mark.parametrize("server_side_sessions", [False, True])
async def test_an_upstream_front_channel_logout_ends_the_session_here(server_side_sessions: bool) -> None:
    async with federation(server_side_sessions=server_side_sessions) as fed:
        await sign_in_through_corp(fed)
        session = fed.session_cookie(DOWNSTREAM)
        # the wrong sid or issuer changes nothing
        for wrong in ({"iss": UPSTREAM, "sid": "other"}, {"iss": "https://evil.example", "sid": "x"}):
            answer = await fed.http.get(f"{DOWNSTREAM}/federation/corp/signout", params=wrong)
            assert answer.status_code == 200 and fed.session_cookie(DOWNSTREAM) == session
        # the upstream's own sign-out renders our front-channel URL with its iss and sid
        page = await fed.browser.get(f"{UPSTREAM}/account/logout")
        ended = await fed.browser.submit(page, {"button": "yes"})
        frame = next(a for a in ended.text.split('"') if a.startswith(f"{DOWNSTREAM}/federation/corp/signout?"))
        answer = await fed.http.get(frame.replace("&amp;", "&"))
        assert answer.status_code == 200
        assert f"frame-ancestors {UPSTREAM}" in answer.headers["content-security-policy"]
        assert fed.session_cookie(DOWNSTREAM) in (None, "")
        params, _ = code_request("rp", RP_REDIRECT, "openid", prompt="none")
        silent = await fed.http.get(f"{DOWNSTREAM}/connect/authorize?{urlencode(params)}")
        assert redirect_parameters(silent)["error"] == "login_required"
