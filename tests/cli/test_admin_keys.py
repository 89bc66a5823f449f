"""``identityserver keys list | rotate | retire``: the key manager's rules, applied to the database's keys."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from identityserver.cli.keys import describe_keys
from identityserver.options import KeyManagementOptions
from identityserver.services.key_management.key_manager import DefaultKeyManager
from identityserver.stores.in_memory.signing_keys import InMemorySigningKeyStore
from tests.cli.admin_support import as_json, backends, identityserver, migrated_database, server
from tests.support.clock import FakeClock

DAY = 86400


def states(db: tuple[str, ...]) -> dict[str, str]:
    return {k["id"]: k["state"] for k in as_json("keys", "list", *db)["keys"]}


async def published(url, tmp_path) -> set[str]:
    async with server(url, tmp_path) as (http, _):
        jwks = await http.get("/.well-known/openid-configuration/jwks")
        assert jwks.status_code == 200
        return {k["kid"] for k in jwks.json()["keys"]}


@pytest.mark.parametrize("backend", backends())
async def test_rotate_announces_a_key_and_retire_removes_one_from_signing_and_jwks(backend, tmp_path):
    with migrated_database(backend, tmp_path) as url:
        db = ("--database-url", url, "--state-path", str(tmp_path / "state"))
        assert as_json("keys", "list", *db) == {"keys": []}  # listing creates nothing
        first = as_json("keys", "rotate", *db)["created"][0]
        assert first["algorithm"] == "RS256" and first["replaces"] is None
        assert states(db) == {first["id"]: "signing"}  # the only key signs at once (a cold start)
        second = as_json("keys", "rotate", *db)["created"][0]
        assert second["replaces"] == first["id"]
        assert states(db) == {first["id"]: "signing", second["id"]: "announced"}
        assert await published(url, tmp_path) == {first["id"], second["id"]}

        unconfirmed = identityserver("keys", "retire", first["id"], *db)
        assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
        assert set(states(db)) == {first["id"], second["id"]}
        unknown = identityserver("keys", "retire", "NOSUCHKID", "--yes", *db)
        assert unknown.returncode == 1 and "no signing key 'NOSUCHKID'" in unknown.stderr
        bad_alg = identityserver("keys", "rotate", "--algorithm", "ES256", *db)
        assert bad_alg.returncode == 2 and "signing_algorithms" in bad_alg.stderr

        retired = as_json("keys", "retire", first["id"], "--yes", *db)
        assert retired["signing"] == [{"id": second["id"], "algorithm": "RS256"}]
        assert states(db) == {second["id"]: "signing"}
        assert await published(url, tmp_path) == {second["id"]}


@pytest.mark.parametrize("backend", backends())
def test_a_node_that_cannot_read_the_keys_neither_rotates_nor_starts(backend, tmp_path):
    """security.md F6: under another ``application_name`` the deployment's keys are unreadable; ``keys rotate``
    and ``serve`` refuse rather than create a key that the other nodes would never publish."""
    with migrated_database(backend, tmp_path) as url:
        db = ("--database-url", url, "--state-path", str(tmp_path / "state"))
        kid = as_json("keys", "rotate", *db)["created"][0]["id"]
        other = tmp_path / "other.toml"
        other.write_text(f'database_url = "{url}"\n[options.data_protection]\napplication_name = "other-app"\n')
        assert states((*db, "--config", str(other))) == {kid: "unreadable"}
        rotate = identityserver("keys", "rotate", "--config", str(other), *db)
        assert rotate.returncode == 1
        assert f"cannot read ({kid})" in rotate.stderr and "identityserver keys retire" in rotate.stderr
        serve = subprocess.run(
            [sys.executable, "-m", "identityserver", "serve", "--config", str(other), *db[2:], "--port", "0"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert serve.returncode != 0
        assert f"cannot read ({kid})" in serve.stderr
        assert "Traceback" not in serve.stderr
        assert states(db) == {kid: "signing"}  # nothing created; the right name still reads the key


async def test_states_follow_the_key_manager_lifecycle():
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    options = KeyManagementOptions(
        propagation_time=10 * DAY, rotation_interval=90 * DAY, retention_duration=10 * DAY, delete_retired_keys=False
    )
    manager = DefaultKeyManager(options, InMemorySigningKeyStore(), None, clock)
    start = clock.utc_now()
    ages = {"retired": 101, "expired": 95, "signing": 60, "announced": 5}
    ids = {}
    for state, days in ages.items():
        key = await manager.create_and_store_new_key("RS256", start - timedelta(days=days))
        ids[key.id] = state
    listed = await describe_keys(manager, start)
    assert {k["id"]: k["state"] for k in listed} == ids
    signing = next(k for k in listed if k["state"] == "signing")
    assert signing["expires"] == (start + timedelta(days=30)).isoformat()
