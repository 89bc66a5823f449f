"""Redis-backed services shared by several server processes."""

from identityserver.storage.redis.replay_cache import RedisReplayCache

__all__ = ["RedisReplayCache"]
