"""Redirect URI validation (Duende ``StrictRedirectUriValidator``): exact, case-sensitive string comparison
(RFC 9700 §2.1, §4.1.3; RFC 3986 §6.2.1). No prefixes, wildcards or normalisation."""

from __future__ import annotations

from identityserver.models.client import Client


class StrictRedirectUriValidator:
    async def is_redirect_uri_valid(self, requested_uri: str, client: Client) -> bool:
        return requested_uri in client.redirect_uris
