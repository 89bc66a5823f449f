"""The built-in pages: login, consent, create account, logout, error, grants (security.md 1.17 items 138-145;
interface-contract.md "Browser interaction"; duende §1.15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from identityserver.models.messages import ErrorMessage
from identityserver.options import IdentityServerOptions, UserInteractionOptions
from tests.support.browser import (
    Browser,
    CodeGrant,
    authorize_path,
    code_request,
    complete_authorize,
    forms,
    is_consent_page,
    is_login_page,
    obtain_code,
    redeem,
    redirect_parameters,
    sign_in,
)
from tests.support.server import ISSUER, Server, make_builder, running

WEB_CB = "https://web.example/cb"
CREATE = replace(IdentityServerOptions(), user_interaction=UserInteractionOptions(create_account_url="/account/create"))


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(options=CREATE)) as srv:
        yield srv


def other_browser(server: Server, base_url: str = ISSUER) -> httpx.AsyncClient:
    """A second browser (own cookie jar) on the same server."""
    return httpx.AsyncClient(transport=server.client._transport, base_url=base_url)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


async def login_page_for(browser: Browser, **extra: str) -> tuple[httpx.Response, dict[str, str]]:
    params, _ = code_request(**extra)
    page = await browser.get(authorize_path(params))
    assert is_login_page(page)
    return page, params


async def post_form(
    client: httpx.AsyncClient, page: httpx.Response, values: dict[str, str], drop: tuple[str, ...] = ()
) -> httpx.Response:
    """Submit the page's first form without following redirects (optionally dropping fields)."""
    form = forms(page.text)[0]
    data = [(n, v) for n, v in form.fields if n not in drop and n not in values] + list(values.items())
    return await client.post(
        form.action, content=urlencode(data), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


# -- security headers on every page --------------------------------------------------------------------------


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-frame-options"] == "DENY", response.url
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


async def test_every_page_sends_anti_framing_csp_and_referrer_headers(server):
    client = server.client
    browser = Browser(client)
    pages = [
        await client.get("/"),
        await client.get("/account/login"),
        await client.get("/home/error"),
        await client.get("/account/create"),
        await client.get("/account/logged-out"),
        await client.get("/consent"),
        await client.get("/static/site.css"),
    ]
    login, _ = await login_page_for(browser)
    pages.append(login)
    pages.append(await browser.login(login, "alice", "wrong"))
    consent = await browser.login(login, "alice", "alice")
    assert is_consent_page(consent)
    pages += [consent, await client.get("/grants"), await client.get("/account/logout"), await client.get("/")]
    error = await browser.get(authorize_path({"client_id": "unknown"}))
    pages.append(error)
    for page in pages:
        assert_security_headers(page)


async def test_login_and_consent_pages_load_nothing_from_other_origins(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser)
    consent = await browser.login(login, "alice", "alice")
    for page in (login, consent):
        assert "http://" not in page.text and "https://" not in page.text.replace(WEB_CB, "")
        # the only script is the same-origin passkey script (docs/sign-in.md); never an inline one
        assert page.text.count("<script") == page.text.count('<script src="/static/passkeys.js"></script>')


# -- cookies ------------------------------------------------------------------------------------------------------


async def test_session_and_antiforgery_cookies_are_http_only_secure_and_same_site(server):
    login = await server.client.get("/account/login")
    antiforgery = set_cookies(login)["__Host-idsrv.af"]  # https: the __Host- prefix (issue 16 item 7)
    assert "Path=/" in antiforgery and "Domain" not in antiforgery
    assert "HttpOnly" in antiforgery and "Secure" in antiforgery and "SameSite=Strict" in antiforgery
    response = await post_form(server.client, login, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 302
    session = set_cookies(response)["idsrv"]
    assert "HttpOnly" in session and "Secure" in session and "SameSite=" in session


async def test_cookies_over_plain_http_are_not_marked_secure():
    options = replace(IdentityServerOptions(), issuer_uri=None)
    async with running(make_builder(options=options, issuer=None), base_url="http://127.0.0.1:5000") as server:
        login = await server.client.get("/account/login")
        assert "Secure" not in set_cookies(login)["idsrv.af"]
        response = await post_form(server.client, login, {"username": "alice", "password": "alice", "button": "login"})
        session = set_cookies(response)["idsrv"]
        assert "HttpOnly" in session and "Secure" not in session and "SameSite=Lax" in session


async def test_signing_in_again_rotates_the_session_cookie_and_keeps_the_users_sid(server):
    # no session fixation: the session cookie changes at every sign-in; the OIDC sid stays for the same user
    # (re-authentication for prompt=login or max_age is not a new session, OIDC Core §3.1.2.1)
    browser = Browser(server.client)
    await sign_in(browser)
    first_cookie, first_sid = server.client.cookies["idsrv"], server.client.cookies["idsrv.session"]
    await sign_in(browser)
    assert server.client.cookies["idsrv"] != first_cookie
    assert server.client.cookies["idsrv.session"] == first_sid


# -- anti-forgery on every POST --------------------------------------------------------------------------------


async def pages_with_forms(server: Server) -> dict[str, httpx.Response]:
    """One page per form of the UI, all for the signed-in alice where needed."""
    browser = Browser(server.client)
    login, _ = await login_page_for(browser)
    create = await server.client.get("/account/create")
    consent = await browser.login(login, "alice", "alice")
    assert is_consent_page(consent)
    await complete_authorize(browser, code_request()[0])  # remembered consent: the grants page has a form
    grants = await server.client.get("/grants")
    assert forms(grants.text)
    logout = await server.client.get("/account/logout")
    return {"login": login, "create": create, "consent": consent, "grants": grants, "logout": logout}


@pytest.mark.parametrize("form", ["login", "create", "consent", "grants", "logout"])
async def test_post_without_the_antiforgery_token_is_refused(server, form):
    page = (await pages_with_forms(server))[form]
    values = {"username": "alice", "password": "alice", "button": "login"} if form == "login" else {"button": "yes"}
    response = await post_form(server.client, page, values, drop=("__RequestVerificationToken",))
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize("form", ["login", "create", "consent", "grants", "logout"])
async def test_post_with_the_token_of_another_browser_is_refused(server, form):
    page = (await pages_with_forms(server))[form]
    async with other_browser(server) as mallory:
        foreign_page = await mallory.get("/account/login")
        foreign = dict(forms(foreign_page.text)[0].fields)["__RequestVerificationToken"]
    response = await post_form(server.client, page, {"__RequestVerificationToken": foreign, "button": "yes"})
    assert response.status_code == 400


async def test_post_without_the_antiforgery_cookie_is_refused(server):
    login = await server.client.get("/account/login")
    async with other_browser(server) as fresh:
        response = await post_form(fresh, login, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 400
    assert "idsrv" not in set_cookies(response)


async def test_forged_antiforgery_token_is_refused_not_a_500(server):
    login = await server.client.get("/account/login")
    for token in ("x", "A" * 999, "A" * 5000, "not base64 !"):
        response = await post_form(
            server.client,
            login,
            {"__RequestVerificationToken": token, "username": "alice", "password": "alice", "button": "login"},
        )
        assert response.status_code == 400


# -- returnUrl: only local URLs (security.md item 138) ------------------------------------------------------------

OPEN_REDIRECT_VECTORS = [
    "//evil.com/",
    "/\\evil.com",
    "/\t/evil.com",
    "/ \t/evil.com",
    "/\r\n/evil.com",
    "/\n/evil.com\t/",
    "~//evil.com",
    "~/\\evil.com",
    "https://evil.com",
    "http://evil.com/path",
    "javascript:alert(1)",
    "\\\\evil.com",
    "/\\/evil.com",
    " //evil.com",
    "//%5Cevil.com",
    "https:evil.com",
]


def assert_local(location: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not any(ord(ch) < 0x20 or ch == "\\" for ch in location), location


@pytest.mark.parametrize("vector", OPEN_REDIRECT_VECTORS)
async def test_login_with_a_foreign_return_url_stays_local(server, vector):
    page = await server.client.get("/account/login", params={"returnUrl": vector})
    assert page.status_code == 200
    response = await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 302
    assert_local(response.headers["location"])


@pytest.mark.parametrize("vector", OPEN_REDIRECT_VECTORS)
async def test_cancel_with_a_foreign_return_url_stays_local(server, vector):
    page = await server.client.get("/account/login", params={"returnUrl": vector})
    response = await post_form(server.client, page, {"button": "cancel"})
    assert response.status_code == 302
    assert_local(response.headers["location"])


@pytest.mark.parametrize("vector", OPEN_REDIRECT_VECTORS)
async def test_create_account_with_a_foreign_return_url_stays_local(server, vector):
    page = await server.client.get("/account/create", params={"returnUrl": vector})
    response = await post_form(
        server.client,
        page,
        {"username": "dave" + str(abs(hash(vector)) % 1000), "password": "long enough", "button": "create"},
    )
    assert response.status_code == 302
    assert_local(response.headers["location"])


async def test_local_return_url_is_followed_after_login(server):
    page = await server.client.get("/account/login", params={"returnUrl": "/grants"})
    response = await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 302 and response.headers["location"] == "/grants"


async def test_return_url_is_attribute_escaped_in_the_login_form(server):
    page = await server.client.get("/account/login", params={"returnUrl": '/x"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    assert dict(forms(page.text)[0].fields)["returnUrl"] == '/x"><script>alert(1)</script>'


async def test_redirects_after_post_are_302_never_307(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser)
    response = await post_form(server.client, login, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 302


# -- login ----------------------------------------------------------------------------------------------------------


async def test_login_failure_message_is_the_same_for_unknown_user_and_wrong_password(server):
    page = await server.client.get("/account/login")
    wrong = await post_form(server.client, page, {"username": "alice", "password": "nope", "button": "login"})
    unknown = await post_form(server.client, page, {"username": "mallory", "password": "nope", "button": "login"})
    assert wrong.status_code == unknown.status_code == 400

    def message(response: httpx.Response) -> str:
        text = response.text
        start = text.index('role="alert">') + len('role="alert">')
        return text[start : text.index("<", start)]

    assert message(wrong) == message(unknown) == "Invalid username or password"
    assert "idsrv" not in set_cookies(wrong) and "idsrv" not in set_cookies(unknown)


async def test_repeated_login_failures_are_throttled_even_with_the_right_password(server):
    page = await server.client.get("/account/login")
    for _ in range(5):
        response = await post_form(server.client, page, {"username": "alice", "password": "nope", "button": "login"})
        assert response.status_code == 400
    blocked = await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    assert blocked.status_code == 429
    assert "idsrv" not in set_cookies(blocked)
    assert "Too many failed attempts" in blocked.text


async def test_throttling_one_username_does_not_block_another(server):
    page = await server.client.get("/account/login")
    for _ in range(5):
        await post_form(server.client, page, {"username": "mallory", "password": "nope", "button": "login"})
    response = await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 302


async def test_successful_login_resets_the_failure_count(server):
    page = await server.client.get("/account/login")
    for _ in range(4):
        await post_form(server.client, page, {"username": "alice", "password": "nope", "button": "login"})
    assert (
        await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    ).status_code == 302
    for _ in range(4):
        await post_form(server.client, page, {"username": "alice", "password": "nope", "button": "login"})
    assert (
        await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    ).status_code == 302


async def test_login_page_prefills_the_login_hint_escaped(server):
    browser = Browser(server.client)
    page, _ = await login_page_for(browser, login_hint='al"><b>ice')
    assert 'value="al&#34;&gt;&lt;b&gt;ice"' in page.text or 'value="al&quot;&gt;&lt;b&gt;ice"' in page.text


async def test_inactive_user_cannot_sign_in(server):
    user = await server.services.users.find_by_username("alice")
    user.is_active = False
    page = await server.client.get("/account/login")
    response = await post_form(server.client, page, {"username": "alice", "password": "alice", "button": "login"})
    assert response.status_code == 400 and "idsrv" not in set_cookies(response)


async def test_cancel_on_the_login_page_returns_access_denied_to_the_client(server):
    browser = Browser(server.client)
    login, params = await login_page_for(browser)
    final = await browser.submit(login, {"button": "cancel"})
    assert final.status_code == 302 and final.headers["location"].startswith(WEB_CB + "?")
    returned = redirect_parameters(final)
    assert returned["error"] == "access_denied"
    assert returned["state"] == params["state"] and returned["iss"] == server.issuer
    assert "idsrv" not in server.client.cookies


async def test_cancel_with_an_existing_session_returns_access_denied_not_a_code(server):
    browser = Browser(server.client)
    await sign_in(browser)
    login, _params = await login_page_for(browser, prompt="login")
    final = await browser.submit(login, {"button": "cancel"})
    assert final.status_code == 302 and final.headers["location"].startswith(WEB_CB + "?")
    returned = redirect_parameters(final)
    assert returned["error"] == "access_denied" and "code" not in returned


async def test_unsatisfiable_acr_value_with_an_existing_session_is_also_refused(server):
    browser = Browser(server.client)
    await sign_in(browser)
    login, _params = await login_page_for(browser, prompt="login", acr_values="mfa")
    final = await browser.login(login, "alice", "alice")
    assert final.status_code == 302 and final.headers["location"].startswith(WEB_CB + "?")
    assert redirect_parameters(final)["error"] == "unmet_authentication_requirements"


async def test_unsatisfiable_acr_value_returns_unmet_authentication_requirements(server):
    browser = Browser(server.client)
    login, params = await login_page_for(browser, acr_values="mfa")
    final = await browser.login(login, "alice", "alice")
    assert final.status_code == 302 and final.headers["location"].startswith(WEB_CB + "?")
    returned = redirect_parameters(final)
    assert returned["error"] == "unmet_authentication_requirements"
    assert returned["state"] == params["state"] and returned["iss"] == server.issuer
    assert "code" not in returned


async def test_satisfiable_acr_value_signs_in_normally(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser, acr_values="urn:any")
    assert is_consent_page(await browser.login(login, "alice", "alice"))


# -- consent --------------------------------------------------------------------------------------------------------


async def test_consent_page_lists_the_requested_scopes_as_checkboxes(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser, scope="openid profile api1 offline_access")
    consent = await browser.login(login, "alice", "alice")
    assert is_consent_page(consent)
    checked = [v for n, v in forms(consent.text)[0].fields if n == "scopes_consented"]
    assert set(checked) == {"openid", "profile", "api1", "offline_access"}
    assert 'name="remember_consent"' in consent.text
    assert 'name="button" value="yes"' in consent.text and 'name="button" value="no"' in consent.text
    assert "Web app" in consent.text


async def test_remembered_consent_is_not_asked_again(server):
    browser = Browser(server.client)
    await obtain_code(server.client)
    params, _ = code_request()
    response = await browser.get(authorize_path(params))
    assert response.status_code == 302 and "code" in redirect_parameters(response)


async def test_consent_without_remember_is_asked_again(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser)
    consent = await browser.login(login, "alice", "alice")
    form = [(n, v) for n, v in forms(consent.text)[0].fields if n != "remember_consent"]
    response = await server.client.post(
        "/consent",
        content=urlencode([*form, ("button", "yes")]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    final = await browser.follow(response)
    assert "code" in redirect_parameters(final)
    params, _ = code_request()
    assert is_consent_page(await browser.get(authorize_path(params)))


async def test_unchecked_scope_is_not_granted_and_more_scope_later_asks_again(server):
    browser = Browser(server.client)
    login, _ = await login_page_for(browser, scope="openid profile api1")
    consent = await browser.login(login, "alice", "alice")
    final = await browser.submit(consent, {"scopes_consented": ["openid", "api1"], "button": "yes"})
    assert "code" in redirect_parameters(final)
    narrower, _ = code_request(scope="openid api1")  # the remembered consent covers this
    again = await browser.get(authorize_path(narrower))
    assert again.status_code == 302 and "code" in redirect_parameters(again)
    widened, _ = code_request(scope="openid profile api1")
    assert is_consent_page(await browser.get(authorize_path(widened)))


async def test_consented_subset_narrows_the_issued_tokens(server):
    browser = Browser(server.client)
    params, verifier = code_request(scope="openid profile api1 offline_access")
    page = await browser.get(authorize_path(params))
    consent = await browser.login(page, "alice", "alice")
    final = await browser.submit(consent, {"scopes_consented": ["openid", "api1"], "button": "yes"})
    code = redirect_parameters(final)["code"]
    body = (await redeem(server.client, CodeGrant(code, verifier, params, {}))).json()
    assert set(body["scope"].split()) == {"openid", "api1"}
    assert "refresh_token" not in body


async def test_consent_with_scopes_that_were_not_requested_cannot_widen_the_grant(server):
    browser = Browser(server.client)
    params, verifier = code_request(scope="openid api1")
    consent = await browser.login(await browser.get(authorize_path(params)), "alice", "alice")
    final = await browser.submit(consent, {"scopes_consented": ["openid", "api1", "api2", "profile"], "button": "yes"})
    code = redirect_parameters(final)["code"]
    body = (await redeem(server.client, CodeGrant(code, verifier, params, {}))).json()
    assert set(body["scope"].split()) == {"openid", "api1"}


async def test_denying_consent_returns_access_denied_to_the_client(server):
    browser = Browser(server.client)
    login, params = await login_page_for(browser)
    consent = await browser.login(login, "alice", "alice")
    final = await browser.submit(consent, {"button": "no"})
    returned = redirect_parameters(final)
    assert final.headers["location"].startswith(WEB_CB + "?")
    assert returned["error"] == "access_denied" and returned["state"] == params["state"]
    assert returned["iss"] == server.issuer


async def test_consent_with_nothing_selected_grants_only_the_required_scopes(server):
    browser = Browser(server.client)
    params, verifier = code_request(scope="openid profile api1")
    consent = await browser.login(await browser.get(authorize_path(params)), "alice", "alice")
    form = [(n, v) for n, v in forms(consent.text)[0].fields if n != "scopes_consented"]
    response = await server.client.post(
        "/consent",
        content=urlencode([*form, ("button", "yes")]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    code = redirect_parameters(await browser.follow(response))["code"]
    body = (await redeem(server.client, CodeGrant(code, verifier, params, {}))).json()
    assert body["scope"] == "openid"  # openid is required and cannot be unchecked


async def test_consent_page_without_a_pending_request_is_an_error(server):
    await sign_in(Browser(server.client))
    response = await server.client.get("/consent", params={"returnUrl": "/connect/authorize/callback?client_id=x"})
    assert response.status_code == 400
    response = await server.client.get("/consent", params={"returnUrl": "https://evil.com/"})
    assert response.status_code == 400


async def test_consent_page_for_an_anonymous_user_sends_to_login(server):
    response = await server.client.get("/consent", params={"returnUrl": "/connect/authorize/callback?x=1"})
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/account/login"


# -- grants ---------------------------------------------------------------------------------------------------------


async def test_grants_page_lists_and_revokes_a_remembered_consent(server):
    browser = Browser(server.client)
    await obtain_code(server.client)
    page = await server.client.get("/grants")
    assert page.status_code == 200
    assert "Web app" in page.text
    assert dict(forms(page.text)[0].fields)["client_id"] == "web"
    after = await browser.submit(page, {"button": "revoke"})
    assert after.status_code == 200 and "Web app" not in after.text
    params, _ = code_request()
    assert is_consent_page(await browser.get(authorize_path(params)))


async def test_grants_page_needs_a_signed_in_user(server):
    response = await server.client.get("/grants")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/account/login" and parse_qs(location.query)["returnUrl"] == ["/grants"]


async def test_revoking_the_grant_of_another_user_is_not_possible(server):
    await obtain_code(server.client)
    async with other_browser(server) as mallory:
        await server.services.users.auto_provision_user("mallory", "mallory-password", [])
        await sign_in(Browser(mallory), "mallory", "mallory-password")
        page = await mallory.get("/grants")
        assert "Web app" not in page.text
        token = dict(forms((await mallory.get("/account/logout")).text)[0].fields)["__RequestVerificationToken"]
        await mallory.post("/grants", data={"__RequestVerificationToken": token, "client_id": "web"})
    assert "Web app" in (await server.client.get("/grants")).text


# -- create account (prompt=create) -------------------------------------------------------------------------------


async def test_create_account_page_is_404_when_not_configured():
    async with running(make_builder()) as server:
        assert (await server.client.get("/account/create")).status_code == 404


@pytest.mark.parametrize(
    "values, problem",
    [
        ({"username": "ab", "password": "long enough"}, "username"),
        ({"username": "alice", "password": "long enough"}, "taken"),
        ({"username": "carol", "password": "short"}, "password"),
    ],
)
async def test_create_account_rejects_bad_input(server, values, problem):
    page = await server.client.get("/account/create")
    response = await post_form(server.client, page, {**values, "button": "create"})
    assert response.status_code == 400
    assert problem in response.text.lower()
    assert "idsrv" not in set_cookies(response)


# -- logout ---------------------------------------------------------------------------------------------------------


async def test_logout_prompt_signs_out_and_prompt_none_then_needs_a_login(server):
    browser = Browser(server.client)
    await obtain_code(server.client)
    page = await server.client.get("/account/logout")
    assert page.status_code == 200 and 'name="button" value="yes"' in page.text
    done = await browser.submit(page, {"button": "yes"})
    assert done.status_code == 200 and urlsplit(str(done.url)).path == "/account/logged-out"
    assert await server.services.user_session.authenticate(dict(server.client.cookies)) is None
    params, _ = code_request(prompt="none")
    response = await browser.get(authorize_path(params))
    assert redirect_parameters(response)["error"] == "login_required"


async def test_error_page_escapes_the_error_text(server):
    error_id = await server.services.interaction.create_error_id(
        ErrorMessage(error="<b>x</b>", error_description="<script>alert(1)</script>")
    )
    page = await server.client.get("/home/error", params={"errorId": error_id})
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
