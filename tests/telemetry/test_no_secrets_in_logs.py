"""No secret, password, token, code or cookie value reaches a log line (issue 10 "Logs").

Runs the flows at DEBUG with every event type switched on and telemetry enabled, captures every log record of
every logger (message, arguments, ``extra`` fields, exception text) and every span attribute, then searches them
for each value the flows used, and for fragments of each (a JWT's payload and signature, the halves of an opaque
handle)."""

from __future__ import annotations

import logging
import secrets
import tomllib
from urllib.parse import urlencode

from argon2 import PasswordHasher

from identityserver.configuration.loader import parse_configuration
from tests.support.browser import Browser, code_request, complete_authorize, redirect_parameters
from tests.support.client_auth import all_events
from tests.support.server import make_builder, running
from tests.telemetry.sdk import sdk, telemetry_on


def _unique(label: str) -> str:
    return f"{label}-{secrets.token_urlsafe(18)}"


M2M_SECRET = _unique("m2m")
RO_SECRET = _unique("ro")
WEB_SECRET = _unique("web")
API_SECRET = _unique("api")
PASSWORD = _unique("pw")
WRONG_PASSWORD = _unique("wrongpw")
WRONG_SECRET = _unique("wrongsecret")

CONFIG = f"""
[[clients]]
client_id = "leak.m2m"
client_secrets = ["{M2M_SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "leak.ro"
client_secrets = ["{RO_SECRET}"]
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true

[[clients]]
client_id = "leak.web"
client_secrets = ["{WEB_SECRET}"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
post_logout_redirect_uris = ["https://web.example/out"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:leak"
scopes = ["api1"]
api_secrets = ["{API_SECRET}"]

[[users]]
subject_id = "leak-1"
username = "leaky"
password_hash = "{PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)}"
"""


def _fragments(value: str) -> list[str]:
    """The value and the parts of it that identify it on their own."""
    found = [value]
    if value.count(".") == 2:  # a JWT: its payload and signature are unique to it (the header is not)
        found.extend(part for part in value.split(".")[1:] if len(part) >= 12)
    elif len(value) >= 24:
        found.extend([value[:12], value[-12:]])
    return found


