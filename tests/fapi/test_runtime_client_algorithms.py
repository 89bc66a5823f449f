"""A client added while the server runs (a store the server reads per request) that names a signing algorithm the
server has no key for: the request gets a clean error, never a 500 (the start-up check cannot see it)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fapi.conftest import JARM_CB
from tests.support.browser import Browser, code_request, complete_authorize, sign_in
from tests.support.server import Server, basic


async def add_client(server: Server, client_id: str, **settings: object) -> None:
    jarm = await server.services.clients.find_client_by_id("jarm")
    assert jarm is not None
    await server.services.clients.add(replace(jarm, client_id=client_id, **settings))  # type: ignore[attr-defined]


async def test_jarm_algorithm_without_a_key_is_an_error_page_not_a_500(fapi_server):
    server = fapi_server
    await add_client(server, "jarm.ps256", authorization_signed_response_alg="PS256")
    params, _ = code_request("jarm.ps256", JARM_CB, "openid api1", response_mode="jwt")
    browser = Browser(server.client)
    await sign_in(browser)
    page = await browser.get("/connect/authorize?" + urlencode(params))
    # the response cannot be signed as the client asked, so nothing is sent to the redirect URI
    assert page.status_code == 400 and page.url.path == "/home/error", page.text[:300]
    assert "authorization_signed_response_alg" in page.text


async def test_id_token_algorithm_without_a_key_is_an_error_page_before_a_code_is_issued(fapi_server):
    server = fapi_server
    await add_client(server, "jarm.ps384", allowed_identity_token_signing_algorithms=["PS384"])
    params, _ = code_request("jarm.ps384", JARM_CB, "openid api1")
    browser = Browser(server.client)
    await sign_in(browser)
    page = await browser.get("/connect/authorize?" + urlencode(params))
    assert page.status_code == 400 and page.url.path == "/home/error", page.text[:300]
    assert "allowed_identity_token_signing_algorithms" in page.text


async def test_client_changed_to_an_unsignable_algorithm_gets_a_token_error_not_a_500(fapi_server):
    server = fapi_server
    await add_client(server, "jarm.edit")
    params, verifier = code_request("jarm.edit", JARM_CB, "openid api1")
    final = await complete_authorize(Browser(server.client), params)
    code = parse_qs(urlsplit(final.headers["location"]).query)["code"][0]
    edited = await server.services.clients.find_client_by_id("jarm.edit")
    assert edited is not None
    await server.services.clients.update(  # type: ignore[attr-defined]
        replace(edited, allowed_identity_token_signing_algorithms=["PS384"])
    )
    response = await server.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": JARM_CB, "code_verifier": verifier},
        headers=basic("jarm.edit", "secret"),
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "unauthorized_client"
    assert "PS384" in response.json()["error_description"]


async def test_error_in_a_jarm_mode_that_cannot_be_signed_is_shown_not_redirected(fapi_server):
    server = fapi_server
    await add_client(server, "jarm.ps512", authorization_signed_response_alg="PS512")
    params, _ = code_request("jarm.ps512", JARM_CB, "openid api9", response_mode="jwt")
    page = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
    assert page.status_code == 400 and page.url.path == "/home/error", page.text[:300]


def test_admin_cli_refuses_a_jarm_algorithm_the_server_has_no_key_for(tmp_path):
    from tests.cli.admin_support import identityserver, migrated_database

    entry = tmp_path / "jarm.toml"
    entry.write_text(
        '[[clients]]\nclient_id = "jarm.cli"\nclient_secrets = ["secret"]\n'
        'allowed_grant_types = ["authorization_code"]\n'
        f'redirect_uris = ["{JARM_CB}"]\nallowed_scopes = ["openid"]\nauthorization_signed_response_alg = "PS512"\n'
    )
    with migrated_database("sqlite", tmp_path) as url:
        refused = identityserver("clients", "add", "--from-toml", str(entry), "--database-url", url)
        assert refused.returncode == 2, refused.stderr
        assert 'field "authorization_signed_response_alg": is not one of RS256' in refused.stderr


async def test_api_resource_changed_to_an_unsignable_algorithm_is_an_error_page_at_authorize(fapi_server):
    server = fapi_server
    await add_client(server, "jarm.implicit", allowed_grant_types=["implicit"], allow_access_tokens_via_browser=True)
    [api] = [a for a in await server.services.resources.find_api_resources_by_scope_name(["api1"])]
    api.allowed_access_token_signing_algorithms = ["PS384"]  # an administrator's edit while the server runs
    params, _ = code_request("jarm.implicit", JARM_CB, "api1", response_type="token")
    params.pop("code_challenge"), params.pop("code_challenge_method")
    browser = Browser(server.client)
    await sign_in(browser)
    page = await browser.get("/connect/authorize?" + urlencode(params))
    assert page.status_code == 400 and page.url.path == "/home/error", page.text[:300]
