"""Generic results: JSON documents, bare status codes, redirects, HTML and RFC 6750 errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class JsonResult:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    no_store: bool = True
    max_age: int | None = None
    """When set (and ``no_store`` is false), ``Cache-Control: max-age``."""
    encoded: bytes | None = None
    """``body`` already serialized (a document prepared once and served many times)."""


@dataclass(slots=True)
class StatusCodeResult:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None


@dataclass(slots=True)
class RedirectResult:
    location: str
    status: int = 302
    cookies: list[str] = field(default_factory=list)


@dataclass(slots=True)
class HtmlResult:
    html: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    script_hashes: list[str] = field(default_factory=list)
    frame_src: list[str] = field(default_factory=list)
    frameable: bool = False
    """Only the check-session iframe is meant to be framed by other sites (OIDC Session Management §3.3)."""


@dataclass(slots=True)
class ProtectedResourceErrorResult:
    """An RFC 6750 §3 / RFC 9449 §7.1 error with a ``WWW-Authenticate`` challenge (no error code when the request
    carried no credentials at all)."""

    error: str | None
    error_description: str | None = None
    status: int = 401
    scheme: str = "Bearer"
    dpop_algs: list[str] = field(default_factory=list)
    dpop_nonce: str | None = None
    include_bearer_challenge: bool = True
