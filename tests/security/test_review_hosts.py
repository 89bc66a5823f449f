"""Review of issue 16 item 6: an ``allowed_hosts`` entry that is not a host (``[::1`` without its bracket, a
scheme, a path) was accepted at start-up and then failed every request with a 500 (or never matched); it is now
a configuration error naming the entry."""

from __future__ import annotations

import pytest

from identityserver.configuration.loader import ConfigError, parse_configuration
from identityserver.hosting.hosts import host_allowed
from tests.security.support import server_with


@pytest.mark.parametrize("entry", ["[::1", "https://idp.example", "idp.example/", "idp example", "idp.example:x", ""])
def test_a_malformed_allowed_hosts_entry_is_a_configuration_error(entry: str) -> None:
    section = {"options": {"allowed_hosts": ["localhost", entry]}}
    with pytest.raises(ConfigError) as caught:
        parse_configuration(section, "c.toml")
    assert str(caught.value) == f'c.toml: [options]: field "allowed_hosts": {entry!r} is not a host or host:port'


@pytest.mark.parametrize("entry", ["*", "idp.example", "IDP.example:8443", "[::1]", "[2001:db8::1]:443", "10.0.0.1"])
def test_well_formed_entries_are_accepted(entry: str) -> None:
    loaded = parse_configuration({"options": {"allowed_hosts": [entry]}}, "c.toml").options
    assert loaded.allowed_hosts == (entry,)
    assert host_allowed("idp.example", loaded.allowed_hosts) == (entry in ("*", "idp.example"))


async def test_a_malformed_entry_given_in_code_matches_nothing_instead_of_failing_requests() -> None:
    async with server_with(issuer_uri=None, allowed_hosts=("[::1", "localhost")) as server:
        answer = await server.client.get("/.well-known/openid-configuration", headers={"Host": "localhost"})
        assert answer.status_code == 200
        assert (await server.client.get("/", headers={"Host": "[::1"})).status_code == 400
