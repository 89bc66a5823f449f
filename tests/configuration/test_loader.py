"""The TOML configuration loader (issue 2; interface contract): every error names the file, the entry and the
field; secrets are hashed and passwords stored with argon2 on load."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identityserver.configuration.demo import demo_configuration
from identityserver.configuration.loader import ConfigError, load_configuration
from identityserver.constants import SecretTypes
from identityserver.crypto.hashing import sha256_base64
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.passwords import verify_password
from identityserver.models.client import AccessTokenType, DPoPTokenExpirationValidationMode
from tests.support import data as test_data

RSA_JWK = json.dumps(public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
WEAK_RSA_JWK = json.dumps(public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_JWK = json.dumps(public_jwk(EC_KEY))
PRIVATE_EC_JWK = json.dumps({**public_jwk(EC_KEY), "d": "AAAA"})
OFF_CURVE_JWK = json.dumps({**public_jwk(EC_KEY), "y": public_jwk(EC_KEY)["x"]})

#: Users given as an argon2 hash are not hashed again, which keeps these tests fast.
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"

M2M = 'client_id = "m2m"\nclient_secrets = ["secret"]\nallowed_grant_types = ["client_credentials"]\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "identityserver.toml"
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_configuration(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    return message


def client(extra: str) -> str:
    return f"[[clients]]\n{M2M}{extra}\n"


def jwk_client(value: str) -> str:
    return (
        '[[clients]]\nclient_id = "jwt"\nallowed_grant_types = ["client_credentials"]\n'
        f"client_secrets = [{{ type = \"JWK\", value = '{value}' }}]\n"
    )


CASES = {
    # unknown keys
    "unknown top-level key": ("colour = 1", "top level", "colour"),
    "unknown client field": (client('colour = "red"'), 'clients[0] (client_id "m2m")', "colour"),
    "unknown option": ("[options]\ncolour = 1", "[options]", "colour"),
    "unknown option field": ("[options.key_management]\ncolour = 1", "[options.key_management]", "colour"),
    "unknown secret field": (
        '[[clients]]\nclient_id = "c"\nclient_secrets = [{ value = "s", colour = "red" }]',
        'clients[0] (client_id "c")',
        "client_secrets",
    ),
    "unknown api resource field": ('[[api_resources]]\nname = "r"\ncolour = 1', "api_resources[0]", "colour"),
    "unknown api scope field": ('[[api_scopes]]\nname = "s"\ncolour = 1', "api_scopes[0]", "colour"),
    "unknown identity resource field": (
        '[[identity_resources]]\nname = "i"\ncolour = 1',
        "identity_resources[0]",
        "colour",
    ),
    "unknown user field": (
        f'[[users]]\nsubject_id = "1"\nusername = "a"\npassword_hash = "{HASH}"\ncolour = 1',
        "users[0]",
        "colour",
    ),
    # wrong types
    "string for an integer": (client('access_token_lifetime = "1h"'), "clients[0]", "access_token_lifetime"),
    "boolean for an integer": (client("access_token_lifetime = true"), "clients[0]", "access_token_lifetime"),
    "float for an integer": (client("access_token_lifetime = 1.5"), "clients[0]", "access_token_lifetime"),
    "string for a boolean": (client('enabled = "yes"'), "clients[0]", "enabled"),
    "string for an array": (client('allowed_scopes = "api1"'), "clients[0]", "allowed_scopes"),
    "integer in a string array": (client("allowed_scopes = [1]"), "clients[0]", "allowed_scopes"),
    "table for a string": (client("client_name = { a = 1 }"), "clients[0]", "client_name"),
    "wrong option type": (
        '[options.key_management]\nrotation_interval = "90d"',
        "[options.key_management]",
        "rotation_interval",
    ),
    "wrong top-level option type": ("[options]\nlower_case_issuer_uri = 1", "[options]", "lower_case_issuer_uri"),
    "option group not a table": ("[options]\nkey_management = 3", "[options.key_management]", None),
    "clients not an array of tables": ("clients = 3", "top level", "clients"),
    "secret of the wrong type": (
        '[[clients]]\nclient_id = "c"\nclient_secrets = [3]',
        'clients[0] (client_id "c")',
        "client_secrets",
    ),
    "client_id of the wrong type": ("[[clients]]\nclient_id = 5", "clients[0]", "client_id"),
    "user claims not a table": (
        f'[[users]]\nsubject_id = "1"\nusername = "a"\npassword_hash = "{HASH}"\nclaims = [1]',
        "users[0]",
        "claims",
    ),
    "secret expiration not a date": (
        '[[clients]]\nclient_id = "c"\nclient_secrets = [{ value = "s", expiration = "soon" }]',
        "clients[0]",
        "client_secrets",
    ),
    # missing values
    "missing client_id": ('[[clients]]\nclient_name = "x"', "clients[0]", "client_id"),
    "missing user password": ('[[users]]\nsubject_id = "1"\nusername = "a"', "users[0]", "password"),
    "empty secret": ('[[clients]]\nclient_id = "c"\nclient_secrets = [""]', "clients[0]", "client_secrets"),
    # forbidden grant combinations and inconsistent clients
    "implicit with code": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\n'
        'allowed_grant_types = ["implicit", "authorization_code"]',
        'clients[0] (client_id "c")',
        "allowed_grant_types",
    ),
    "implicit with hybrid": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\nallowed_grant_types = ["implicit", "hybrid"]',
        "clients[0]",
        "allowed_grant_types",
    ),
    "code with hybrid": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\n'
        'allowed_grant_types = ["authorization_code", "hybrid"]',
        "clients[0]",
        "allowed_grant_types",
    ),
    "grant listed twice": (
        '[[clients]]\nclient_id = "c"\nclient_secrets = ["s"]\n'
        'allowed_grant_types = ["client_credentials", "client_credentials"]',
        "clients[0]",
        "allowed_grant_types",
    ),
    "public client with client_credentials": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\nallowed_grant_types = ["client_credentials"]',
        "clients[0]",
        "allowed_grant_types",
    ),
    "confidential client without a secret": (
        '[[clients]]\nclient_id = "c"\nallowed_grant_types = ["client_credentials"]',
        "clients[0]",
        "client_secrets",
    ),
    "private_key_jwt without a JWK": (
        client('token_endpoint_auth_method = "private_key_jwt"'),
        "clients[0]",
        "client_secrets",
    ),
    "none with a required secret": (
        client('token_endpoint_auth_method = "none"'),
        "clients[0]",
        "token_endpoint_auth_method",
    ),
    "non-positive lifetime": (client("access_token_lifetime = 0"), "clients[0]", "access_token_lifetime"),
    "javascript redirect uri": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\nallowed_grant_types = ["authorization_code"]\n'
        'redirect_uris = ["javascript:alert(1)"]',
        "clients[0]",
        "redirect_uris",
    ),
    "redirect uri with a fragment": (
        '[[clients]]\nclient_id = "c"\nrequire_client_secret = false\nallowed_grant_types = ["authorization_code"]\n'
        'redirect_uris = ["https://app.example/cb#x"]',
        "clients[0]",
        "redirect_uris",
    ),
    # duplicates
    "duplicate client_id": (f"[[clients]]\n{M2M}\n[[clients]]\n{M2M}", 'clients[1] (client_id "m2m")', "client_id"),
    "duplicate api scope": ('[[api_scopes]]\nname = "s"\n[[api_scopes]]\nname = "s"', "api_scopes[1]", "name"),
    "duplicate api resource": (
        '[[api_resources]]\nname = "r"\n[[api_resources]]\nname = "r"',
        "api_resources[1]",
        "name",
    ),
    "duplicate identity resource": (
        '[[identity_resources]]\nname = "i"\n[[identity_resources]]\nname = "i"',
        "identity_resources[1]",
        "name",
    ),
    "api scope named like an identity resource": ('[[api_scopes]]\nname = "profile"', "api_scopes[0]", "name"),
    "duplicate username ignoring case": (
        f'[[users]]\nsubject_id = "1"\nusername = "alice"\npassword_hash = "{HASH}"\n'
        f'[[users]]\nsubject_id = "2"\nusername = "Alice"\npassword_hash = "{HASH}"',
        "users[1]",
        "username",
    ),
    "duplicate subject_id": (
        f'[[users]]\nsubject_id = "1"\nusername = "alice"\npassword_hash = "{HASH}"\n'
        f'[[users]]\nsubject_id = "1"\nusername = "bob"\npassword_hash = "{HASH}"',
        "users[1]",
        "subject_id",
    ),
    # bad JWK secrets
    "JWK that is not JSON": (jwk_client("{not json"), 'clients[0] (client_id "jwt")', "client_secrets"),
    "JWK with private material": (jwk_client(PRIVATE_EC_JWK), "clients[0]", "client_secrets"),
    "symmetric JWK": (jwk_client('{"kty":"oct","k":"c2VjcmV0"}'), "clients[0]", "client_secrets"),
    "weak RSA JWK": (jwk_client(WEAK_RSA_JWK), "clients[0]", "client_secrets"),
    "EC JWK off its curve": (jwk_client(OFF_CURVE_JWK), "clients[0]", "client_secrets"),
    "JWK of an unknown type": (jwk_client('{"kty":"XYZ"}'), "clients[0]", "client_secrets"),
    "JWK that is a JSON array": (jwk_client("[1]"), "clients[0]", "client_secrets"),
    "JWK value that is a number": (
        '[[clients]]\nclient_id = "jwt"\nclient_secrets = [{ type = "JWK", value = 3 }]',
        "clients[0]",
        "client_secrets",
    ),
    # bad enums
    "access_token_type": (client('access_token_type = "opaque"'), "clients[0]", "access_token_type"),
    "access_token_type as a number": (client("access_token_type = 1"), "clients[0]", "access_token_type"),
    "refresh_token_usage": (client('refresh_token_usage = "sometimes"'), "clients[0]", "refresh_token_usage"),
    "refresh_token_expiration": (
        client('refresh_token_expiration = "never"'),
        "clients[0]",
        "refresh_token_expiration",
    ),
    "token_endpoint_auth_method": (
        client('token_endpoint_auth_method = "client_secret_jwt"'),  # tls_client_auth is supported (RFC 8705)
        "clients[0]",
        "token_endpoint_auth_method",
    ),
    "dpop_validation_mode flag": (
        client('dpop_validation_mode = ["iat", "often"]'),
        "clients[0]",
        "dpop_validation_mode",
    ),
    "dpop_validation_mode string": (client('dpop_validation_mode = "iat"'), "clients[0]", "dpop_validation_mode"),
    "secret type": (
        '[[clients]]\nclient_id = "c"\nclient_secrets = [{ type = "Plain", value = "s" }]',
        "clients[0]",
        "client_secrets",
    ),
    # options checked at load time rather than at first key creation
    "unsupported signing algorithm": (
        '[options.key_management]\nsigning_algorithms = ["HS256"]',
        "[options.key_management]",
        "signing_algorithms",
    ),
    "no signing algorithm": (
        "[options.key_management]\nsigning_algorithms = []",
        "[options.key_management]",
        "signing_algorithms",
    ),
    "rotation not longer than propagation": (
        "[options.key_management]\nrotation_interval = 86400\npropagation_time = 86400",
        "[options.key_management]",
        "rotation_interval",
    ),
    "weak managed RSA key": (
        "[options.key_management]\nrsa_key_size = 1024",
        "[options.key_management]",
        "rsa_key_size",
    ),
    "empty application name": (
        '[options.data_protection]\napplication_name = ""',
        "[options.data_protection]",
        "application_name",
    ),
    "short data-protection key lifetime": (
        "[options.data_protection]\nkey_lifetime = 3600",
        "[options.data_protection]",
        "key_lifetime",
    ),
    "negative refresh-token reuse grace period": (
        "[options.persisted_grants]\nrefresh_token_reuse_grace_period = -1",
        "[options.persisted_grants]",
        "refresh_token_reuse_grace_period",
    ),
    "api resource algorithm without a key": (
        '[[api_resources]]\nname = "r"\nallowed_access_token_signing_algorithms = ["ES256"]',
        "api_resources[0]",
        "allowed_access_token_signing_algorithms",
    ),
    "client identity token algorithm without a key": (
        client('allowed_identity_token_signing_algorithms = ["PS256"]'),
        "clients[0]",
        "allowed_identity_token_signing_algorithms",
    ),
    "issuer that is not an http url": ('issuer_uri = "ftp://idp.example"', "top level", "issuer_uri"),
}


@pytest.mark.parametrize(("text", "entry", "field"), CASES.values(), ids=CASES.keys())
def test_invalid_configuration_names_file_entry_and_field(tmp_path, text, entry, field):
    message = load_error(tmp_path, text)
    assert entry in message
    if field is not None:
        assert f'field "{field}"' in message


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"absent\.toml"):
        load_configuration(path)


def test_invalid_toml_is_named(tmp_path):
    message = load_error(tmp_path, "[[clients]\nclient_id = ")
    assert "invalid TOML" in message


def test_shared_secrets_are_stored_as_base64_sha256_only(tmp_path):
    text = f"""
