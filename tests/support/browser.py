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
