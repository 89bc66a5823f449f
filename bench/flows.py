"""Pools of one-time artefacts for the code-flow and refresh rows of ``bench/compare.py`` (issue 15).

Every measured request redeems an authorization code or a refresh token that nothing used before, so each run
gets a pool made beforehand, outside the measured window, and ``wrk-pool.lua`` posts one pool line per request.

- This server: a real browser-less sign-in (``/account/login`` form with its anti-forgery token), then the
  authorize endpoint again and again with the session cookie; each answer's ``Location`` carries a code.
- node-oidc-provider: ``peer/flows.mjs`` mints codes in-process (``POST /bench/mint?n=N``): it has no login
  UI of its own, and its interactions are not what is measured.
- Refresh tokens: on both servers, codes of the pool redeemed over HTTP (so each is a real, unused token).

Both servers get the same shape of grant: PKCE S256, ``openid offline_access`` plus one API scope, an RS256 ID
token, an RS256 JWT access token and a refresh token, rotated on every use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence

import httpx

VERIFIER = "bench-verifier-0123456789abcdef0123456789abcdef0123"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode("ascii")
REDIRECT_URI = "http://127.0.0.1/cb"
CODE_CLIENT = "bench-code"
USER, PASSWORD = "bench", "bench-password"
IN_FLIGHT = 32
"""Concurrent requests while a pool is made (the server has one core: more would only queue)."""
LIMITS = httpx.Limits(max_connections=IN_FLIGHT, keepalive_expiry=2.0)
"""The pool makers' connections. Idle ones expire well before a server closes them (the peer's Node server: 5 s, as
httpx's own default): with equal timeouts a request sent on a connection as the server closes it failed now and
then with ``httpx.ReadError``, which ended a ``compare.py`` run (docs/performance-stored-grants.md, twentieth pass)."""


def ours_config(secret: str) -> str:
    """The code-flow client and the user of this server's bench configuration (TOML)."""
    return f"""
[[clients]]
client_id = "{CODE_CLIENT}"
client_secrets = ["{secret}"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{REDIRECT_URI}"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
require_consent = false

[[users]]
subject_id = "1"
username = "{USER}"
password = "{PASSWORD}"
"""


def code_body(code: str) -> str:
    return urllib.parse.urlencode(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": VERIFIER}
    )


def refresh_body(refresh_token: str) -> str:
    return urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token})


def _alg(jwt: object) -> str:
    """The ``alg`` of a compact JWS ("" when it is none)."""
    if not isinstance(jwt, str) or jwt.count(".") != 2:
        return ""
    header = jwt.split(".")[0]
    alg = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("alg", "")
    return str(alg)


def check_answer(answer: dict[str, object], what: str, kinds: Sequence[str]) -> None:
    """The grant shape both servers must give: the named tokens present, access and ID tokens RS256 JWTs."""
    missing = [k for k in kinds if not answer.get(k)]
    wrong = [k for k in ("access_token", "id_token") if k in answer and _alg(answer[k]) != "RS256"]
    if missing or wrong:
        raise SystemExit(f"{what}: missing {missing}, not RS256 JWTs {wrong}: {str(answer)[:300]}")