[[clients]]
{M2M}
[[clients]]
client_id = "rich"
allowed_grant_types = ["client_credentials"]
client_secrets = [{{ value = "rich-secret", description = "primary", expiration = 2030-01-01T00:00:00Z }}]

[[api_resources]]
name = "urn:api1"
api_secrets = ["api-secret"]
"""
    config = load_configuration(write(tmp_path, text))
    secrets = {c.client_id: c.client_secrets[0] for c in config.clients}
    assert secrets["m2m"].value == sha256_base64("secret")
    assert secrets["m2m"].type == SecretTypes.SHARED_SECRET
    assert secrets["rich"].value == sha256_base64("rich-secret")
    assert secrets["rich"].description == "primary"
    expiration = secrets["rich"].expiration
    assert expiration is not None
    assert expiration.isoformat() == "2030-01-01T00:00:00+00:00"
    assert config.api_resources[0].api_secrets[0].value == sha256_base64("api-secret")
    dumped = repr(config)
    for plain in ("'secret'", "rich-secret", "api-secret"):
        assert plain not in dumped


def test_passwords_are_stored_as_argon2_hashes_only(tmp_path):
    text = '[[users]]\nsubject_id = "1"\nusername = "alice"\npassword = "correct horse"\n'
    user = load_configuration(write(tmp_path, text)).users[0]
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "correct horse")
    assert not verify_password(user.password_hash, "wrong horse")
    assert "correct horse" not in repr(user)


def test_jwk_secret_is_kept_as_public_jwk_text(tmp_path):
    text = '[[clients]]\nclient_id = "jwt"\nallowed_grant_types = ["client_credentials"]\n' + (
        f"client_secrets = [{{ type = \"JWK\", value = '{RSA_JWK}' }}]\n"
    )
    secret = load_configuration(write(tmp_path, text)).clients[0].client_secrets[0]
    assert secret.type == SecretTypes.JSON_WEB_KEY
    assert json.loads(secret.value) == json.loads(RSA_JWK)


def test_jwk_secret_may_be_an_inline_table(tmp_path):
    jwk = public_jwk(EC_KEY)
    inline = ", ".join(f'{k} = "{v}"' for k, v in jwk.items())
    text = f'[[clients]]\nclient_id = "jwt"\nclient_secrets = [{{ type = "JWK", value = {{ {inline} }} }}]\n'
    secret = load_configuration(write(tmp_path, text)).clients[0].client_secrets[0]
    assert json.loads(secret.value) == jwk


def test_client_defaults_are_identityserver_6_3_defaults(tmp_path):
    loaded = load_configuration(write(tmp_path, f"[[clients]]\n{M2M}")).clients[0]
    assert loaded.enabled is True
    assert loaded.require_client_secret is True
    assert loaded.require_pkce is True
    assert loaded.access_token_lifetime == 3600
    assert loaded.access_token_type == AccessTokenType.JWT
    assert loaded.include_jwt_id is True
    assert loaded.require_dpop is False
    assert loaded.dpop_validation_mode == DPoPTokenExpirationValidationMode.IAT
    assert loaded.dpop_clock_skew == 300
    assert loaded.client_claims_prefix == "client_"


def test_enum_values_and_flags_are_parsed(tmp_path):
    text = client('access_token_type = "reference"\ndpop_validation_mode = ["iat", "nonce"]')
    loaded = load_configuration(write(tmp_path, text)).clients[0]
    assert loaded.access_token_type == AccessTokenType.REFERENCE
    assert (
        loaded.dpop_validation_mode == DPoPTokenExpirationValidationMode.IAT | DPoPTokenExpirationValidationMode.NONCE
    )


def test_built_in_identity_resources_are_always_present(tmp_path):
    names = [r.name for r in load_configuration(write(tmp_path, "")).identity_resources]
    assert names[:3] == ["openid", "profile", "email"]


def test_relative_state_path_is_resolved_against_the_file(tmp_path):
    config = load_configuration(write(tmp_path, 'state_path = "state"'))
    assert config.state_path == str((tmp_path / "state").resolve())


def test_options_are_read_into_their_groups(tmp_path):
    text = """
issuer_uri = "https://idp.example/"
[options.key_management]
signing_algorithms = ["ES256", "PS256"]
[options.data_protection]
application_name = "my-idp"
[options.input_length_restrictions]
scope = 500
"""
    options = load_configuration(write(tmp_path, text)).options
    assert options.issuer_uri == "https://idp.example"
    assert options.key_management.signing_algorithms == ("ES256", "PS256")
    assert options.data_protection.application_name == "my-idp"
    assert options.input_length_restrictions.scope == 500


def test_refresh_token_reuse_grace_period_is_read_and_defaults_to_zero(tmp_path):
    assert load_configuration(write(tmp_path, "")).options.persisted_grants.refresh_token_reuse_grace_period == 0
    text = "[options.persisted_grants]\nrefresh_token_reuse_grace_period = 5\n"
    assert load_configuration(write(tmp_path, text)).options.persisted_grants.refresh_token_reuse_grace_period == 5


def test_canonical_test_configuration_and_demo_configuration_load():
    assert len(test_data.test_configuration().clients) >= 7
    demo = demo_configuration()
    assert {c.client_id for c in demo.clients} >= {"m2m", "interactive", "native"}
    assert all(not u.password_hash.startswith(("alice", "bob")) for u in demo.users)
