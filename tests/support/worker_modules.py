"""What a server process has imported, checked in a child process (whose modules are its own): a server built
from a configuration file, as ``serve`` builds a worker, then driven in process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SQLITE_MODULES = ("sqlite3", "_sqlite3", "sqlalchemy.dialects.sqlite")
POSTGRES_MODULES = ("asyncpg", "sqlalchemy.dialects.postgresql")

CONFIG = """\
{database}
[[clients]]
client_id = "reference"
client_secrets = ["reference-secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api1-secret"]
"""

LOADED = textwrap.dedent(
    """
    def loaded(names):
        return sorted(m for m in sys.modules if m in names or m.startswith(tuple(n + "." for n in names)))
    """
)


SERVE_TOKENS = """
    from starlette.testclient import TestClient
    with TestClient(app, base_url="http://127.0.0.1:5000") as client:
        response = client.post("/connect/token", data={"grant_type": "client_credentials"}, auth=REFERENCE_CLIENT)
        token = response.json()["access_token"]
        response = client.post("/connect/introspect", data={"token": token}, auth=("urn:api1", "api1-secret"))
        active = response.json()["active"]
    """.replace("REFERENCE_CLIENT", repr(("reference", "reference-secret")))
"""After ``build``: a reference token issued (stored) and introspected (read back); ``active`` says how that went."""


def run_python(*parts: str, cwd: Path) -> dict[str, list[str]]:
    """Run the parts (each dedented on its own) in a child; its last line of output is JSON."""
    program = "import json, sys\n" + LOADED + "".join(textwrap.dedent(part) for part in parts)
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def write_config(folder: Path, database: str) -> Path:
    config = folder / "identityserver.toml"
    config.write_text(CONFIG.format(database=database))
    return config


def prepare(config: Path, state: Path) -> None:
    """What ``serve`` runs in a child before its workers start (migrations import every dialect Alembic knows)."""
    command = [sys.executable, "-m", "identityserver", "db", "prepare", "--config", str(config), "--state-path"]
    completed = subprocess.run([*command, str(state)], capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr


def build(config: Path, state: Path) -> str:
    return f"""
        from identityserver.cli.serve import build_app, load
        app = build_app(load({str(config)!r}), {str(state)!r}, "http://127.0.0.1:5000")
        """
