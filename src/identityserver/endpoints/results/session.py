"""Session management results: what the writer needs to render the check-session iframe."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class CheckSessionResult:
    """The check-session iframe (OIDC Session Management 1.0 §3.3), reading the cookie ``cookie_name``; the
    writer renders it from a template and sends it frameable by any site."""

    cookie_name: str
