"""Scale-out tests run only when the PostgreSQL of CI step 2 is named (IDENTITYSERVER_TEST_DATABASE_URL); each
test gets a database of its own, dropped afterwards. The Redis variants need IDENTITYSERVER_TEST_REDIS_URL too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.scale_out.cluster import PG_ENV, REDIS_ENV

if not os.environ.get(PG_ENV):
    collect_ignore_glob = ["test_*.py"]


def variants() -> list[Any]:
    """PostgreSQL alone, and PostgreSQL with Redis when a Redis is named."""
    params: list[Any] = [pytest.param(None, marks=pytest.mark.postgres, id="postgres")]
    if os.environ.get(REDIS_ENV):
        params.append(
            pytest.param(os.environ[REDIS_ENV], marks=[pytest.mark.postgres, pytest.mark.redis], id="postgres+redis")
        )
    return params


@pytest.fixture
def database_url() -> Iterator[str]:
    from tests.storage.conftest import fresh_pg_database

    with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=variants())
def redis_url(request: pytest.FixtureRequest) -> str | None:
    value: str | None = request.param
    return value


@pytest.fixture(params=["nodes", "workers"], ids=["two-nodes", "one-node-two-workers"])
def topology(request: pytest.FixtureRequest) -> str:
    """Two ``serve`` processes, or one ``serve --workers 2`` on one host (the same sharing inside one host)."""
    value: str = request.param
    return value
