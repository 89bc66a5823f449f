"""Redis ``ReplayCache`` (Duende ``DefaultReplayCache`` over ``IDistributedCache``; RFC 9449 §11.1): one atomic
``SET key 1 NX PX lifetime`` per value, so a ``jti`` is accepted once across every process sharing Redis."""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

from identityserver._utils.extras import require_extra

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisReplayCache:
    """Keys are ``<prefix><sha256(purpose, handle)>``; Redis expires them itself."""

    def __init__(self, client: Redis, prefix: str = "identityserver:replay:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "identityserver:replay:") -> RedisReplayCache:
        """Raises ``MissingExtraError`` when the ``redis`` package (``identityserver[redis]``) is not installed."""
        require_extra("redis")
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), prefix)

    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        digest = hashlib.sha256(f"{purpose}\x00{handle}".encode("utf-8", "surrogatepass")).hexdigest()
        milliseconds = max(1, math.ceil(lifetime_seconds * 1000))
        return bool(await self.client.set(self.prefix + digest, b"1", nx=True, px=milliseconds))

    async def close(self) -> None:
        await self.client.aclose()
