"""What a server process has imported, checked in a child process (whose modules are its own): a server built
from a configuration file as ``serve`` builds a worker, and optionally driven in process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.data import REFERENCE_SECRET, REFERENCE_TOML

SQLITE_MODULES = ("sqlite3", "_sqlite3", "sqlalchemy.dialects.sqlite")
POSTGRES_MODULES = ("asyncpg", "sqlalchemy.dialects.postgresql")

Groups = dict[str, tuple[str, ...]]

_BUILD = """
import json, sys
from identityserver.cli.serve import build_app, load
app = build_app(load(CONFIG), STATE, "http://127.0.0.1:5000")
"""

# a reference token issued (stored) and introspected (read back); the child fails unless it comes back active
_SERVE_TOKENS = """
from starlette.testclient import TestClient
with TestClient(app, base_url="http://127.0.0.1:5000") as client:
    response = client.post("/connect/token", data={"grant_type": "client_credentials"}, auth=("ref", SECRET))
    token = response.json()["access_token"]
    response = client.post("/connect/introspect", data={"token": token}, auth=("urn:api1", SECRET))
    if response.json()["active"] is not True:
        sys.exit(f"the reference token was not active: {response.text}")
"""

_REPORT = """
def loaded(names):
    return sorted(m for m in sys.modules if m in names or m.startswith(tuple(n + "." for n in names)))
print(json.dumps({name: loaded(names) for name, names in GROUPS.items()}))
"""


def write_config(folder: Path, database: str, extra: str = "") -> Path:
    """``database`` (a ``database_url`` line, or nothing for the embedded SQLite) with :data:`REFERENCE_TOML`."""
    config = folder / "identityserver.toml"
    config.write_text(database + "\n" + REFERENCE_TOML + extra)
    return config


def prepare(config: Path, state: Path) -> None:
    """What ``serve`` runs in a child before its workers start (migrations import every dialect Alembic knows)."""
    command = [sys.executable, "-m", "identityserver", "db", "prepare", "--config", str(config), "--state-path"]
    completed = subprocess.run([*command, str(state)], capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr


def loaded_modules(config: Path, state: Path, groups: Groups, *, serve_tokens: bool) -> dict[str, list[str]]:
    """Build the server of ``config`` in a child (and with ``serve_tokens``, issue and introspect a reference
    token there), then return, for each group, the modules of it that the child has loaded."""
    values = f"CONFIG, STATE, SECRET, GROUPS = {str(config)!r}, {str(state)!r}, {REFERENCE_SECRET!r}, {groups!r}\n"
    program = values + _BUILD + (_SERVE_TOKENS if serve_tokens else "") + _REPORT
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=state.parent, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def modules_when_built(folder: Path, database: str, groups: Groups, extra: str = "") -> dict[str, list[str]]:
    """The modules of each group a server has loaded once built (building connects to no database)."""
    return loaded_modules(write_config(folder, database, extra), folder / "state", groups, serve_tokens=False)


def modules_after_tokens(folder: Path, database: str, groups: Groups) -> dict[str, list[str]]:
    """The modules of each group a server has loaded once it has issued and introspected a reference token, on a
    database prepared first as ``serve`` prepares it."""
    config = write_config(folder, database)
    prepare(config, folder / "state")
    return loaded_modules(config, folder / "state", groups, serve_tokens=True)
