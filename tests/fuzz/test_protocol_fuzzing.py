"""Every routed protocol endpoint, fuzzed over HTTP against ``identityserver serve`` from the description the server
prints itself (``identityserver openapi``): no 5xx, no stack trace, no secret echoed, no state change on a refused
request. A short run here; ``IDENTITYSERVER_FUZZ_EXAMPLES`` (or ``bench/fuzz.py``) runs a long one."""

from __future__ import annotations

import os

import pytest

from tests.fuzz.runner import Fuzzer, openapi_document
from tests.support.process import serve

EXAMPLES = int(os.environ.get("IDENTITYSERVER_FUZZ_EXAMPLES", "15"))
SECRETS = ["fuzz-m2m-secret-7f3a", "fuzz-web-secret-91bc", "fuzz-api-secret-0c4d", "fuzz-upstream-secret-3e8a"]

CONFIG = """
database_url = "sqlite:///{database}"

[options.dynamic_client_registration]
enabled = true
initial_access_token = "fuzz-registration-token-5d2e"

[[clients]]
client_id = "fuzz.m2m"
client_secrets = ["fuzz-m2m-secret-7f3a"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "fuzz.web"
client_secrets = ["fuzz-web-secret-91bc"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://client.example/cb"]
post_logout_redirect_uris = ["https://client.example/out"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[clients]]
client_id = "fuzz.spa"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://spa.example/cb"]
allowed_scopes = ["openid", "api1"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["fuzz-api-secret-0c4d"]

[[identity_providers]]
scheme = "corp"
display_name = "Corporate sign-in"
authority = "https://upstream.invalid"
client_id = "fuzz"
client_secret = "fuzz-upstream-secret-3e8a"

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    database = folder / "fuzz.db"
    config = folder / "config.toml"
    config.write_text(CONFIG.format(database=database))
    with serve(config, folder / "state") as url:
        yield url, database, openapi_document(config, url)


def test_the_description_covers_every_protocol_endpoint(fuzz_target):
    _, _, document = fuzz_target
    paths = set(document["paths"])
    assert {"/connect/token", "/connect/authorize", "/connect/introspect", "/connect/register"} <= paths
    assert {"/account/login", "/consent", "/device", "/ciba", "/federation/{scheme}/signin"} <= paths  # the UI too
    token = document["paths"]["/connect/token"]["post"]["requestBody"]["content"]
    grant = token["application/x-www-form-urlencoded"]["schema"]["properties"]["grant_type"]
    assert {"enum": ["authorization_code", "client_credentials"]} in grant["anyOf"]  # the deployment's values


def test_schema_driven_fuzzing_finds_no_server_error_leak_or_state_change(fuzz_target):
    url, database, document = fuzz_target
    fuzzer = Fuzzer(url, database, SECRETS)
    try:
        fuzzer.fuzz_schema(document, EXAMPLES)
    finally:
        fuzzer.close()
    print(fuzzer.report.summary())
    assert fuzzer.report.requests >= EXAMPLES * len(document["paths"])
    assert fuzzer.report.failures == []


def test_raw_bytes_fuzzing_finds_no_server_error_leak_or_state_change(fuzz_target):
    url, database, document = fuzz_target
    fuzzer = Fuzzer(url, database, SECRETS)
    try:
        fuzzer.fuzz_raw(document, EXAMPLES)
    finally:
        fuzzer.close()
    print(fuzzer.report.summary())
    assert fuzzer.report.failures == []
