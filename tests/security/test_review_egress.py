"""Review of issue 16 item 7's address check: IPv6 addresses that carry an internal IPv4 address (6to4,
RFC 3056 §2: ``2002:AABB:CCDD::`` reaches ``AA.BB.CC.DD`` through a relay) and deprecated site-local addresses
(``fec0::/10``, RFC 3879, still routed inside some networks) passed as public, so a registered URI whose name
resolves to them was called."""

from __future__ import annotations

import httpx
import pytest

from identityserver._utils.egress import is_public_address, is_public_https_url, pin_public_address
from identityserver.services.request_uri_fetch import JwtRequestUriFetcher, RequestUriError

INWARD = [
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
    "2002:a00:7::",  # 6to4 of 10.0.0.7
    "fec0::1",  # site-local
    "fef0::abcd",
]


@pytest.mark.parametrize("address", INWARD)
async def test_a_name_resolving_to_an_embedded_internal_address_is_refused_uncalled(address):
    seen: list[httpx.Request] = []

    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="a.b.c")

    assert not is_public_address(address)
    assert not is_public_https_url(f"https://[{address}]/r")
    assert await pin_public_address("https://rp.example/logout", resolve) is None
    fetcher = JwtRequestUriFetcher(lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)), resolve=resolve)
    outcome = await fetcher.fetch("https://objects.example/r")
    assert isinstance(outcome, RequestUriError) and outcome.error == "invalid_request_uri"
    assert seen == []


def test_6to4_of_a_public_address_is_still_public():
    assert is_public_address("2002:5db8:d822::1")  # 93.184.216.34
    assert is_public_address("2606:2800:220:1::1")
