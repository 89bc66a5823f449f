"""Issue 16 item 7: the anti-forgery cookie used to accept any 64-character value, so whoever could set a cookie
for the site (a sibling subdomain, a man in the middle on http) could pair it with a token of their own. Now the
cookie is a value sealed by the server, ``__Host-`` prefixed over https."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.security.support import server_with
from tests.support.browser import forms

HOST_COOKIE = "__Host-idsrv.af"


async def post_login(client, page, cookie: str | None = None, token: str | None = None):
    form = forms(page.text)[0]
    values = {"username": "alice", "password": "alice", "button": "login"}
    data = [(n, v) for n, v in form.fields if n not in values] + list(values.items())
    if token is not None:
        data = [(n, token if n == "__RequestVerificationToken" else v) for n, v in data]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie is not None:
        headers["Cookie"] = cookie
    return await client.post(form.action, content=urlencode(data), headers=headers)


async def test_a_chosen_antiforgery_cookie_is_not_adopted():
    async with server_with() as server, server.browser() as client:
        planted = "x" * 64
        planted_cookies = f"{HOST_COOKIE}={planted}; idsrv.af={planted}"
        page = await client.get("/account/login", headers={"Cookie": planted_cookies})
        # the planted value is replaced by a sealed one of the server's own
        issued = page.headers["set-cookie"]
        assert issued.startswith(f"{HOST_COOKIE}=") and planted not in issued
        # a form posted with the planted cookie is refused, whatever token goes with it
        client.cookies.clear()
        refused = await post_login(client, page, cookie=f"{HOST_COOKIE}={planted}")
        assert refused.status_code == 400 and "idsrv=" not in refused.headers.get("set-cookie", "")


async def test_the_https_cookie_is_host_prefixed_secure_and_path_rooted():
    async with server_with() as server:
        page = await server.client.get("/account/login")
        cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(HOST_COOKIE))
        assert "; Secure" in cookie and "Path=/;" in cookie and "Domain" not in cookie
        assert "idsrv.af=" not in cookie.replace(HOST_COOKIE, "")
        signed_in = await post_login(server.client, page)
        assert signed_in.status_code == 302


async def test_the_cookie_cannot_stand_in_for_the_token_or_the_token_for_the_cookie():
    async with server_with() as server:
        page = await server.client.get("/account/login")
        cookie = server.client.cookies[HOST_COOKIE]
        token = dict(forms(page.text)[0].fields)["__RequestVerificationToken"]
        server.client.cookies.clear()
        swapped = await post_login(server.client, page, cookie=f"{HOST_COOKIE}={token}", token=cookie)
        assert swapped.status_code == 400
        same = await post_login(server.client, page, cookie=f"{HOST_COOKIE}={cookie}", token=cookie)
        assert same.status_code == 400
