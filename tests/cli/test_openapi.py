"""``identityserver openapi``: the description follows the configuration's routes and known values."""

from __future__ import annotations

import json

from identityserver.cli import main


def test_openapi_describes_the_routed_endpoints_of_the_configuration(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(
        """
[options.endpoints]
enable_introspection_endpoint = false

[[clients]]
client_id = "web"
client_secrets = ["s"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid"]
"""
    )
    assert main(["openapi", "--config", str(config), "--issuer", "https://idp.example/"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["servers"] == [{"url": "https://idp.example"}]
    assert "/connect/introspect" not in document["paths"]  # switched off, so not described
    authorize = {p["name"]: p["schema"] for p in document["paths"]["/connect/authorize"]["get"]["parameters"]}
    assert {"enum": ["https://web.example/cb"]} in authorize["redirect_uri"]["anyOf"]
    assert authorize["code_challenge_method"] == {"type": "string"}
    token = document["paths"]["/connect/token"]["post"]
    assert token["parameters"][0]["name"] == "Authorization"


def test_openapi_reports_a_broken_configuration(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("[[clients]]\nclient_id = 1\n")
    assert main(["openapi", "--config", str(config)]) == 2
    assert "configuration error" in capsys.readouterr().err


def test_openapi_with_ui_describes_the_pages_and_their_path_parameters(capsys):
    assert main(["openapi", "--ui"]) == 0
    paths = json.loads(capsys.readouterr().out)["paths"]
    assert {"get", "post"} <= set(paths["/account/login"])
    signin = paths["/federation/{scheme}/signin"]
    assert any(p["in"] == "path" and p["name"] == "scheme" for p in next(iter(signin.values()))["parameters"])
    assert "/static" not in paths
