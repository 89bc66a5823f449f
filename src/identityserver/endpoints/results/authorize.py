"""Authorize endpoint results: the response to the client, in its response mode."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class AuthorizeResult:
    """Parameters for the client's redirect URI, delivered by ``query``, ``fragment`` or ``form_post``."""

    redirect_uri: str
    response_mode: str
    parameters: dict[str, str]
    cookies: list[str] = field(default_factory=list)
