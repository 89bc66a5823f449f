"""The built-in interactive pages (login, consent, logout, errors). Talks to the engine only through the
interaction service."""

from identityserver.ui.routes import create_ui

__all__ = ["create_ui"]
