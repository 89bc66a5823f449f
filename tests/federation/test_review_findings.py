"""Regression tests of the adversarial review of federation (docs/review-findings.md): each failed before its
fix."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.federation.support import DOWNSTREAM, UPSTREAM, federation, query
from tests.federation.test_bad_input import answer_of_upstream, start
from tests.federation.test_round_trip import logins
from tests.support.browser import is_login_page


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
