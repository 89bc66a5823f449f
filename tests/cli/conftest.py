"""What the tests of ``identityserver serve`` as a process share: a configuration with one machine client."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = """
[[clients]]
client_id = "machine"
client_secrets = ["machine-secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api1-secret"]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The configuration file of a client ``machine`` (secret ``machine-secret``) for scope ``api1``."""
    path = tmp_path / "identityserver.toml"
    path.write_text(CONFIG)
    return path
