"""Versioned JSON (de)serialization of grant payloads (Duende ``PersistentGrantSerializer``)."""

from __future__ import annotations

from typing import Any

from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import AuthorizationCode, DeviceCode, ProofType, RefreshToken, Token


def token_to_dict(token: Token) -> dict[str, Any]:
    return {
        "Type": token.type,
        "ClientId": token.client_id,
        "Issuer": token.issuer,
        "CreationTime": token.creation_time,
        "Lifetime": token.lifetime,
        "Audiences": token.audiences,
        "Claims": [c.to_dict() for c in token.claims],
        "AccessTokenType": token.access_token_type,
        "AllowedSigningAlgorithms": token.allowed_signing_algorithms,
        "Confirmation": token.confirmation,
        "Description": token.description,
        "IncludeJwtId": token.include_jwt_id,
        "Version": token.version,
    }


def token_from_dict(data: dict[str, Any]) -> Token:
    return Token(
        type=data["Type"],
        client_id=data["ClientId"],
        issuer=data["Issuer"],
        creation_time=int(data["CreationTime"]),
        lifetime=int(data["Lifetime"]),
        audiences=list(data.get("Audiences") or []),
        claims=[Claim.from_dict(c) for c in data.get("Claims") or []],
        access_token_type=int(data.get("AccessTokenType", 0)),
        allowed_signing_algorithms=list(data.get("AllowedSigningAlgorithms") or []),
        confirmation=data.get("Confirmation"),
        description=data.get("Description"),
        include_jwt_id=bool(data.get("IncludeJwtId", True)),
        version=int(data.get("Version", 5)),
    )


def code_to_dict(code: AuthorizationCode) -> dict[str, Any]:
    return {
        "CreationTime": code.creation_time,
        "Lifetime": code.lifetime,
        "ClientId": code.client_id,
        "Subject": code.subject.to_list(),
        "IsOpenId": code.is_open_id,
        "RequestedScopes": code.requested_scopes,
        "RedirectUri": code.redirect_uri,
        "RequestedResourceIndicators": code.requested_resource_indicators,
        "Nonce": code.nonce,
        "StateHash": code.state_hash,
        "WasConsentShown": code.was_consent_shown,
        "SessionId": code.session_id,
        "CodeChallenge": code.code_challenge,
        "CodeChallengeMethod": code.code_challenge_method,
        "DPoPKeyThumbprint": code.dpop_key_thumbprint,
        "Description": code.description,
        "Properties": code.properties,
    }


def code_from_dict(data: dict[str, Any]) -> AuthorizationCode:
    return AuthorizationCode(
        creation_time=int(data["CreationTime"]),
        lifetime=int(data["Lifetime"]),
        client_id=data["ClientId"],
        subject=Principal.from_list(data["Subject"]),
        is_open_id=bool(data["IsOpenId"]),
        requested_scopes=list(data["RequestedScopes"]),
        redirect_uri=data["RedirectUri"],
        requested_resource_indicators=list(data.get("RequestedResourceIndicators") or []),
        nonce=data.get("Nonce"),
        state_hash=data.get("StateHash"),
        was_consent_shown=bool(data.get("WasConsentShown", False)),
        session_id=data.get("SessionId"),
        code_challenge=data.get("CodeChallenge"),
        code_challenge_method=data.get("CodeChallengeMethod"),
        dpop_key_thumbprint=data.get("DPoPKeyThumbprint"),
        description=data.get("Description"),
        properties=dict(data.get("Properties") or {}),
    )


def refresh_token_to_dict(token: RefreshToken) -> dict[str, Any]:
    return {
        "CreationTime": token.creation_time,
        "Lifetime": token.lifetime,
        "ClientId": token.client_id,
        "Subject": token.subject.to_list(),
        "AuthorizedScopes": token.authorized_scopes,
        "AccessTokens": {k: token_to_dict(v) for k, v in token.access_tokens.items()},
        "SessionId": token.session_id,
        "Description": token.description,
        "AuthorizedResourceIndicators": token.authorized_resource_indicators,
        "ProofType": None if token.proof_type is None else int(token.proof_type),
        "ConsumedTime": token.consumed_time,
        "FamilyId": token.family_id,
        "EarlierAccessTokens": [[jti, exp] for jti, exp in token.earlier_access_tokens],
        "Version": token.version,
    }


def refresh_token_from_dict(data: dict[str, Any]) -> RefreshToken:
    proof = data.get("ProofType")
    return RefreshToken(
        creation_time=int(data["CreationTime"]),
        lifetime=int(data["Lifetime"]),
        client_id=data["ClientId"],
        subject=Principal.from_list(data["Subject"]),
        authorized_scopes=list(data["AuthorizedScopes"]),
        access_tokens={k: token_from_dict(v) for k, v in (data.get("AccessTokens") or {}).items()},
        session_id=data.get("SessionId"),
        description=data.get("Description"),
        authorized_resource_indicators=data.get("AuthorizedResourceIndicators"),
        proof_type=None if proof is None else ProofType(int(proof)),
        consumed_time=data.get("ConsumedTime"),
        family_id=data.get("FamilyId"),
        earlier_access_tokens=[(str(j), int(e)) for j, e in data.get("EarlierAccessTokens") or []],
        version=int(data.get("Version", 5)),
    )


def device_code_to_dict(code: DeviceCode) -> dict[str, Any]:
    return {
        "CreationTime": code.creation_time,
        "Lifetime": code.lifetime,
        "ClientId": code.client_id,
        "RequestedScopes": code.requested_scopes,
        "IsOpenId": code.is_open_id,
        "IsAuthorized": code.is_authorized,
        "AuthorizedScopes": code.authorized_scopes,
        "Subject": code.subject.to_list() if code.subject else None,
        "SessionId": code.session_id,
        "Description": code.description,
        "DPoPKeyThumbprint": code.dpop_key_thumbprint,
    }


def device_code_from_dict(data: dict[str, Any]) -> DeviceCode:
    subject = data.get("Subject")
    return DeviceCode(
        creation_time=int(data["CreationTime"]),
        lifetime=int(data["Lifetime"]),
        client_id=data["ClientId"],
        requested_scopes=list(data["RequestedScopes"]),
        is_open_id=bool(data.get("IsOpenId", False)),
        is_authorized=bool(data.get("IsAuthorized", False)),
        authorized_scopes=data.get("AuthorizedScopes"),
        subject=Principal.from_list(subject) if subject else None,
        session_id=data.get("SessionId"),
        description=data.get("Description"),
        dpop_key_thumbprint=data.get("DPoPKeyThumbprint"),
    )
