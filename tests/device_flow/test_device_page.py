"""The verification page (RFC 8628 §3.3, §5.1, §5.4; security.md 140-141, R9): sign-in first, forgiving code
entry, the client and scopes shown before any approval, ``verification_uri_complete`` never approving by itself,
CSRF, double submits, and wrong codes throttled per address and per session."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.device_flow.support import SECRET_AUTH, authorize_device, device_server, error_of, poll, signed_in_browser
from tests.support.browser import Browser, forms, is_login_page


async def test_signed_out_user_is_sent_to_login_and_back_with_the_code() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="openid api1")
        response = await server.client.get(
            urlsplit(device["verification_uri_complete"]).path + "?userCode=" + device["user_code"]
        )
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith("/account/login?")
        assert parse_qs(urlsplit(location).query)["returnUrl"] == [f"/device?userCode={device['user_code']}"]
        browser = Browser(server.client)
        page = await browser.login(await browser.follow(response), "alice", "alice")
        assert page.status_code == 200 and urlsplit(str(page.url)).path == "/device"
        assert "Living-room TV" in page.text and f'value="{device["user_code"]}"' in page.text


async def test_verification_uri_complete_shows_client_and_scopes_but_never_approves() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="openid profile api1")
        browser = await signed_in_browser(server)
        page = await browser.get(device["verification_uri_complete"].removeprefix("https://idp.example"))
        assert page.status_code == 200
        assert "Living-room TV" in page.text
        for scope in ("openid", "profile", "api1"):
            assert f'value="{scope}"' in page.text
        assert 'name="button" value="yes"' in page.text and 'name="button" value="no"' in page.text
        assert page.headers["x-frame-options"] == "DENY" or "frame-ancestors" in page.headers.get(
            "content-security-policy", ""
        )
        [(_, data)] = store.all()
        assert not data.is_authorized
        assert error_of(await poll(server, device["device_code"])) == "authorization_pending"


async def test_typed_code_is_forgiven_spaces_dashes_and_case_and_first_shows_the_request() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, auth=SECRET_AUTH, scope="api1")
        typed = " " + device["user_code"].lower().replace("-", " - ") + " "
        browser = await signed_in_browser(server)
        entry = await browser.get("/device")
        assert entry.status_code == 200 and 'name="user_code"' in entry.text
        shown = await browser.submit(entry, {"user_code": typed, "button": "yes"})
        assert shown.status_code == 200 and "Kitchen display" in shown.text
        [(_, data)] = store.all()
        assert not data.is_authorized  # typing the code and pressing the button only shows the request
        approved = await browser.submit(shown, {"user_code": typed, "button": "yes"})
        assert approved.status_code == 200 and "Success" in approved.text
        assert (await poll(server, device["device_code"], auth=SECRET_AUTH)).status_code == 200


async def test_changing_the_code_on_the_confirmation_page_shows_the_other_request_first() -> None:
    async with device_server() as (server, store):
        first = await authorize_device(server, scope="api1")
        second = await authorize_device(server, auth=SECRET_AUTH, scope="api1")
        browser = await signed_in_browser(server)
        page = await browser.get(f"/device?userCode={first['user_code']}")
        shown = await browser.submit(page, {"user_code": second["user_code"], "button": "yes"})
        assert "Kitchen display" in shown.text
        assert not any(d.is_authorized for _, d in store.all())


async def test_post_without_antiforgery_token_is_rejected_and_changes_nothing() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        await signed_in_browser(server)
        response = await server.client.post(
            "/device", data={"user_code": device["user_code"], "confirmed": device["user_code"], "button": "yes"}
        )
        assert response.status_code == 400
        assert not store.all()[0][1].is_authorized


async def test_double_submit_approves_once_and_the_second_is_an_error() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        browser = await signed_in_browser(server)
        page = await browser.get(f"/device?userCode={device['user_code']}")
        values: dict[str, str | list[str]] = {"user_code": device["user_code"], "button": "yes"}
        first = await browser.submit(page, values)
        second = await browser.submit(page, values)
        assert first.status_code == 200 and "Success" in first.text
        assert second.status_code == 400
        assert (await poll(server, device["device_code"])).status_code == 200


async def test_unselecting_every_scope_is_refused_and_openid_stays_required() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        browser = await signed_in_browser(server)
        page = await browser.get(f"/device?userCode={device['user_code']}")
        data = [(n, v) for n, v in forms(page.text)[0].fields if n != "scopes_consented"]
        data += [("user_code", device["user_code"]), ("button", "yes")]
        refused = await server.client.post("/device", data=dict(data))
        assert refused.status_code == 400 and "Select at least one permission" in refused.text
        assert not store.all()[0][1].is_authorized

        with_openid = await authorize_device(server, scope="openid profile")
        page = await browser.get(f"/device?userCode={with_openid['user_code']}")
        data = [(n, v) for n, v in forms(page.text)[0].fields if n != "scopes_consented"]
        data += [("user_code", with_openid["user_code"]), ("button", "yes")]
        assert (await server.client.post("/device", data=dict(data))).status_code == 200
        approved = [d for _, d in store.all() if d.is_authorized]
        assert [d.authorized_scopes for d in approved] == [["openid"]]  # required: kept even when unticked


async def test_wrong_codes_are_throttled_per_session() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        browser = await signed_in_browser(server)
        for attempt in range(5):
            page = await browser.get(f"/device?userCode=00000000{attempt}")
            assert page.status_code == 400 and "invalid or has expired" in page.text
        blocked = await browser.get(f"/device?userCode={device['user_code']}")
        assert blocked.status_code == 429
        server.clock.advance(301)  # the failures age out of the window
        fresh = await authorize_device(server, scope="api1")
        assert (await browser.get(f"/device?userCode={fresh['user_code']}")).status_code == 200


async def test_wrong_codes_are_throttled_per_address_across_sessions() -> None:
    options = "[options.device_flow]\nuser_code_failures_per_address = 3\n"
    async with device_server(options) as (server, _):
        device = await authorize_device(server, scope="api1")
        for attempt in range(3):
            server.client.cookies.clear()  # a new session each time, from the same address
            browser = await signed_in_browser(server)
            assert (await browser.get(f"/device?userCode=12345678{attempt}")).status_code == 400
        server.client.cookies.clear()
        browser = await signed_in_browser(server)
        assert (await browser.get(f"/device?userCode={device['user_code']}")).status_code == 429


async def test_oversize_and_empty_codes_are_wrong_codes_not_errors() -> None:
    async with device_server() as (server, _):
        browser = await signed_in_browser(server)
        assert (await browser.get("/device?userCode=" + "9" * 5000)).status_code == 400
        entry = await browser.get("/device")
        assert (await browser.submit(entry, {"user_code": "   ", "button": "yes"})).status_code == 400
        assert not is_login_page(entry)
