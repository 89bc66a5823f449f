"""Wiring of the Redis configuration invalidation channel (``storage.redis.invalidation``): every server
process listens in the background and drops the cached clients and resources another process announces."""

from __future__ import annotations

from identityserver.configuration.builder import IdentityServerBuilder


def add_redis_invalidation(builder: IdentityServerBuilder, url: str) -> None:
    from identityserver.storage.redis.invalidation import Invalidation, RedisConfigurationInvalidation
    from identityserver.stores.caching import clear_cached_configuration, forget_cached_clients

    channel = RedisConfigurationInvalidation.from_url(url)

    def apply(invalidation: Invalidation) -> None:
        if invalidation.kind == "client":
            forget_cached_clients(invalidation.ids)
        else:
            clear_cached_configuration()

    async def listen() -> None:
        await channel.listen(apply)

    builder.add_background_job(listen)
    builder.on_shutdown(channel.close)
