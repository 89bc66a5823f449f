"""The TOML configuration file -> options, clients, resources and users (snake_case of IdentityServer's names).

Unknown keys, wrong types and inconsistent clients stop start-up with a message naming the file, the entry
and the field. Plain secrets and passwords are hashed on load and never kept."""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from identityserver.configuration.certificate_secrets import certificate_secret_value
from identityserver.configuration.errors import ConfigError
from identityserver.configuration.errors import Where as _Where
from identityserver.configuration.identity_providers import IdentityProvider, parse_identity_providers
from identityserver.configuration.option_checks import check_options
from identityserver.configuration.option_paths import resolve_option_paths
from identityserver.constants import SecretTypes
from identityserver.crypto.hashing import sha256_base64
from identityserver.crypto.jwk import JwkError, load_public_jwk
from identityserver.crypto.passwords import hash_password
from identityserver.models.claims import Claim
from identityserver.models.client import (
    AccessTokenType,
    Client,
    ClientClaim,
    DPoPTokenExpirationValidationMode,
    Secret,
    TokenExpiration,
    TokenUsage,
)
from identityserver.models.resources import (
    ApiResource,
    ApiScope,
    IdentityResource,
    standard_identity_resources,
)
from identityserver.models.users import TestUser
from identityserver.options import IdentityServerOptions
from identityserver.validation.client_configuration import validate_client

__all__ = ["ConfigError", "Configuration", "load_configuration", "parse_configuration"]

BUILT_IN_IDENTITY_RESOURCES = ("openid", "profile", "email")


