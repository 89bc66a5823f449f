"""security.md M11: a rolling upgrade, with one node on the previous version of the package and one on this one,
on one database (and one Redis in the Redis variant). Every step of ``test_flows.py`` alternates between them, so
each version reads what the other wrote: codes, refresh tokens and their rotation, consents, reference tokens,
DPoP nonces, server-side sessions, back-channel logouts and the signing keys.

``PREVIOUS`` is a commit of this repository, taken with ``git archive`` (the test fails where the history lacks
it, never skips). Move it to the newest landed version when a release is made; a version whose database revision
differs cannot share the database and is upgraded with ``identityserver db upgrade`` first (docs/operations.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.scale_out.test_flows import alternate_every_step

PREVIOUS = "d7506cfc73389ef3d24d7b81c8f295f7a9b79986"
"""The version that landed before the synchronized clock (2026-12-07), whose nodes each keep their host's time."""
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def previous_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous version's ``src`` folder, for a node's ``PYTHONPATH``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PREVIOUS, "src"], capture_output=True, check=True, timeout=60
    )
    folder = tmp_path_factory.mktemp("previous")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True, timeout=60)
    source = folder / "src"
    # it is the older version: it has no synchronized clock
    assert "class SynchronizedClock" not in (source / "identityserver" / "clock.py").read_text()
    return source


@pytest.mark.parametrize("previous_node", [0, 1], ids=["previous-first", "previous-second"])
async def test_every_flow_alternates_between_the_previous_version_and_this_one(
    database_url, redis_url, tmp_path, previous_source, previous_node
):
    environments: list[dict[str, str]] = [{}, {}]
    environments[previous_node] = {"PYTHONPATH": str(previous_source)}
    await alternate_every_step(database_url, redis_url, "nodes", tmp_path, environments=environments)
    for name in "AB":  # neither version failed on what the other wrote
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text(), name
