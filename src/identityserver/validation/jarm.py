"""Response modes of JWT-secured authorization responses (JARM: OpenID Financial-grade API JWT Secured
Authorization Response Mode, §2.3): the response travels as one signed ``response`` JWT by query, fragment or
form post."""

from __future__ import annotations

from typing import Final

#: JARM §2.3.1-§2.3.4.
JARM_RESPONSE_MODES: Final = ("jwt", "query.jwt", "fragment.jwt", "form_post.jwt")
JWT_SUFFIX: Final = ".jwt"


def is_jarm_mode(mode: str | None) -> bool:
    return mode is not None and mode.endswith(JWT_SUFFIX)


def resolve_response_mode(mode: str, default: str) -> str:
    """``jwt`` means the default mode of the response type, secured (JARM §2.3.4: ``query.jwt`` for ``code``,
    ``fragment.jwt`` for response types with tokens); any other value is returned as it is."""
    return default + JWT_SUFFIX if mode == "jwt" else mode


def delivery_mode(mode: str) -> str:
    """How a response in ``mode`` reaches the client: ``query``, ``fragment`` or ``form_post``."""
    return mode.removesuffix(JWT_SUFFIX)