def _code_of(response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    if response.status_code != 302 or not location.startswith(REDIRECT_URI):
        raise SystemExit(f"authorize answered {response.status_code} {location[:200]!r}: {response.text[:300]}")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if "code" not in query:
        raise SystemExit(f"authorize redirected without a code: {location[:300]}")
    return str(query["code"][0])


async def _many(count: int, one: Callable[[int], Awaitable[str]]) -> list[str]:
    results: list[str] = []
    for start in range(0, count, IN_FLIGHT):
        results.extend(await asyncio.gather(*(one(i) for i in range(start, min(start + IN_FLIGHT, count)))))
    return results


async def _ours_codes(
    base: str, authorize_path: str, count: int, transport: httpx.AsyncBaseTransport | None = None
) -> list[str]:
    params = {
        "client_id": CODE_CLIENT,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid offline_access api1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    async with httpx.AsyncClient(base_url=base, limits=LIMITS, timeout=60, transport=transport) as client:
        authorize = f"{authorize_path}?{urllib.parse.urlencode({**params, 'state': 'sign-in'})}"
        login = await client.get("/account/login", params={"returnUrl": authorize})
        token = re.search(r'name="__RequestVerificationToken" value="([^"]+)"', login.text)
        if login.status_code != 200 or token is None:
            raise SystemExit(f"the login page answered {login.status_code}: {login.text[:300]}")
        form = {
            "__RequestVerificationToken": html.unescape(token.group(1)),
            "returnUrl": authorize,
            "username": USER,
            "password": PASSWORD,
            "button": "login",
        }
        signed_in = await client.post("/account/login", data=form)
        if signed_in.status_code not in (302, 303):
            raise SystemExit(f"signing in answered {signed_in.status_code}: {signed_in.text[:300]}")

        retried = 0

        async def one(i: int) -> str:
            nonlocal retried
            for attempt in range(3):
                try:
                    return _code_of(await client.get(authorize_path, params={**params, "state": f"s{i}"}))
                except httpx.TransportError:
                    # a kept-alive connection the server closed as this request went out (RFC 9112 §9.3.1:
                    # the client retries an idempotent request); each authorize makes a new code anyway
                    if attempt == 2:
                        raise
                    retried += 1
            raise AssertionError("unreachable")

        codes = await _many(count, one)
        if retried:
            print(f"  {base}: {retried} authorize requests were sent again after a closed connection", flush=True)
        return codes


async def _peer_codes(base: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        response = await client.post("/bench/mint", params={"n": str(count)})
        response.raise_for_status()
        return response.text.split("\n")


async def _redeem(
    base: str, token_path: str, auth: str, codes: Sequence[str], transport: httpx.AsyncBaseTransport | None = None
) -> list[str]:
    async with httpx.AsyncClient(base_url=base, limits=LIMITS, timeout=60, transport=transport) as client:

        async def one(i: int) -> str:
            response = await client.post(
                token_path,
                content=code_body(codes[i]),
                headers={"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
            )
            if response.status_code != 200:
                raise SystemExit(f"redeeming a code answered {response.status_code}: {response.text[:300]}")
            answer = response.json()
            check_answer(answer, f"{base}: redeeming a code", ("id_token", "access_token", "refresh_token"))
            return str(answer["refresh_token"])

        return await _many(len(codes), one)


def ours_codes(base: str, authorize_path: str, count: int) -> list[str]:
    return asyncio.run(_ours_codes(base, authorize_path, count))


def peer_codes(base: str, count: int) -> list[str]:
    return asyncio.run(_peer_codes(base, count))


def refresh_tokens(base: str, token_path: str, auth: str, codes: Sequence[str]) -> list[str]:
    return asyncio.run(_redeem(base, token_path, auth, codes))


def check_rotation(base: str, token_path: str, auth: str, refresh_token: str) -> list[str]:
    """A refresh answers with a new refresh token, and the used one is refused afterwards; returns the names in
    the refresh's answer."""
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    first = httpx.post(base + token_path, content=refresh_body(refresh_token), headers=headers, timeout=30)
    if first.status_code != 200 or first.json().get("refresh_token") in (None, refresh_token):
        raise SystemExit(f"{base}: a refresh did not rotate: {first.status_code} {first.text[:300]}")
    check_answer(first.json(), f"{base}: a refresh", ("access_token", "refresh_token"))
    again = httpx.post(base + token_path, content=refresh_body(refresh_token), headers=headers, timeout=30)
    if again.status_code != 400:
        raise SystemExit(f"{base}: a used refresh token was accepted again ({again.status_code})")
    return sorted(first.json())
