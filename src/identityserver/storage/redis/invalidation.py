"""Configuration cache invalidation over Redis pub/sub: a change made through the admin command line (or any
other process) is announced on one channel, and every server process drops the cached entries at once instead
of serving them until ``options.caching`` expires them.

Messages are JSON: ``{"kind": "client", "ids": [...]}`` or ``{"kind": "all"}``. Delivery is at most once (pub/sub
keeps nothing for a subscriber that is away), so a process clears everything each time it (re)subscribes; the
cache lifetime stays the bound when Redis is down."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from identityserver._utils.extras import require_extra

if TYPE_CHECKING:
    from redis.asyncio import Redis

CHANNEL = "identityserver:configuration"
MAX_RETRY_DELAY = 60.0
logger = logging.getLogger("identityserver.storage.redis")


@dataclass(frozen=True, slots=True)
class Invalidation:
    """What changed: ``client`` with the client ids, or ``all`` (clients and resources alike)."""

    kind: str
    ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "ids": list(self.ids)})

    @classmethod
    def from_json(cls, raw: str | bytes) -> Invalidation:
        """A message that cannot be read is taken as ``all``: clearing too much only costs a reload."""
        try:
            data: Any = json.loads(raw)
            kind, ids = data["kind"], data.get("ids", [])
            if kind == "client" and isinstance(ids, list) and all(isinstance(i, str) for i in ids):
                return cls("client", tuple(ids))
        except (ValueError, TypeError, KeyError):
            pass
        return cls("all")


class RedisConfigurationInvalidation:
    """Publishes and receives ``Invalidation`` messages on ``channel``."""

    def __init__(self, client: Redis, channel: str = CHANNEL, retry_delay: float = 1.0) -> None:
        self.client = client
        self.channel = channel
        self.retry_delay = retry_delay

    @classmethod
    def from_url(cls, url: str, channel: str = CHANNEL) -> RedisConfigurationInvalidation:
        """Raises ``MissingExtraError`` when the ``redis`` package (``identityserver[redis]``) is not installed."""
        require_extra("redis")
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), channel)

    async def publish(self, invalidation: Invalidation) -> int:
        """Announce a change; returns how many processes were listening."""
        return int(await self.client.publish(self.channel, invalidation.to_json()))

    async def clients_changed(self, client_ids: Sequence[str]) -> int:
        return await self.publish(Invalidation("client", tuple(client_ids)))

    async def listen(self, apply: Callable[[Invalidation], None]) -> None:
        """Run until cancelled: pass each message to ``apply``; after every (re)subscription ``apply`` gets
        ``all``, since messages sent while this process was not subscribed are lost."""
        delay = self.retry_delay
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                apply(Invalidation("all"))
                delay = self.retry_delay
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        apply(Invalidation.from_json(message["data"]))
                await asyncio.sleep(delay)  # the subscription ended without an error: subscribe again shortly
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("configuration invalidation channel lost (%s); retrying in %s s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)  # a long outage logs a line a minute, not a second
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # the connection may already be gone
                    logger.debug("closing the invalidation subscription failed", exc_info=True)

    async def close(self) -> None:
        await self.client.aclose()
