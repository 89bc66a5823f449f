"""``identityserver.testing`` is the only part of the package that imports pytest, and only when imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from identityserver.testing.factory import StoreFactory

SCRIPT = """
import importlib, pathlib, sys
import identityserver
root = pathlib.Path(identityserver.__file__).parent
for path in sorted(root.rglob("*.py")):
    parts = ("identityserver", *path.relative_to(root).with_suffix("").parts)
    if parts[1] in ("testing", "__main__") or "migrations" in parts:
        continue
    importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pytest", "_pytest", "pytest_asyncio")))
import identityserver.testing.contracts
print("pytest" in sys.modules and "pytest_asyncio" in sys.modules)
"""


def test_only_identityserver_testing_imports_pytest():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    lines = result.stdout.split("\n")
    assert lines[:2] == ["[]", "True"]


async def test_a_factory_names_the_store_it_does_not_build():
    class Partial(StoreFactory):
        pass

    with pytest.raises(NotImplementedError, match="Partial does not build a persisted grant store"):
        await Partial().persisted_grant_store()
