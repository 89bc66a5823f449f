"""The Redis check of ``/health/ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from identityserver.hosting.health import describe_error

if TYPE_CHECKING:  # redis is an extra (identityserver[redis]); the replay cache checks it is installed
    from redis.asyncio import Redis


class RedisHealthCheck:
    """Ready when Redis answers ``PING``."""

    name = "redis"

    def __init__(self, client: Redis) -> None:
        self.client = client

    async def check(self) -> str | None:
        try:
            await self.client.ping()
        except Exception as error:
            return "unreachable: " + describe_error(error)
        return None
