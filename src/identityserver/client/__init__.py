"""Client-side helpers for applications that call this server and its APIs."""

from identityserver.client.dpop import DPoPAuth, DPoPKey, DPoPTokenClient

__all__ = ["DPoPAuth", "DPoPKey", "DPoPTokenClient"]
