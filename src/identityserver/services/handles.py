"""Random handles for codes, refresh tokens and reference tokens (Duende ``DefaultHandleGenerationService``)."""

from __future__ import annotations

import secrets


class DefaultHandleGenerationService:
    """32 random bytes (256 bits, RFC 6749 §10.10) as upper-case hex, with IdentityServer's ``-1`` suffix."""

    def generate_handle(self) -> str:
        """A new random handle."""
        return secrets.token_hex(32).upper() + "-1"
