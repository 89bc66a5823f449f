"""Maps request paths to endpoint handlers (Duende ``EndpointRouter``)."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.endpoints.base import EndpointHandler


@dataclass(slots=True, frozen=True)
class Endpoint:
    name: str
    path: str
    handler: EndpointHandler


class EndpointRouter:
    """Maps request paths to the enabled endpoints (Duende ``IEndpointRouter``)."""

    def __init__(self, endpoints: list[Endpoint]) -> None:
        self._by_path: dict[str, Endpoint] = {}
        for endpoint in endpoints:
            if endpoint.path in self._by_path:
                raise ValueError(f"two endpoints registered for {endpoint.path}")
            self._by_path[endpoint.path] = endpoint

    def find(self, path: str) -> Endpoint | None:
        """The endpoint of ``path`` (a trailing slash ignored), or ``None``."""
        endpoint = self._by_path.get(path)
        if endpoint is None and len(path) > 1 and path.endswith("/"):
            endpoint = self._by_path.get(path.rstrip("/"))
        return endpoint

    @property
    def paths(self) -> set[str]:
        return set(self._by_path)
