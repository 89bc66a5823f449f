"""``[options.ui] theme_path`` without a browser: templates and static files are replaced a file at a time, the
rest fall back to the shipped ones, the file's relative path is resolved against the configuration file, and a
theme folder that is missing or empty stops start-up with a message naming the option."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from identityserver.configuration.loader import load_configuration
from identityserver.hosting.app import create_app
from identityserver.options import UiOptions
from identityserver.ui import create_ui
from identityserver.ui.theme import STATIC, ThemeError, load_theme
from tests.support.keys import pregenerated_signing_keys
from tests.support.server import ISSUER, make_builder, running


def themed_options(theme: Path):
    builder = make_builder()
    return dataclasses.replace(builder.options, ui=UiOptions(theme_path=str(theme)))


def write_theme(root: Path) -> None:
    (root / "templates").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "templates" / "home.html").write_text(
        '{% extends "_layout.html" %}{% block title %}Acme home{% endblock %}'
        '{% block content %}<p id="acme">{% include "_acme_footer.html" %}</p>{% endblock %}'
    )
    (root / "templates" / "_acme_footer.html").write_text("Acme footer")
    (root / "static" / "acme.css").write_text("p { color: red; }")


async def test_a_theme_replaces_a_page_and_adds_static_files(tmp_path: Path) -> None:
    write_theme(tmp_path / "theme")
    async with running(make_builder(options=themed_options(tmp_path / "theme"))) as server:
        home = await server.client.get("/")
        assert home.status_code == 200
        assert "<title>Acme home</title>" in home.text
        assert "Acme footer" in home.text
        assert "/static/site.css" in home.text  # the shipped layout still wraps the page
        login = await server.client.get("/account/login")
        assert "<title>Sign in</title>" in login.text  # not overridden: shipped
        assert (await server.client.get("/static/acme.css")).text == "p { color: red; }"
        shipped = await server.client.get("/static/site.css")
        assert shipped.status_code == 200
        assert shipped.text == (STATIC / "site.css").read_text()
        assert (await server.client.get("/static/nothing.css")).status_code == 404


async def test_explicit_template_dirs_win_over_the_theme(tmp_path: Path) -> None:
    write_theme(tmp_path / "theme")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "home.html").write_text("home from code")
    services = make_builder(options=themed_options(tmp_path / "theme")).build()
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    app = create_app(services, create_ui(services, template_dirs=[tmp_path / "code"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client:
        assert (await client.get("/")).text == "home from code"
        assert (await client.get("/static/acme.css")).status_code == 200  # the theme's static files still apply


def test_a_missing_or_empty_theme_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match=r"theme_path .* is not a folder"):
        load_theme(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ThemeError, match="neither a templates/ nor a static/ folder"):
        load_theme(str(tmp_path / "empty"))
    services = make_builder(options=themed_options(tmp_path / "missing")).build()
    with pytest.raises(ThemeError):
        create_ui(services)


def test_a_template_that_overrides_nothing_is_reported(tmp_path: Path, caplog) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "logon.html").write_text("typo")
    (tmp_path / "templates" / "_partial.html").write_text("mine")
    load_theme(str(tmp_path))
    assert "logon.html replaces no built-in page" in caplog.text
    assert "_partial.html" not in caplog.text


def test_theme_and_key_file_paths_are_relative_to_the_configuration_file(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "c.toml").write_text(
        '[options.ui]\ntheme_path = "theme"\n[options.data_protection]\nkey_encryption_key_file = "secrets/kek"\n'
    )
    config = load_configuration(folder / "c.toml")
    assert config.options.ui.theme_path == str(folder / "theme")
    assert config.options.data_protection.key_encryption_key_file == str(folder / "secrets" / "kek")
    (folder / "abs.toml").write_text('[options.ui]\ntheme_path = "/srv/theme"\n')
    assert load_configuration(folder / "abs.toml").options.ui.theme_path == "/srv/theme"


def test_docs_theming_lists_every_shipped_template() -> None:
    from identityserver.ui.theme import TEMPLATES

    text = (Path(__file__).parents[2] / "docs" / "theming.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert listed == {p.name for p in TEMPLATES.glob("*.html") if not p.name.startswith("_")}
    assert "`_layout.html`" in text
