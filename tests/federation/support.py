"""Two in-process servers over httpx: ``upstream.example`` (an OpenID Connect provider) and ``downstream.example``
(the server under test, federating to it). One cookie-keeping browser reaches both; the downstream's outgoing
calls (discovery, JWKS, token, userinfo) reach the upstream's ASGI app through the ``HttpClientFactory`` slot."""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.host import add_identity_providers
from identityserver.configuration.loader import parse_configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.services import Services
from identityserver.services.protocols import EventSink, HttpClientFactory
from identityserver.ui import create_ui
from tests.support.browser import Browser, forms
from tests.support.client_auth import RecordingEventSink, all_events
from tests.support.clock import FakeClock
from tests.support.keys import pregenerated_signing_keys
from tests.support.server import make_builder

UPSTREAM = "https://upstream.example"
DOWNSTREAM = "https://downstream.example"
RP_REDIRECT = "https://rp.example/cb"

UPSTREAM_CONFIG = f"""
[[clients]]
client_id = "downstream"
client_secrets = ["fed-secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{DOWNSTREAM}/federation/corp/signin"]
post_logout_redirect_uris = ["{DOWNSTREAM}/federation/corp/signout-callback"]
front_channel_logout_uri = "{DOWNSTREAM}/federation/corp/signout"
allowed_scopes = ["openid", "profile", "email"]
require_consent = false

[[clients]]
client_id = "downstream.implicit"
require_client_secret = false
allowed_grant_types = ["implicit"]
redirect_uris = ["{DOWNSTREAM}/federation/legacy/signin"]
allowed_scopes = ["openid", "profile"]
require_consent = false

[[users]]
subject_id = "up-1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Upstream"
email = "alice@upstream.example"
"""

PROVIDER = """
[[identity_providers]]
scheme = "{scheme}"
display_name = "{display}"
enabled = {enabled}
authority = "{authority}"
client_id = "{client_id}"
{secret}
response_type = "{response_type}"
scope = "{scope}"
"""

DOWNSTREAM_CONFIG = (
    PROVIDER.format(
        scheme="corp",
        display="Corporate",
        enabled="true",
        authority=UPSTREAM,
        client_id="downstream",
        secret='client_secret = "fed-secret"',
        response_type="code",
        scope="openid profile email",
    )
    + PROVIDER.format(
        scheme="legacy",
        display="Legacy",
        enabled="true",
        authority=UPSTREAM,
        client_id="downstream.implicit",
        secret="",
        response_type="id_token",
        scope="openid profile",
    )
    + PROVIDER.format(
        scheme="off",
        display="Switched off",
        enabled="false",
        authority=UPSTREAM,
        client_id="downstream",
        secret='client_secret = "fed-secret"',
        response_type="code",
        scope="openid",
    )
    + f"""
[[clients]]
client_id = "rp"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{RP_REDIRECT}"]
allowed_scopes = ["openid", "profile", "email"]
require_consent = false

[[clients]]
client_id = "rp.corp"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{RP_REDIRECT}"]
allowed_scopes = ["openid", "profile"]
require_consent = false
identity_provider_restrictions = ["corp"]
enable_local_login = false

[[users]]
subject_id = "local-bob"
username = "bob"
password = "bob"
"""
)


class TwoOriginBrowser(Browser):
    """Follows redirects between the two servers; stops at any other origin (the relying party)."""

    def is_local(self, url: str) -> bool:
        return url.startswith(("/", UPSTREAM, DOWNSTREAM))

    async def follow(self, response: httpx.Response) -> httpx.Response:
        while response.status_code in (301, 302, 303) and self.is_local(response.headers["location"]):
            response = await self.client.get(urljoin(str(response.url), response.headers["location"]))
        return response


@dataclass
class Federation:
    browser: TwoOriginBrowser
    upstream: Services
    downstream: Services
    clock: FakeClock
    http: httpx.AsyncClient
    mounts: dict[str, httpx.AsyncBaseTransport]

    def session_cookie(self, origin: str) -> str | None:
        host = urlsplit(origin).hostname
        return next((c.value for c in self.http.cookies.jar if c.name == "idsrv" and c.domain == host), None)


async def _started(builder: IdentityServerBuilder) -> tuple[Services, httpx.ASGITransport]:
    services = builder.build()
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    return services, httpx.ASGITransport(app=create_app(services, create_ui(services)), client=("203.0.113.9", 5000))


@contextlib.asynccontextmanager
async def federation(
    extra_downstream: str = "",
    upstream_config: str = UPSTREAM_CONFIG,
    server_side_sessions: bool = False,
    events: RecordingEventSink | None = None,
) -> AsyncIterator[Federation]:
    clock = FakeClock()
    up_builder = make_builder(parse_configuration(tomllib.loads(upstream_config)), clock, issuer=UPSTREAM)
    upstream, up_transport = await _started(up_builder)
    down_config = parse_configuration(tomllib.loads(DOWNSTREAM_CONFIG + extra_downstream))
    down_builder = make_builder(down_config, clock, issuer=DOWNSTREAM)
    add_identity_providers(down_builder, down_config)
    if server_side_sessions:
        down_builder.add_server_side_sessions()
    if events is not None:
        down_builder.options = all_events(down_builder.options)
        down_builder.add(EventSink, events)
    factory: HttpClientFactory = lambda: httpx.AsyncClient(transport=up_transport)  # noqa: E731
    down_builder.add(HttpClientFactory, factory)
    downstream, down_transport = await _started(down_builder)
    mounts: dict[str, httpx.AsyncBaseTransport] = {
        "all://upstream.example": up_transport,
        "all://downstream.example": down_transport,
    }
    async with httpx.AsyncClient(mounts=mounts, base_url=DOWNSTREAM) as http:
        yield Federation(TwoOriginBrowser(http), upstream, downstream, clock, http, mounts)


def token_field(page: httpx.Response) -> str:
    return dict(forms(page.text)[0].fields)["__RequestVerificationToken"]


def idp_links(page: httpx.Response) -> dict[str, str]:
    """``data-idp`` scheme -> link of the login page (the outside contract)."""
    found = re.findall(r'<a class="button" data-idp="([^"]+)" href="([^"]+)"', page.text)
    return {scheme: href.replace("&amp;", "&") for scheme, href in found}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
