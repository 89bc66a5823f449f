"""What the tests of ``identityserver serve`` as a process share: a configuration with one machine client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.process import MACHINE_CLIENT_CONFIG

CONFIG = (
    MACHINE_CLIENT_CONFIG
    + """
[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api1-secret"]
"""
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The configuration file of a client ``machine`` (secret ``machine-secret``) for scope ``api1``."""
    path = tmp_path / "identityserver.toml"
    path.write_text(CONFIG)
    return path