@dataclass(slots=True)
class Configuration:
    options: IdentityServerOptions = field(default_factory=IdentityServerOptions)
    database_url: str | None = None
    redis_url: str | None = None
    state_path: str | None = None
    clients: list[Client] = field(default_factory=list)
    identity_resources: list[IdentityResource] = field(default_factory=list)
    api_scopes: list[ApiScope] = field(default_factory=list)
    api_resources: list[ApiResource] = field(default_factory=list)
    users: list[TestUser] = field(default_factory=list)
    identity_providers: list[IdentityProvider] = field(default_factory=list)
    source: str = "<built-in>"
    apply_configuration: bool = True
    """``serve`` upserts the entries into the database at every start; false: only warns about them."""


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _check(value: Any, hint: Any, where: _Where, name: str) -> Any:
    """Check ``value`` against a type hint and convert it (lists to tuples where the hint says so)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _check(value, arg, where, name)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError(problems[0])
        raise where.error(name, "invalid value")
    if hint is bool:
        if not isinstance(value, bool):
            raise where.error(name, f"expected a boolean, got {_type_name(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error(name, f"expected an integer, got {_type_name(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise where.error(name, f"expected a number, got {_type_name(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise where.error(name, f"expected a string, got {_type_name(value)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise where.error(name, f"expected an array, got {_type_name(value)}")
        items = [_check(v, args[0], where, name) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise where.error(name, f"expected a table, got {_type_name(value)}")
        return {str(k): _check(v, args[1], where, name) for k, v in value.items()}
    raise where.error(name, f"unsupported type {hint}")


def _build(
    cls: type,
    data: dict[str, Any],
    where: _Where,
    converters: dict[str, Callable[[Any, _Where], Any]] | None = None,
    required: tuple[str, ...] = (),
) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if converters and key in converters:
            kwargs[key] = converters[key](value, where)
            continue
        if key not in names:
            raise where.error(key, "unknown field")
        kwargs[key] = _check(value, hints[key], where, key)
    for key in required:
        if key not in kwargs or kwargs[key] in ("", None):
            raise where.error(key, "is required")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise where.error(None, str(exc)) from exc


def _options(data: Any, source: str) -> IdentityServerOptions:
    where = _Where(source, "[options]")
    if not isinstance(data, dict):
        raise where.error(None, "expected a table")
    hints = typing.get_type_hints(IdentityServerOptions)
    groups = {f.name for f in dataclasses.fields(IdentityServerOptions) if dataclasses.is_dataclass(hints[f.name])}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in groups:
            group_where = _Where(source, f"[options.{key}]")
            if not isinstance(value, dict):
                raise group_where.error(None, "expected a table")
            kwargs[key] = _build(hints[key], value, group_where)
        elif key in hints:
            kwargs[key] = _check(value, hints[key], where, key)
        else:
            raise where.error(key, "unknown option")
    options = IdentityServerOptions(**kwargs)
    check_options(options, source)
    return options


def _check_signing_algorithms(values: list[str], options: IdentityServerOptions, where: _Where, name: str) -> None:
    """Algorithms a client or API resource restricts itself to must be ones the server has keys for."""
    available = options.key_management.signing_algorithms
    for alg in values:
        if alg not in available:
            raise where.error(
                name, f"{alg!r} is not in [options.key_management] signing_algorithms ({', '.join(available)})"
            )


def _datetime(value: Any, where: _Where, name: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise where.error(name, "expected an RFC 3339 date-time") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise where.error(name, f"expected a date-time, got {_type_name(value)}")


def _secret(value: Any, where: _Where, name: str) -> Secret:
    """A plain string (hashed now) or a table {value, type, expiration, description}."""
    if isinstance(value, str):
        if not value:
            raise where.error(name, "secrets must not be empty")
        return Secret(sha256_base64(value))
    if not isinstance(value, dict):
        raise where.error(name, f"expected a string or a table, got {_type_name(value)}")
    unknown = set(value) - {"value", "type", "expiration", "description"}
    if unknown:
        raise where.error(name, f"unknown secret field {sorted(unknown)[0]!r}")
    secret_type = value.get("type", SecretTypes.SHARED_SECRET)
    raw = value.get("value")
    if secret_type == SecretTypes.JSON_WEB_KEY:
        text = json.dumps(raw) if isinstance(raw, dict) else raw
        if not isinstance(text, str):
            raise where.error(name, "a JWK secret needs the key as JSON text or an inline table")
        try:
            load_public_jwk(json.loads(text))
        except (ValueError, JwkError) as exc:
            raise where.error(name, f"invalid JWK: {exc}") from exc
        stored = text
    elif secret_type == SecretTypes.SHARED_SECRET:
        if not isinstance(raw, str) or not raw:
            raise where.error(name, "a shared secret needs a non-empty string value")
        stored = sha256_base64(raw)
    else:
        stored = certificate_secret_value(secret_type, raw, where, name)  # RFC 8705 (or the unsupported-type error)
    expiration = _datetime(value["expiration"], where, name) if "expiration" in value else None
    description = value.get("description")
    if description is not None and not isinstance(description, str):
        raise where.error(name, "description must be a string")
    return Secret(stored, secret_type, description, expiration)


def _secrets(name: str) -> Callable[[Any, _Where], list[Secret]]:
    def convert(value: Any, where: _Where) -> list[Secret]:
        if not isinstance(value, list):
            raise where.error(name, f"expected an array, got {_type_name(value)}")
        return [_secret(item, where, name) for item in value]

    return convert


def _enum(name: str, mapping: dict[str, Any]) -> Callable[[Any, _Where], Any]:
    def convert(value: Any, where: _Where) -> Any:
        key = value.lower().replace("_", "") if isinstance(value, str) else None
        normalised = {k.replace("_", ""): v for k, v in mapping.items()}
        if key not in normalised:
            raise where.error(name, f"expected one of {', '.join(repr(k) for k in mapping)}")
        return normalised[key]

    return convert


def _dpop_mode(value: Any, where: _Where) -> DPoPTokenExpirationValidationMode:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error("dpop_validation_mode", 'expected an array of flags ("iat", "nonce")')
    mode = DPoPTokenExpirationValidationMode.CUSTOM
    for flag in value:
        if flag.lower() == "iat":
            mode |= DPoPTokenExpirationValidationMode.IAT
        elif flag.lower() == "nonce":
            mode |= DPoPTokenExpirationValidationMode.NONCE
        else:
            raise where.error("dpop_validation_mode", f'unknown flag {flag!r} (use "iat", "nonce")')
    return mode


def _client_claims(value: Any, where: _Where) -> list[ClientClaim]:
    if isinstance(value, dict):
        return [ClientClaim(k, c.value, c.value_type) for k, v in value.items() for c in [Claim.of(k, v)]]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        result = []
        for item in value:
            if not isinstance(item.get("type"), str) or "value" not in item:
                raise where.error("claims", "each claim needs a type and a value")
            result.append(ClientClaim(item["type"], str(item["value"]), str(item.get("value_type", "string"))))
        return result
    raise where.error("claims", "expected a table of claim values or an array of {type, value}")


def _empty_is_none(name: str) -> Callable[[Any, _Where], str | None]:
    def convert(value: Any, where: _Where) -> str | None:
        if not isinstance(value, str):
            raise where.error(name, f"expected a string, got {_type_name(value)}")
        return value or None

    return convert


_CLIENT_CONVERTERS: dict[str, Callable[[Any, _Where], Any]] = {
    "client_secrets": _secrets("client_secrets"),
    "refresh_token_usage": _enum(
        "refresh_token_usage", {"one_time_only": TokenUsage.ONE_TIME_ONLY, "reuse": TokenUsage.RE_USE}
    ),
    "refresh_token_expiration": _enum(
        "refresh_token_expiration", {"absolute": TokenExpiration.ABSOLUTE, "sliding": TokenExpiration.SLIDING}
    ),
    "access_token_type": _enum(
        "access_token_type", {"jwt": AccessTokenType.JWT, "reference": AccessTokenType.REFERENCE}
    ),
    "dpop_validation_mode": _dpop_mode,
    "claims": _client_claims,
    "front_channel_logout_uri": _empty_is_none("front_channel_logout_uri"),
    "back_channel_logout_uri": _empty_is_none("back_channel_logout_uri"),
    "initiate_login_uri": _empty_is_none("initiate_login_uri"),
}


def _entries(data: dict[str, Any], key: str, where: _Where) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise where.error(key, "expected an array of tables ([[" + key + "]])")
    return value


def _user(data: dict[str, Any], where: _Where) -> TestUser:
    unknown = set(data) - {"subject_id", "username", "password", "password_hash", "claims", "is_active"}
    if unknown:
        raise where.error(sorted(unknown)[0], "unknown field")
    for name in ("subject_id", "username"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise where.error(name, "is required (a non-empty string)")
    if isinstance(data.get("password_hash"), str) and data["password_hash"].startswith("$argon2"):
        password_hash = data["password_hash"]
    elif isinstance(data.get("password"), str) and data["password"]:
        password_hash = hash_password(data["password"])
    else:
        raise where.error("password", "is required (a non-empty string)")
    claims_data = data.get("claims", {})
    if not isinstance(claims_data, dict):
        raise where.error("claims", "expected a table")
    claims = []
    for claim_type, value in claims_data.items():
        for item in value if isinstance(value, list) else [value]:
            claims.append(Claim.of(claim_type, item))
    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        raise where.error("is_active", "expected a boolean")
    return TestUser(data["subject_id"], data["username"], password_hash, claims, is_active)


def parse_configuration(data: dict[str, Any], source: str = "<config>") -> Configuration:
    top = _Where(source, "top level")
    known = {
        "issuer_uri",
        "database_url",
        "state_path",
        "redis_url",
        "apply_configuration",
        "options",
        "clients",
        "identity_resources",
        "api_scopes",
        "api_resources",
        "users",
        "identity_providers",
    }
    for key in data:
        if key not in known:
            raise top.error(key, "unknown key")
    options = _options(data.get("options", {}), source)
    issuer = data.get("issuer_uri")
    if issuer is not None:
        if not isinstance(issuer, str) or not issuer.startswith(("http://", "https://")):
            raise top.error("issuer_uri", "expected an http(s) URL")
        options = dataclasses.replace(options, issuer_uri=issuer.rstrip("/"))
    for key in ("database_url", "state_path", "redis_url"):
        if key in data and not isinstance(data[key], str):
            raise top.error(key, "expected a string")
    config = Configuration(
        options, data.get("database_url"), data.get("redis_url"), data.get("state_path"), source=source
    )
    config.apply_configuration = _check(data.get("apply_configuration", True), bool, top, "apply_configuration")
    seen: set[str] = set()
    for i, entry in enumerate(_entries(data, "clients", top)):
        where = _Where(
            source,
            f"clients[{i}]"
            + (f' (client_id "{entry.get("client_id")}")' if isinstance(entry.get("client_id"), str) else ""),
        )
        client = _build(Client, entry, where, _CLIENT_CONVERTERS, required=("client_id",))
        if client.client_id in seen:
            raise where.error("client_id", "duplicate client_id")
        seen.add(client.client_id)
        problem = validate_client(client)
        if problem is not None:
            raise where.error(problem[0], problem[1])
        _check_signing_algorithms(
            client.allowed_identity_token_signing_algorithms,
            options,
            where,
            "allowed_identity_token_signing_algorithms",
        )
        config.clients.append(client)
    identity = standard_identity_resources()
    resources = {name: identity[name] for name in BUILT_IN_IDENTITY_RESOURCES}
    configured: set[str] = set()
    for i, entry in enumerate(_entries(data, "identity_resources", top)):
        where = _Where(source, f"identity_resources[{i}]")
        resource = _build(IdentityResource, entry, where, required=("name",))
        if resource.name in configured:  # a built-in may be redefined once, a file entry not twice
            raise where.error("name", f"duplicate name {resource.name!r}")
        configured.add(resource.name)
        resources[resource.name] = resource
    config.identity_resources = list(resources.values())
    for i, entry in enumerate(_entries(data, "api_scopes", top)):
        config.api_scopes.append(_build(ApiScope, entry, _Where(source, f"api_scopes[{i}]"), required=("name",)))
    for i, entry in enumerate(_entries(data, "api_resources", top)):
        where = _Where(source, f"api_resources[{i}]")
        api = _build(ApiResource, entry, where, {"api_secrets": _secrets("api_secrets")}, required=("name",))
        _check_signing_algorithms(
            api.allowed_access_token_signing_algorithms, options, where, "allowed_access_token_signing_algorithms"
        )
        config.api_resources.append(api)
    for i, entry in enumerate(_entries(data, "users", top)):
        config.users.append(_user(entry, _Where(source, f"users[{i}]")))
    config.identity_providers = parse_identity_providers(data, source)
    _check_unique(config, source)
    return config


def _check_unique(config: Configuration, source: str) -> None:
    """Duplicates are reported at the second occurrence, naming its entry and field."""
    for key, field_name, names in (
        ("api_scopes", "name", [s.name for s in config.api_scopes]),
        ("api_resources", "name", [a.name for a in config.api_resources]),
        ("users", "subject_id", [u.subject_id for u in config.users]),
        ("users", "username", [u.username.lower() for u in config.users]),
    ):
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise _Where(source, f"{key}[{i}]").error(field_name, f"duplicate {field_name} {name!r}")
            seen.add(name)
    identity = {r.name for r in config.identity_resources}
    for i, scope in enumerate(config.api_scopes):
        if scope.name in identity:
            raise _Where(source, f"api_scopes[{i}]").error("name", f"{scope.name!r} is already an identity resource")


def load_configuration(path: str | Path) -> Configuration:
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    config = parse_configuration(data, str(file))
    if config.state_path is not None and not Path(config.state_path).is_absolute():
        config.state_path = str((file.parent / config.state_path).resolve())
    config.options = resolve_option_paths(config.options, file.parent)
    return config
