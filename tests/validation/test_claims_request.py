"""Parsing the ``claims`` request parameter (OIDC Core §5.5, §5.5.1) and its persisted form
(docs/claims-parameter.md); the HTTP behaviour is in tests/endpoints/test_claims_parameter.py."""

from __future__ import annotations

import json

from identityserver.models.claims import Claim, Principal
from identityserver.models.claims_request import (
    USERINFO_CLAIMS_CLAIM,
    ClaimsRequest,
    RequestedClaim,
    grant_claims_request,
)
from identityserver.models.grants import RefreshToken, Token
from identityserver.validation.claims_request import parameter_text, parse_claims_parameter


def test_members_map_claim_names_to_null_or_essential_value_values():
    parsed = parse_claims_parameter(
        json.dumps(
            {
                "userinfo": {"given_name": {"essential": True}, "nickname": None},
                "id_token": {"auth_time": {"essential": True}, "acr": {"values": ["urn:mace:incommon:iap:silver"]}},
                "sub": {"value": "248289761001"},
            }
        )
    )
    assert isinstance(parsed, ClaimsRequest)
    assert parsed.userinfo == {"given_name": RequestedClaim(essential=True), "nickname": RequestedClaim()}
    assert parsed.id_token["acr"].wanted_values() == ["urn:mace:incommon:iap:silver"]
    assert parsed.id_token["auth_time"].essential


def test_an_empty_object_and_null_members_request_nothing():
    for text in ("{}", '{"userinfo": null, "id_token": {}}'):
        parsed = parse_claims_parameter(text)
        assert isinstance(parsed, ClaimsRequest) and not parsed


def test_malformed_values_are_described():
    assert parse_claims_parameter("{") == "claims is not valid JSON"
    assert parse_claims_parameter("[1]") == "claims must be a JSON object"
    assert parse_claims_parameter('{"id_token": []}') == "claims member id_token must be a JSON object"
    assert "essential" in str(parse_claims_parameter('{"userinfo": {"email": {"essential": 1}}}'))
    assert "values" in str(parse_claims_parameter('{"userinfo": {"acr": {"values": {}}}}'))
    assert parse_claims_parameter('{"id_token": {"email": {"value": Infinity}}}') == "claims is not valid JSON"


def test_the_persisted_form_round_trips():
    request = ClaimsRequest(
        {"email": RequestedClaim()}, {"acr": RequestedClaim(True, None, ("a", "b")), "sub": RequestedClaim(value="1")}
    )
    assert ClaimsRequest.from_json(request.to_json()) == request
    assert ClaimsRequest.from_json(None) is None and ClaimsRequest.from_json("not json") is None


def test_a_refresh_token_inherits_the_userinfo_claims_its_access_token_lists():
    token = Token("access_token", "c", "https://idp", 0, 60, claims=[Claim.of(USERINFO_CLAIMS_CLAIM, ["email"])])
    refresh = RefreshToken(0, 60, "c", Principal(), ["openid"], access_tokens={"": token})
    inherited = grant_claims_request(None, refresh)
    assert inherited is not None and list(inherited.userinfo) == ["email"] and not inherited.id_token
    assert grant_claims_request(None, None) is None


def test_request_object_members_become_parameter_text():
    assert parameter_text({"id_token": {"email": None}}) == '{"id_token":{"email":null}}'
    assert parameter_text(True) == "true" and parameter_text(5) == "5" and parameter_text("x") == "x"
