"""``asyncpg`` and ``redis`` are extras (``identityserver[postgres]``, ``identityserver[redis]``): the embedded
SQLite default loads neither, and a configuration that needs one that is missing stops start-up naming the extra.
A missing package is simulated in a child process by a meta-path finder that refuses to find it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HIDE = textwrap.dedent(
    """
    import sys

    class Hide:
        def __init__(self, names):
            self.names = names

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide(HIDDEN))
    """
)


def run_python(code: str, *, hidden: tuple[str, ...] = (), cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    program = HIDE.replace("HIDDEN", repr(set(hidden))) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )


def test_the_host_and_the_demo_server_load_neither_asyncpg_nor_redis(tmp_path: Path) -> None:
    completed = run_python(
        f"""
        import json
        import identityserver.configuration.host
        loaded_by_import = sorted(m for m in sys.modules if m.split(".")[0] in ("asyncpg", "redis"))
        from identityserver.cli.serve import build_app
        from identityserver.configuration.demo import demo_configuration
        build_app(demo_configuration(), {str(tmp_path)!r}, "http://127.0.0.1:5000")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("asyncpg", "redis"))
        print(json.dumps([loaded_by_import, loaded, "identityserver.ui" in sys.modules]))
        """
    )
    assert completed.returncode == 0, completed.stderr
    loaded_by_import, loaded, ui_loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert ui_loaded  # the check ran on a fully built server
    assert loaded_by_import == []
    assert loaded == []


def test_the_demo_server_builds_when_asyncpg_and_redis_are_not_installed(tmp_path: Path) -> None:
    completed = run_python(
        f"""
        from identityserver.cli.serve import build_app
        from identityserver.configuration.demo import demo_configuration
        build_app(demo_configuration(), {str(tmp_path)!r}, "http://127.0.0.1:5000")
        print("built")
        """,
        hidden=("asyncpg", "redis"),
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "built"


@pytest.mark.parametrize(
    ("setting", "hidden", "extra"),
    [
        ('database_url = "postgresql://postgres@127.0.0.1:5432/test"', "asyncpg", "postgres"),
        ('database_url = "postgres://postgres@127.0.0.1:5432/test"', "asyncpg", "postgres"),
        ('redis_url = "redis://127.0.0.1:6379/0"', "redis", "redis"),
    ],
)
def test_serve_stops_naming_the_extra_to_install(tmp_path: Path, setting: str, hidden: str, extra: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(setting + "\n", encoding="utf-8")
    completed = run_python(
        f"""
        from identityserver.cli import main
        sys.exit(main(["serve", "--config", {str(config)!r}, "--state-path", {str(tmp_path / "state")!r}]))
        """,
        hidden=(hidden,),
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"install identityserver[{extra}]" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "issuer" not in completed.stdout  # stopped before anything else


@pytest.mark.parametrize(
    "command",
    [
        ["db", "upgrade", "--database-url", "postgresql://postgres@127.0.0.1:5432/test"],
        ["keyring", "rewrap", "--database-url", "postgresql://postgres@127.0.0.1:5432/test"],
    ],
)
def test_commands_stop_naming_the_extra_to_install(command: list[str]) -> None:
    completed = run_python(f"from identityserver.cli import main\nsys.exit(main({command!r}))", hidden=("asyncpg",))
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "install identityserver[postgres]" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("code", "hidden", "extra"),
    [
        (
            """
            from identityserver.storage.sqlalchemy.engine import Database
            Database("postgresql://postgres@127.0.0.1:5432/test")
            """,
            "asyncpg",
            "postgres",
        ),
        (
            """
            from identityserver.configuration.host import create_builder
            from identityserver.configuration.loader import parse_configuration
            create_builder(parse_configuration({{"database_url": "postgresql://u@127.0.0.1/db"}}), {state!r})
            """,
            "asyncpg",
            "postgres",
        ),
        (
            """
            from identityserver.configuration.host import create_builder
            from identityserver.configuration.loader import parse_configuration
            create_builder(parse_configuration({{"redis_url": "redis://127.0.0.1:6379/0"}}), {state!r})
            """,
            "redis",
            "redis",
        ),
    ],
)
def test_building_stores_without_the_extra_raises_a_clear_error(
    tmp_path: Path, code: str, hidden: str, extra: str
) -> None:
    wrapped = textwrap.indent(textwrap.dedent(code.format(state=str(tmp_path))), "    ")
    completed = run_python(
        "from identityserver._utils.extras import MissingExtraError\n"
        "try:\n" + wrapped + "\nexcept MissingExtraError as exc:\n    print(exc)\n    sys.exit(3)\n",
        hidden=(hidden,),
    )
    assert completed.returncode == 3, completed.stdout + completed.stderr
    assert f"install identityserver[{extra}]" in completed.stdout


def test_the_extras_are_declared_and_dev_keeps_both() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [d.split(">")[0].split("[")[0] for d in project["dependencies"]]
    assert "asyncpg" not in names
    assert "redis" not in names
    extras = project["optional-dependencies"]
    assert [d.split(">")[0] for d in extras["postgres"]] == ["asyncpg"]
    assert [d.split(">")[0] for d in extras["redis"]] == ["redis"]
    dev = [d.split(">")[0] for d in extras["dev"]]
    assert "asyncpg" in dev
    assert "redis" in dev
