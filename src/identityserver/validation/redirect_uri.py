"""Redirect URI validation (Duende ``StrictRedirectUriValidator``): exact, case-sensitive string comparison
(RFC 9700 §2.1, §4.1.3; RFC 3986 §6.2.1). No prefixes, wildcards or normalisation."""

from __future__ import annotations

from identityserver.models.client import Client


class StrictRedirectUriValidator:
    """The default ``RedirectUriValidator``: exact, case-sensitive comparison (RFC 9700 §4.1.3); override to allow
    patterns at your own risk."""

    async def is_redirect_uri_valid(self, requested_uri: str, client: Client) -> bool:
        """Whether ``requested_uri`` is exactly one of the client's registered redirect URIs."""
        return requested_uri in client.redirect_uris
