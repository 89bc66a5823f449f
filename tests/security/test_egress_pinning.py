"""Issue 16 item 7: the SSRF check of a registered URI resolved the name, then the HTTP client resolved it again,
so a DNS answer that changed in between (rebinding) sent the call inward. ``pin_public_address`` resolves once
and the request goes to the checked address, with the original ``Host`` and TLS server name."""

from __future__ import annotations

import httpx

from identityserver._utils.egress import pin_public_address


def rebinding_resolver(answers: list[list[str]]):
    """A resolver that gives a public answer first and an internal one after (a DNS rebinding attack)."""
    calls = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return answers[min(len(calls) - 1, len(answers) - 1)]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def test_the_request_goes_to_the_checked_address_with_the_original_host_and_sni():
    resolve = rebinding_resolver([["93.184.216.34"], ["127.0.0.1"]])
    target = await pin_public_address("https://rp.example:8443/logout?x=1", resolve)
    assert target is not None
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await http.post(target.url, data={"logout_token": "t"}, headers=target.headers, extensions=target.extensions)
    request = seen[0]
    assert request.url.host == "93.184.216.34" and request.url.port == 8443 and request.url.query == b"x=1"
    assert request.headers["host"] == "rp.example:8443"
    assert request.extensions["sni_hostname"] == "rp.example"
    assert len(resolve.calls) == 1  # type: ignore[attr-defined]  # resolved once, never again


async def test_ipv6_addresses_are_bracketed():
    target = await pin_public_address("https://rp.example/x", rebinding_resolver([["2606:2800:220:1::1"]]))
    assert target is not None and target.url == "https://[2606:2800:220:1::1]/x"


async def test_any_internal_address_in_the_answer_refuses_the_call():
    for answer in (["93.184.216.34", "10.0.0.1"], ["127.0.0.1"], ["169.254.169.254"], ["::ffff:127.0.0.1"], []):
        assert await pin_public_address("https://rp.example/x", rebinding_resolver([answer])) is None


async def test_non_https_and_internal_names_are_refused_without_resolving():
    resolve = rebinding_resolver([["93.184.216.34"]])
    for url in ("http://rp.example/x", "https://localhost/x", "https://printer.local/x", "https://10.0.0.1/x"):
        assert await pin_public_address(url, resolve) is None
    assert resolve.calls == []  # type: ignore[attr-defined]
