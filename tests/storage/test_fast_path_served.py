"""The stored-grant fast path in a served process (issue 15): reference tokens issued concurrently by two
worker processes sharing one SQLite file (group commits in each, lock waits across them) all introspect as
active over real HTTP; ``serve --loop`` picks the event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.data import REFERENCE_TOML
from tests.support.process import serve
from tests.support.reference_tokens import is_active, issue


async def issue_and_introspect(base: str, count: int) -> tuple[list[str], list[bool]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        discovery = (await client.get("/.well-known/openid-configuration")).json()
        tokens = await asyncio.gather(*(issue(client, discovery["token_endpoint"]) for _ in range(count)))
        introspection = discovery["introspection_endpoint"]
        return list(tokens), list(await asyncio.gather(*(is_active(client, t, introspection) for t in tokens)))


@pytest.mark.parametrize("extra", [["--workers", "2"], ["--loop", "uvloop"]], ids=["two-workers", "uvloop"])
def test_concurrent_reference_tokens_are_all_stored_and_introspect_active(tmp_path: Path, extra: list[str]) -> None:
    config = tmp_path / "identityserver.toml"
    config.write_text(REFERENCE_TOML)
    with serve(config, tmp_path / "state", extra) as base:
        tokens, active = asyncio.run(issue_and_introspect(base, 120))
    assert len(set(tokens)) == 120
    assert all(active)


def test_serve_refuses_an_unknown_event_loop(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "identityserver", "serve", "--loop", "trio"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--loop" in result.stderr and "asyncio" in result.stderr
