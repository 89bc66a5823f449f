"""Dynamic client registration (RFC 7591; Duende's separate ``Duende.IdentityServer.Configuration`` package)."""