async def test_flows_at_debug_level_log_no_secret_token_code_or_cookie(caplog):
    telemetry = sdk()
    telemetry.spans.clear()
    config = parse_configuration(tomllib.loads(CONFIG), "<leak>")
    builder = make_builder(config)
    builder.options = telemetry_on(all_events(builder.options))
    used: dict[str, str] = {
        "m2m secret": M2M_SECRET,
        "ro secret": RO_SECRET,
        "web secret": WEB_SECRET,
        "api secret": API_SECRET,
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "wrong secret": WRONG_SECRET,
    }
    caplog.set_level(logging.DEBUG)
    async with running(builder) as server:
        client = server.client
        # client_credentials with a secret, and once with a wrong one
        m2m = await server.token({"grant_type": "client_credentials"}, auth=("leak.m2m", M2M_SECRET))
        assert m2m.status_code == 200, m2m.text
        used["m2m access token"] = m2m.json()["access_token"]
        failed = await server.token({"grant_type": "client_credentials"}, auth=("leak.m2m", WRONG_SECRET))
        assert failed.status_code == 401

        # the password grant, with a refresh token, and once with a wrong password
        ro = await server.token(
            {
                "grant_type": "password",
                "username": "leaky",
                "password": PASSWORD,
                "scope": "openid api1 offline_access",
            },
            auth=("leak.ro", RO_SECRET),
        )
        assert ro.status_code == 200, ro.text
        used["ro access token"] = ro.json()["access_token"]
        used["ro refresh token"] = ro.json()["refresh_token"]
        bad = await server.token(
            {"grant_type": "password", "username": "leaky", "password": WRONG_PASSWORD, "scope": "api1"},
            auth=("leak.ro", RO_SECRET),
        )
        assert bad.json()["error"] == "invalid_grant"

        # a failed login on the login page, then the code flow with PKCE
        browser = Browser(client)
        page = await browser.get("/account/login")
        refused = await browser.login(page, "leaky", WRONG_PASSWORD)
        assert refused.status_code == 400  # the login page again, with the error
        params, verifier = code_request("leak.web", scope="openid profile api1 offline_access")
        final = await complete_authorize(browser, params, "leaky", PASSWORD)
        assert final.status_code == 302, final.text[:300]
        code = redirect_parameters(final)["code"]
        used.update({"code": code, "code_verifier": verifier})
        session_id_cookie = server.services.options.authentication.check_session_cookie_name
        for cookie in client.cookies.jar:
            # The check-session cookie holds the session id (``sid``), readable by scripts by design, sent in ID
            # tokens, logout tokens and front-channel logout URLs, and logged in the login and logout events for
            # correlation: an identifier, not a credential. Every other cookie is searched for.
            if cookie.name != session_id_cookie:
                used[f"cookie {cookie.name}"] = cookie.value or ""
        assert any(name.startswith("cookie ") for name in used)  # the session cookie is among them
        redeemed = await server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://web.example/cb",
                "code_verifier": verifier,
            },
            auth=("leak.web", WEB_SECRET),
        )
        assert redeemed.status_code == 200, redeemed.text
        tokens = redeemed.json()
        used.update(
            {
                "web access token": tokens["access_token"],
                "web refresh token": tokens["refresh_token"],
                "id token": tokens["id_token"],
            }
        )
        refreshed = await server.token(
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=("leak.web", WEB_SECRET)
        )
        assert refreshed.status_code == 200, refreshed.text
        used["refreshed access token"] = refreshed.json()["access_token"]
        used["refreshed refresh token"] = refreshed.json()["refresh_token"]

        userinfo = await client.get(
            "/connect/userinfo", headers={"Authorization": f"Bearer {used['refreshed access token']}"}
        )
        assert userinfo.status_code == 200, userinfo.text
        for token in (used["refreshed access token"], used["ro refresh token"], "not-a-token-" + WRONG_SECRET):
            introspected = await client.post(
                "/connect/introspect", data={"token": token}, auth=("urn:leak", API_SECRET)
            )
            assert introspected.status_code == 200, introspected.text
        revoked = await client.post(
            "/connect/revocation",
            data={"token": used["refreshed refresh token"], "token_type_hint": "refresh_token"},
            auth=("leak.web", WEB_SECRET),
        )
        assert revoked.status_code == 200
        revoked_ro = await client.post(
            "/connect/revocation", data={"token": used["ro access token"]}, auth=("leak.ro", RO_SECRET)
        )
        assert revoked_ro.status_code == 200
        replayed = await server.token(  # the old handle again: the reuse is logged, the handle must not be
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=("leak.web", WEB_SECRET)
        )
        assert replayed.status_code == 400
        logout = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://web.example/out"}
        await browser.get("/connect/endsession?" + urlencode(logout))

    # the test's own HTTP client logs the URLs it requests (an id_token_hint among them): not the server's lines
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert len(records) > 20  # the flows did log, at DEBUG, with events
    assert any(r.name == "identityserver.events" for r in records)
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info and record.exc_text is None:
            parts.append(logging.Formatter().formatException(record.exc_info))
    for span in telemetry.finished():
        parts.append(span.name)
        parts.append(repr(dict(span.attributes or {})))
        parts.extend(repr(dict(event.attributes or {})) for event in span.events)
    captured = "\n".join(parts)
    # the events carried the tokens they name, obfuscated as Duende does (the last four characters only)
    assert "****" + used["m2m access token"][-4:] in captured
    leaks = [name for name, value in used.items() if value and any(f in captured for f in _fragments(value))]
    found = {n: next(f for f in _fragments(used[n]) if f in captured) for n in leaks}
    assert leaks == [], {
        n: captured[max(0, captured.index(f) - 200) : captured.index(f) + 40] for n, f in found.items()
    }
