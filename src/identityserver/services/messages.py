"""Protected, stateless messages carried in URLs between the engine and the UI (Duende
``ProtectedDataMessageStore``): error, logout and consent messages, sealed with the data-protection key ring
so that every server process can read them and nobody can forge or alter them."""

from __future__ import annotations

import json
from typing import Any

from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtectionError, DataProtector


class ProtectedMessageStore:
    """The default ``MessageStore``: messages sealed into the id itself (no server state), readable for ``lifetime``
    seconds by any server process."""

    def __init__(self, protector: DataProtector, clock: Clock, lifetime: int = 600) -> None:
        self.protector = protector
        self.clock = clock
        self.lifetime = lifetime

    async def write(self, kind: str, data: dict[str, Any]) -> str:
        """Seal ``data`` with its kind and expiry; the result is the message id."""
        envelope = {"k": kind, "exp": int(self.clock.timestamp()) + self.lifetime, "d": data}
        return await self.protector.protect(json.dumps(envelope, separators=(",", ":")).encode("utf-8"))

    async def read(self, kind: str, message_id: str | None) -> dict[str, Any] | None:
        """The message, or ``None`` when absent, forged, of another kind or expired."""
        if not message_id or len(message_id) > 16384:
            return None
        try:
            envelope = json.loads(await self.protector.unprotect(message_id))
        except (DataProtectionError, ValueError):
            return None
        if not isinstance(envelope, dict) or envelope.get("k") != kind:
            return None
        if not isinstance(envelope.get("exp"), int) or envelope["exp"] < self.clock.timestamp():
            return None
        data = envelope.get("d")
        return data if isinstance(data, dict) else None
