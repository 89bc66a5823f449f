"""Architecture rules of design.md §3.1-§3.7, checked on the source tree (issue 2 "Shape"):

- Starlette only in ``hosting/`` and ``ui/``; SQLAlchemy and Alembic only in ``storage/sqlalchemy/``; httpx never in
  ``models/``, ``validation/`` or ``endpoints/``;
- the packages form ordered layers (``LAYERS``): a module imports only from its own layer and the layers below
  (``TYPE_CHECKING`` imports count too, unless they name only Protocols), and the package graph is acyclic;
- ``import identityserver.resource_server`` loads nothing of the server side;
- the wall clock is read only in ``clock.py``;
- no ``assert`` statement (``python -O`` removes them; narrow types with result types or an explicit ``raise``);
- no docstring read (``serve`` runs on ``python -OO``, which leaves them out: cli/interpreter.py), but by the
  generator of docs/configuration.md, which runs as its own program;
- no module is longer than 500 lines;
- ``identityserver.__all__`` is sorted and every name in it can be imported.

Each module is its own test case, so a violation names the module. Known violations are strict xfails: fixing one
makes its xfail pass, which fails the run until the entry is removed from ``KNOWN_VIOLATIONS``."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "identityserver"
MAX_LINES = 500

#: (rule, module) -> the bug and the fix proposed for it.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    runtime_imports: list[str] = field(default_factory=list)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, tree: ast.Module) -> list[str]:
    """Absolute names of everything imported at run time (relative imports resolved, ``TYPE_CHECKING`` skipped)."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # one entry per imported name: ``from a.b import c`` is ``a.b.c`` (a module or a member of ``a.b``)
            source = node.module or ""
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, source] if source else base)
            found.extend(f"{source}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _load_modules() -> list[Module]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = _module_name(path)
        tree = ast.parse(text, filename=str(path))
        module = Module(name, path, tree, len(text.splitlines()))
        module.runtime_imports = _imports(name, path, tree)
        modules.append(module)
    return modules


MODULES = _load_modules()


def _cases(rule: str) -> list[object]:
    cases: list[object] = []
    for module in MODULES:
        reason = KNOWN_VIOLATIONS.get((rule, module.name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(module, id=module.name, marks=marks))
    return cases


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_source_tree_is_found():
    names = {m.name for m in MODULES}
    assert {"identityserver", "identityserver.clock", "identityserver.constants"} <= names
    assert len(MODULES) > 50


@pytest.mark.parametrize("module", _cases("starlette"))
def test_starlette_is_imported_only_in_hosting_and_ui(module):
    # The one documented exception: the Starlette/FastAPI dependency for APIs (docs/resource-server.md)
    if _within(module.name, "identityserver.hosting", "identityserver.ui", "identityserver.resource_server.starlette"):
        return
    assert not [i for i in module.runtime_imports if _top(i) == "starlette"]


@pytest.mark.parametrize("module", _cases("sqlalchemy"))
def test_sqlalchemy_and_alembic_are_imported_only_in_storage_sqlalchemy(module):
    if _within(module.name, "identityserver.storage.sqlalchemy"):
        return
    assert not [i for i in module.runtime_imports if _top(i) in ("sqlalchemy", "alembic")]


@pytest.mark.parametrize("module", _cases("httpx"))
def test_httpx_is_not_imported_by_models_validation_or_endpoints(module):
    if not _within(module.name, "identityserver.models", "identityserver.validation", "identityserver.endpoints"):
        return
    assert not [i for i in module.runtime_imports if _top(i) == "httpx"]


#: The layers, bottom to top (design.md §3.1a). A package imports only from its own layer and the layers below;
#: ``resource_server`` and ``client`` (what API and client projects install this for) sit beside validation and
#: may use only the DPoP proof checks from it (see ``test_resource_server_import_stays_small``).
LAYERS: list[tuple[str, ...]] = [
    ("clock", "constants", "options", "operational_options", "_utils", "telemetry"),
    ("crypto",),
    ("models", "events"),
    ("http",),
    ("stores",),
    ("services",),
    ("validation",),
    ("resource_server", "client"),
    ("response_handling",),
    ("endpoints", "registration"),
    ("hosting",),
    ("ui",),
    ("storage",),
    ("testing",),
    ("configuration",),
    ("cli",),
    ("", "__main__"),
]
_RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _package_of(name: str) -> str:
    """The first component below ``identityserver`` ("" for the package itself)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _all_imports(module: Module) -> list[str]:
    """Run-time imports plus ``TYPE_CHECKING`` imports, except those that only name Protocols."""
    found = list(module.runtime_imports)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    if not statement.module.endswith(".protocols"):
                        found.extend(f"{statement.module}.{a.name}" for a in statement.names)
                elif isinstance(statement, ast.Import):
                    found.extend(a.name for a in statement.names)
    return found


def _own_imports(module: Module) -> set[str]:
    """The packages of this project that ``module`` imports (its own package excluded)."""
    own = _package_of(module.name)
    return {
        _package_of(name)
        for name in _all_imports(module)
        if _top(name) == "identityserver" and name != "identityserver" and _package_of(name) != own
    }


def test_every_package_has_a_layer():
    assert sorted({_package_of(m.name) for m in MODULES} - set(_RANK)) == []


@pytest.mark.parametrize("module", _cases("layers"))
def test_module_imports_only_its_layer_and_below(module):
    rank = _RANK[_package_of(module.name)]
    upward = sorted(p for p in _own_imports(module) if _RANK.get(p, len(LAYERS)) > rank)
    assert upward == [], f"{module.name} (layer {rank}) imports upward: {upward}"


def test_package_graph_is_acyclic():
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        graph.setdefault(_package_of(module.name), set()).update(_own_imports(module))
    visiting: list[str] = []
    done: set[str] = set()

    def visit(package: str) -> None:
        assert package not in visiting, f"import cycle: {' -> '.join([*visiting, package])}"
        if package in done:
            return
        visiting.append(package)
        for target in sorted(graph.get(package, ())):
            visit(target)
        visiting.pop()
        done.add(package)

    for package in sorted(graph):
        visit(package)


def test_resource_server_and_client_use_only_the_dpop_checks_from_validation():
    for module in MODULES:
        if _package_of(module.name) in ("resource_server", "client"):
            from_validation = {
                n for n in _all_imports(module) if _top(n) == "identityserver" and _package_of(n) == "validation"
            }
            assert {n.rsplit(".", 1)[0] for n in from_validation} <= {"identityserver.validation.dpop"}, module.name


def test_resource_server_import_stays_small():
    """What API projects install this for loads nothing of the server side, SQLAlchemy or argon2."""
    script = "import sys, identityserver.resource_server, identityserver.client\nprint('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    forbidden = ("configuration", "storage", "services", "ui", "hosting", "endpoints", "response_handling")
    ours = [m for m in loaded if m.startswith("identityserver")]
    assert [m for m in ours if _package_of(m) in forbidden] == []
    assert [m for m in loaded if _top(m) in ("sqlalchemy", "alembic", "argon2", "jinja2")] == []
    assert len(ours) <= 36, ours  # small modules: options in two, the sign-in models the protocols name, JSON depth


def test_module_size_budget():
    sizes = sorted(m.lines for m in MODULES if "migrations" not in m.name.split("."))
    assert sizes[len(sizes) // 2] <= 150


_CLOCK_ATTRIBUTES = {"datetime": {"now", "utcnow", "today"}, "date": {"today"}, "time": {"time", "time_ns"}}


def _wall_clock_reads(tree: ast.Module) -> list[str]:
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else ""
            if isinstance(owner, ast.Attribute):
                owner_name = owner.attr
            if node.attr in _CLOCK_ATTRIBUTES.get(owner_name, set()):
                reads.append(f"{owner_name}.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            reads.extend(f"from time import {a.name}" for a in node.names if a.name in ("time", "time_ns"))
    return reads


def test_import_collector_resolves_relative_imports_and_skips_type_checking():
    source = (
        "from typing import TYPE_CHECKING\nfrom . import sibling\nfrom ..other import thing\n"
        "import starlette.requests\nif TYPE_CHECKING:\n    import httpx\nelse:\n    import json\n"
    )
    names = _imports("identityserver.pkg.mod", Path("mod.py"), ast.parse(source))
    assert {"identityserver.pkg.sibling", "identityserver.other.thing", "starlette.requests", "json"} <= set(names)
    assert "httpx" not in names


def test_wall_clock_detector_finds_each_form():
    source = (
        "import time, datetime as dt\nfrom datetime import date, datetime\nfrom time import time_ns\n"
        "a = datetime.now()\nb = datetime.utcnow()\nc = date.today()\nd = time.time()\ne = dt.datetime.now\n"
    )
    assert len(_wall_clock_reads(ast.parse(source))) == 6
    assert _wall_clock_reads(ast.parse("x = datetime.fromtimestamp(0)\ny = clock.utc_now()\n")) == []


@pytest.mark.parametrize("module", _cases("wall-clock"))
def test_wall_clock_is_read_only_in_the_clock_module(module):
    if module.name == "identityserver.clock":
        return
    assert _wall_clock_reads(module.tree) == []


def _asserts(tree: ast.Module) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]


def test_assert_detector_finds_nested_asserts():
    source = "assert a\ndef f():\n    if x:\n        assert y, 'm'\nclass C:\n    def g(self):\n        assert z\n"
    assert _asserts(ast.parse(source)) == [1, 4, 7]
    assert _asserts(ast.parse("x = 'assert y'\n# assert z\n")) == []


@pytest.mark.parametrize("module", _cases("assert"))
def test_module_has_no_assert_statement(module):
    if _within(module.name, "identityserver.testing"):
        return  # the shipped store contract suite: pytest assertions are its point
    assert _asserts(module.tree) == []


DOCSTRING_READERS = {"identityserver.configuration.reference"}
"""``python -m identityserver.configuration.reference`` writes docs/configuration.md from the options' docstrings."""


def _docstring_reads(tree: ast.Module) -> list[int]:
    """Lines that read a docstring: ``x.__doc__``, or ``inspect.getdoc`` / ``inspect.cleandoc``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name, loads = node.attr, isinstance(node.ctx, ast.Load)
        elif isinstance(node, ast.Name):
            name, loads = node.id, isinstance(node.ctx, ast.Load)
        else:
            continue
        if (name == "__doc__" and loads) or name in ("getdoc", "cleandoc"):
            found.append(node.lineno)
    return found


def test_docstring_read_detector():
    source = "a = f.__doc__\nfrom inspect import getdoc\ng = getdoc\nC.__doc__ = 'set'\nx = '__doc__'\n"
    assert _docstring_reads(ast.parse(source)) == [1, 3]
    assert _docstring_reads(ast.parse("import inspect\ninspect.cleandoc(t)\n")) == [2]


@pytest.mark.parametrize("module", _cases("docstring"))
def test_module_reads_no_docstring(module):
    if module.name in DOCSTRING_READERS:
        assert _docstring_reads(module.tree) != []  # the exception is still needed
        return
    assert _docstring_reads(module.tree) == []


@pytest.mark.parametrize("module", _cases("size"))
def test_module_is_at_most_500_lines(module):
    assert module.lines <= MAX_LINES


def test_public_api_all_is_sorted_unique_and_importable():
    import identityserver

    names = identityserver.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(identityserver, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from identityserver import *", namespace)  # the star import is what is being tested
    assert set(names) <= set(namespace)


def test_every_module_imports_cleanly():
    failures = []
    for module in MODULES:
        if module.path.name == "__main__.py" or "migrations" in module.name.split("."):
            continue  # these run the command line or Alembic when imported
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # report every broken module at once
            failures.append(f"{module.name}: {type(exc).__name__}: {exc}")
    assert failures == []
