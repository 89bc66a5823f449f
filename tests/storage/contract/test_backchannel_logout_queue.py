"""BackChannelLogoutQueue behaviour (``identityserver.testing.contracts.backchannel_logout_queue``: due deliveries
claimed once, leased, retried, completed) in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from identityserver.testing.contracts import BackChannelLogoutQueueContract


class TestBackChannelLogoutQueue(BackChannelLogoutQueueContract):
    pass
