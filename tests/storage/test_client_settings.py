"""Client settings that are not IdentityServer columns survive the SQL mapping as ``identityserver:`` properties."""

from __future__ import annotations

from datetime import UTC, datetime

from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.client_settings import settings_from_properties, settings_to_properties
from identityserver.storage.sqlalchemy.configuration_mappers import client_from_rows, client_to_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_server_setting_round_trips_through_the_rows():
    client = Client(client_id="c", token_endpoint_auth_method="private_key_jwt", properties={"team": "blue"})
    back = client_from_rows(client_to_rows(client, NOW))
    assert back.token_endpoint_auth_method == "private_key_jwt"
    assert back.properties == {"team": "blue"}  # the settings do not leak into the free properties


def test_defaults_are_not_stored_and_strings_keep_the_plain_format():
    assert settings_to_properties(Client(client_id="c")) == {}
    rows = settings_to_properties(Client(client_id="c", token_endpoint_auth_method="none"))
    assert rows == {"identityserver:token_endpoint_auth_method": "none"}  # readable by earlier versions


def test_unknown_prefixed_properties_stay_free_properties():
    settings, rest = settings_from_properties({"identityserver:not_a_setting": "1", "x": "y"})
    assert settings == {} and rest == {"identityserver:not_a_setting": "1", "x": "y"}
