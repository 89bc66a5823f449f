"""``[options.data_protection] key_encryption_key_env`` / ``key_encryption_key_file`` and ``[options.ui]`` in the
TOML file: one KEK source at a time, and a misspelt option is refused naming the section and field."""

from __future__ import annotations

import pytest

from identityserver.configuration.loader import ConfigError, parse_configuration


def test_both_kek_sources_are_refused() -> None:
    data = {"options": {"data_protection": {"key_encryption_key_env": "KEK", "key_encryption_key_file": "/kek"}}}
    with pytest.raises(ConfigError, match=r'\[options.data_protection\]: field "key_encryption_key_file": .*not both'):
        parse_configuration(data, "c.toml")


def test_one_kek_source_and_a_theme_are_accepted() -> None:
    config = parse_configuration(
        {"options": {"data_protection": {"key_encryption_key_env": "KEK"}, "ui": {"theme_path": "/srv/theme"}}}
    )
    assert config.options.data_protection.key_encryption_key_env == "KEK"
    assert config.options.ui.theme_path == "/srv/theme"


def test_a_misspelt_ui_option_is_refused() -> None:
    with pytest.raises(ConfigError, match=r'\[options.ui\]: field "theme": unknown'):
        parse_configuration({"options": {"ui": {"theme": "x"}}}, "c.toml")
