"""Regression tests of the adversarial review of federation (docs/review-findings.md): each failed before its
fix."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from identityserver.models.identity_providers import IdentityProvider, oidc_provider
from identityserver.services.upstream_oidc import UpstreamError, UpstreamOidcClient
from tests.federation.support import DOWNSTREAM, UPSTREAM, federation, query
from tests.federation.test_bad_input import answer_of_upstream, start
from tests.federation.test_round_trip import logins
from tests.support.browser import is_login_page
from tests.support.clock import FakeClock


async def test_an_answer_naming_another_issuer_is_refused_as_a_mix_up() -> None:
    # RFC 9207 §2.4: the client compares the response's iss with the issuer it sent the request to
    async with federation() as fed:
        _, sent = await start(fed)
        back = await answer_of_upstream(fed, f"{UPSTREAM}/connect/authorize?{urlencode(sent)}")
        assert query(back)["iss"] == UPSTREAM
        mixed = back.replace(urlencode({"iss": UPSTREAM}), urlencode({"iss": "https://attacker.example"}))
        refused = await fed.http.get(mixed)
        assert refused.status_code == 400 and "was not valid" in refused.text
        assert fed.session_cookie(DOWNSTREAM) is None


async def test_an_answer_without_iss_from_an_upstream_that_announces_it_is_refused() -> None:
    # RFC 9207 §2.4: authorization_response_iss_parameter_supported means an answer without iss is refused
    async with federation() as fed:
        _, sent = await start(fed)
        back = await answer_of_upstream(fed, f"{UPSTREAM}/connect/authorize?{urlencode(sent)}")
        stripped = back.replace("&" + urlencode({"iss": UPSTREAM}), "").replace(urlencode({"iss": UPSTREAM}) + "&", "")
        assert "iss" not in query(stripped)
        refused = await fed.http.get(stripped)
        assert refused.status_code == 400 and fed.session_cookie(DOWNSTREAM) is None


async def test_linking_makes_the_user_sign_in_at_the_upstream_not_a_silent_single_sign_on() -> None:
    # The link round trip is a plain link (a cross-site page can start it): were the upstream allowed to answer
    # from an existing session (one an attacker planted by login CSRF there), that account would join this user.
    async with federation() as fed:
        upstream_page = await fed.browser.get(f"{UPSTREAM}/account/login")
        await fed.browser.login(upstream_page, "alice", "alice")  # a session at the upstream already
        page = await fed.browser.get(f"{DOWNSTREAM}/account/login")
        await fed.browser.login(page, "bob", "bob")
        challenge = await fed.http.get(f"{DOWNSTREAM}/account/external?scheme=corp&link=true")
        assert query(challenge.headers["location"])["prompt"] == "login"
        answer = await fed.browser.follow(challenge)
        assert is_login_page(answer) and str(answer.url).startswith(UPSTREAM)
        assert await logins(fed.downstream).find_by_subject("local-bob") == []


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("token_endpoint", "http://127.0.0.1:6379/token"),
        ("jwks_uri", "http://localhost:8080/jwks"),
        ("jwks_uri", "https://169.254.169.254/latest/meta-data"),
        ("userinfo_endpoint", "https://10.0.0.7/userinfo"),
        ("token_endpoint", "https://[::1]/token"),
    ],
)
async def test_a_remote_upstream_cannot_point_its_endpoints_at_internal_addresses(name: str, url: str) -> None:
    # An https upstream's discovery document naming loopback, link-local or private addresses would make this
    # server call its own network (with the client secret, for the token endpoint): a server-side request forgery
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        document = {
            "issuer": "https://up.example",
            "authorization_endpoint": "https://up.example/authorize",
            "token_endpoint": "https://up.example/token",
            "jwks_uri": "https://up.example/jwks",
            name: url,
        }
        return httpx.Response(200, json=document)

    provider = oidc_provider(
        IdentityProvider(
            "corp", properties={"Authority": "https://up.example", "ClientId": "me", "ResponseType": "code"}
        )
    )
    upstream = UpstreamOidcClient(FakeClock(), 3600, lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    with pytest.raises(UpstreamError, match=name):
        await upstream.metadata(provider)
    assert requested == ["https://up.example/.well-known/openid-configuration"]


async def test_a_loopback_upstream_for_development_keeps_its_loopback_endpoints() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        base = "http://localhost:5001"
        document = {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": "http://127.0.0.1:5001/token",
            "jwks_uri": f"{base}/jwks",
        }
        return httpx.Response(200, json=document)

    provider = oidc_provider(
        IdentityProvider(
            "dev", properties={"Authority": "http://localhost:5001", "ClientId": "me", "ResponseType": "code"}
        )
    )
    upstream = UpstreamOidcClient(FakeClock(), 3600, lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    metadata = await upstream.metadata(provider)
    assert metadata.token_endpoint == "http://127.0.0.1:5001/token"
