"""In-memory ``ClientStore`` (Duende ``InMemoryClientStore``)."""

from __future__ import annotations

from collections.abc import Iterable

from identityserver.models.client import Client


class InMemoryClientStore:
    def __init__(self, clients: Iterable[Client]) -> None:
        self._clients: dict[str, Client] = {}
        for client in clients:
            if client.client_id in self._clients:
                raise ValueError(f"duplicate client_id {client.client_id!r}")
            self._clients[client.client_id] = client

    async def find_client_by_id(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    async def add(self, client: Client) -> None:
        """``ClientConfigurationStore``: register a client (dynamic registration)."""
        if client.client_id in self._clients:
            raise ValueError(f"duplicate client_id {client.client_id!r}")
        self._clients[client.client_id] = client

    async def update(self, client: Client) -> None:
        """``ClientRegistrationStore``: replace a client (RFC 7592 update)."""
        if client.client_id not in self._clients:
            raise LookupError(f"no client {client.client_id!r}")
        self._clients[client.client_id] = client

    async def remove(self, client_id: str) -> None:
        """``ClientRegistrationStore``: remove a client (RFC 7592 delete)."""
        if self._clients.pop(client_id, None) is None:
            raise LookupError(f"no client {client_id!r}")

    async def get_all_clients(self) -> list[Client]:
        """``ListableClientStore``: every client, in registration order."""
        return list(self._clients.values())

    def all(self) -> list[Client]:
        return list(self._clients.values())
