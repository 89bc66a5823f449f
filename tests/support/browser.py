"""A small cookie-keeping browser over httpx: follows redirects on the server's origin, stops at redirects to
clients, and submits the UI's forms by their field names (the outside contract)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in values:
            kind = values.get("type", "text")
            checked = kind == "checkbox" and "checked" in values and "disabled" not in values
            if kind == "hidden" or checked:
                self.forms[-1].fields.append((values["name"], values.get("value", "")))


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.origin = f"{client.base_url.scheme}://{client.base_url.netloc.decode()}"

    def is_local(self, url: str) -> bool:
        return url.startswith("/") or url.startswith(self.origin)

    async def follow(self, response: httpx.Response) -> httpx.Response:
        while response.status_code in (301, 302, 303) and self.is_local(response.headers["location"]):
            response = await self.client.get(urljoin(str(response.url), response.headers["location"]))
        return response

    async def get(self, url: str) -> httpx.Response:
        return await self.follow(await self.client.get(url))

    async def submit(self, page: httpx.Response, values: dict[str, str | list[str]], index: int = 0) -> httpx.Response:
        form = forms(page.text)[index]
        data: list[tuple[str, str]] = list(form.fields)
        for name, value in values.items():
            data = [(n, v) for n, v in data if n != name]
            for item in value if isinstance(value, list) else [value]:
                data.append((name, item))
        url = urljoin(str(page.url), form.action)
        body = urlencode(data)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.follow(await self.client.post(url, content=body, headers=headers))

    async def login(self, page: httpx.Response, username: str, password: str) -> httpx.Response:
        return await self.submit(page, {"username": username, "password": password, "button": "login"})


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def redirect_parameters(response: httpx.Response) -> dict[str, str]:
    """Parameters of a redirect to the client (query or fragment)."""
    location = response.headers["location"]
    parts = urlsplit(location)
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def form_action(page: httpx.Response) -> str:
    """The path of the first form's action ('' when the page has no form)."""
    found = forms(page.text)
    return urlsplit(found[0].action).path if found else ""


def is_login_page(page: httpx.Response) -> bool:
    return page.status_code == 200 and form_action(page).endswith("/account/login")


def is_consent_page(page: httpx.Response) -> bool:
    return page.status_code == 200 and form_action(page).endswith("/consent")


def authorize_path(params: dict[str, str]) -> str:
    return "/connect/authorize?" + urlencode(params)


def code_request(
    client_id: str = "web",
    redirect_uri: str = "https://web.example/cb",
    scope: str = "openid profile api1 offline_access",
    **extra: str,
) -> tuple[dict[str, str], str]:
    """Parameters of a code-flow request with an S256 PKCE challenge, and the verifier."""
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return params, verifier


async def complete_authorize(
    browser: Browser,
    params: dict[str, str],
    username: str = "alice",
    password: str = "alice",
    consent: dict[str, str | list[str]] | None = None,
) -> httpx.Response:
    """Run an authorize request through the login and consent pages as needed; return the last response
    (normally the redirect to the client)."""
    page = await browser.get(authorize_path(params))
    if is_login_page(page):
        page = await browser.login(page, username, password)
    if is_consent_page(page):
        page = await browser.submit(page, consent or {"button": "yes"})
    return page


async def sign_in(browser: Browser, username: str = "alice", password: str = "alice") -> httpx.Response:
    """Sign in on the login page without a pending request (establishes the session cookie)."""
    page = await browser.get("/account/login")
    return await browser.login(page, username, password)


@dataclass
class CodeGrant:
    """An authorization code obtained through the UI, with what the token request needs."""

    code: str
    verifier: str
    request: dict[str, str]
    response: dict[str, str]

    @property
    def client_id(self) -> str:
        return self.request["client_id"]


#: the shared secret of every confidential test client (tests/support/data.py)
CLIENT_SECRET = "secret"
PUBLIC_CLIENTS = frozenset({"public", "native.plain", "native.nopkce", "implicit"})


def client_credentials(client_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, form fields) that authenticate ``client_id`` at the token endpoint."""
    if client_id in PUBLIC_CLIENTS:
        return {}, {"client_id": client_id}
    raw = base64.b64encode(f"{client_id}:{CLIENT_SECRET}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}, {}


async def obtain_code(
    client: httpx.AsyncClient,
    client_id: str = "web",
    redirect_uri: str = "https://web.example/cb",
    scope: str = "openid profile api1 offline_access",
    username: str = "alice",
    password: str = "alice",
    **extra: str,
) -> CodeGrant:
    """Sign in (and consent) through the UI with ``client``'s cookies and return the code."""
    params, verifier = code_request(client_id, redirect_uri, scope, **extra)
    final = await complete_authorize(Browser(client), params, username, password)
    assert final.status_code == 302, (final.status_code, final.text[:500])
    assert final.headers["location"].startswith(redirect_uri), final.headers["location"]
    returned = redirect_parameters(final)
    assert "code" in returned, returned
    return CodeGrant(returned["code"], verifier, params, returned)


async def redeem(client: httpx.AsyncClient, grant: CodeGrant, **overrides: str | None) -> httpx.Response:
    """The token request for ``grant``; an override of ``None`` leaves that field out."""
    headers, fields = client_credentials(grant.client_id)
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": grant.request["redirect_uri"],
        "code_verifier": grant.verifier,
        **fields,
        **overrides,
    }
    return await client.post("/connect/token", data={k: v for k, v in data.items() if v is not None}, headers=headers)


async def refresh(client: httpx.AsyncClient, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
    headers, fields = client_credentials(client_id)
    return await client.post(
        "/connect/token",
        headers=headers,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **fields, **extra},
    )


async def tokens_for(
    client: httpx.AsyncClient,
    client_id: str = "web",
    redirect_uri: str = "https://web.example/cb",
    scope: str = "openid profile api1 offline_access",
    **extra: str,
) -> dict[str, str]:
    """The token response of a complete code flow."""
    grant = await obtain_code(client, client_id, redirect_uri, scope, **extra)
    response = await redeem(client, grant)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body
