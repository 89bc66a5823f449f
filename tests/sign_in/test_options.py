"""``[options.authentication] mfa_acr_value`` and the client's ``require_mfa`` are read from the configuration file
and checked at load (docs/sign-in.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from identityserver.configuration.loader import ConfigError
from tests.support.data import load_file_text


def test_the_mfa_value_and_require_mfa_are_read(tmp_path: Path) -> None:
    config = load_file_text(
        tmp_path,
        """
[options.authentication]
mfa_acr_value = "urn:example:mfa"

[[clients]]
client_id = "payments"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
require_mfa = true
""",
    )
    assert config.options.authentication.mfa_acr_value == "urn:example:mfa"
    assert config.clients[0].require_mfa is True


@pytest.mark.parametrize("value", ["", "two words", "idp:corp"])
def test_an_unusable_mfa_value_stops_loading_naming_the_field(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_file_text(tmp_path, f'[options.authentication]\nmfa_acr_value = "{value}"\n')
    assert "mfa_acr_value" in str(info.value) and "[options.authentication]" in str(info.value)
