"""A client's token exchange policy (RFC 8693), read from its ``token_exchange`` setting (``[clients.token_exchange]``).

IdentityServer has no such policy (token exchange is an extension-grant sample there), so the table is this
server's own: which targets and scopes the client may ask for, whether it may delegate or impersonate, how deep an
``act`` chain may grow and which other issuers' subject tokens it may present."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from identityserver.models.client import Client

DEFAULT_MAX_DELEGATION_DEPTH = 2
"""Nested ``act`` claims an issued token may carry when the policy does not say (RFC 8693 §4.1)."""

_LISTS = ("audiences", "scopes", "subject_token_issuers")
_FLAGS = ("delegation", "impersonation")


@dataclass(frozen=True, slots=True)
class TokenExchangePolicy:
    """What a client may do with the token exchange grant."""

    audiences: tuple[str, ...] = ()
    """Targets (``audience`` or ``resource`` values: API resource names) the client may ask for; empty: none, the
    issued token's audience then follows from its scopes."""
    scopes: tuple[str, ...] | None = None
    """Scopes the client may ask for by exchange; ``None``: its ``allowed_scopes``."""
    delegation: bool = True
    """May present an ``actor_token``: the issued token names the actor in ``act`` (RFC 8693 §1.1)."""
    impersonation: bool = False
    """May exchange without an actor: the issued token is indistinguishable from one issued to the subject."""
    max_delegation_depth: int = DEFAULT_MAX_DELEGATION_DEPTH
    """The deepest ``act`` chain an issued token may carry (each delegation adds one level)."""
    subject_token_issuers: tuple[str, ...] = ()
    """Other issuers whose tokens the client may present (each needs a registered ``SubjectTokenValidator``); empty:
    only this server's tokens."""


def token_exchange_policy_problem(data: Mapping[str, Any]) -> str | None:
    """Why ``data`` is not a valid ``token_exchange`` table, or ``None``."""
    for key, value in data.items():
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                return f"token_exchange.{key} must be an array of non-empty strings"
        elif key in _FLAGS:
            if not isinstance(value, bool):
                return f"token_exchange.{key} must be a boolean"
        elif key == "max_delegation_depth":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                return "token_exchange.max_delegation_depth must be a positive integer"
        else:
            return f"token_exchange.{key} is not a token exchange setting"
    return None


def token_exchange_policy(client: Client) -> TokenExchangePolicy:
    """The client's policy (the defaults where its table is silent). The table was checked when the client was
    loaded; a value of the wrong type here (a store written by hand) grants nothing."""
    data = client.token_exchange or {}

    def strings(name: str) -> tuple[str, ...] | None:
        value = data.get(name)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else None

    def flag(name: str, default: bool) -> bool:
        value = data.get(name, default)
        return value if isinstance(value, bool) else False

    depth = data.get("max_delegation_depth")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        depth = DEFAULT_MAX_DELEGATION_DEPTH
    return TokenExchangePolicy(
        audiences=strings("audiences") or (),
        scopes=strings("scopes"),
        delegation=flag("delegation", True),
        impersonation=flag("impersonation", False),
        max_delegation_depth=depth,
        subject_token_issuers=strings("subject_token_issuers") or (),
    )
