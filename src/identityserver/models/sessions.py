"""Server-side sessions (Duende ``ServerSideSession``, ``SessionFilter``, ``SessionQuery``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ServerSideSession:
    """One signed-in user session. ``ticket`` is the protected (encrypted) session data."""

    key: str
    scheme: str
    subject_id: str
    created: datetime
    renewed: datetime
    ticket: str
    session_id: str | None = None
    display_name: str | None = None
    expires: datetime | None = None


@dataclass(slots=True)
class SessionFilter:
    """Selects sessions by subject and/or session id; at least one is required."""

    subject_id: str | None = None
    session_id: str | None = None

    def is_empty(self) -> bool:
        return not (self.subject_id or self.session_id)

    def matches(self, session: ServerSideSession) -> bool:
        if self.subject_id and session.subject_id != self.subject_id:
            return False
        return not (self.session_id and session.session_id != self.session_id)


@dataclass(slots=True)
class SessionQuery:
    """A paged query; ``results_token`` continues a previous query. Filters match by prefix, case-insensitive."""

    results_token: str | None = None
    request_page_size: int = 25
    count_requested: bool = False
    subject_id: str | None = None
    session_id: str | None = None
    display_name: str | None = None

    def page_bounds(self) -> tuple[int, int]:
        """(offset, size) of the requested page: ``results_token`` is the offset, the size 1..1000."""
        size = max(1, min(self.request_page_size, 1000))
        start = (
            int(self.results_token)
            if self.results_token and self.results_token.isascii() and self.results_token.isdigit()
            else 0
        )
        return start, size


@dataclass(slots=True)
class QueryResult:
    results: list[ServerSideSession] = field(default_factory=list)
    results_token: str | None = None
    has_prev_results: bool = False
    has_next_results: bool = False
    total_count: int | None = None
    total_pages: int | None = None
    current_page: int | None = None

    @classmethod
    def page(cls, query: SessionQuery, results: list[ServerSideSession], total: int) -> QueryResult:
        """The page at ``query.page_bounds()`` of ``total`` matching sessions."""
        start, size = query.page_bounds()
        has_next = start + size < total
        return cls(
            results=results,
            results_token=str(start + size) if has_next else None,
            has_prev_results=start > 0,
            has_next_results=has_next,
            total_count=total if query.count_requested else None,
            total_pages=math.ceil(total / size) if query.count_requested else None,
            current_page=start // size + 1 if query.count_requested else None,
        )
