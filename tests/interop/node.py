"""Running the Node interoperability clients: the packages of package.json (installed on first use) and one
script per test, run with the machine's Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent


def ensure_node_modules() -> None:
    """``npm install`` unless every dependency of package.json is present."""
    wanted = json.loads((HERE / "package.json").read_text())["dependencies"]
    if all((HERE / "node_modules" / name).is_dir() for name in wanted):
        return
    npm = shutil.which("npm")
    assert npm, "npm is required for the interoperability tests"
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True, timeout=300)


def run_node(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``tests/interop/<script>`` with ``args``; the caller asserts on the return code and output."""
    ensure_node_modules()
    return subprocess.run(  # noqa: PLW1510 - the caller asserts the return code
        ["node", str(HERE / script), *args], capture_output=True, text=True, timeout=timeout, cwd=HERE
    )
