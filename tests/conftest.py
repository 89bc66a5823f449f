from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.server import Server, make_builder, running


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder()) as srv:
        yield srv
