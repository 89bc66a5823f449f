"""The client application portal (6.3) and third-party initiated login links (OIDC Core §4)."""

from __future__ import annotations

import tomllib
from urllib.parse import parse_qs, urlsplit

from identityserver.configuration.loader import parse_configuration
from identityserver.ui.portal import initiate_login_link
from tests.support.server import make_builder, running

CONFIG = """
[[clients]]
client_id = "portal.app"
client_name = "Zeta <App>"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid"]
initiate_login_uri = "https://app.example/login?tenant=1"

[[clients]]
client_id = "portal.other"
client_name = "Alpha"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://other.example/cb"]
allowed_scopes = ["openid"]
initiate_login_uri = "https://other.example/login"

[[clients]]
client_id = "hidden"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["openid"]
"""


async def test_portal_lists_clients_with_an_initiate_login_uri_linked_with_iss():
    async with running(make_builder(parse_configuration(tomllib.loads(CONFIG)))) as server:
        page = await server.client.get("/portal")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    html = page.text
    assert "Zeta &lt;App&gt;" in html and "<App>" not in html  # names are escaped
    assert html.index("Alpha") < html.index("Zeta")
    assert "hidden" not in html
    href = html.split('href="https://app.example/login')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit("https://app.example/login" + href).query)
    assert query == {"tenant": ["1"], "iss": [server.issuer]}


def test_initiate_login_link_adds_iss_and_login_hint():
    link = initiate_login_link("https://rp.example/start", "https://idp.example", "alice")
    assert parse_qs(urlsplit(link).query) == {"iss": ["https://idp.example"], "login_hint": ["alice"]}
