"""``identityserver serve`` re-executes itself on ``python -OO`` (cli/interpreter.py, issue 15: RSS per worker):
the rules of when it does, and the served processes, workers included, running optimized."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import NoReturn

import pytest

from identityserver.cli import interpreter
from identityserver.cli.interpreter import optimized_command
from tests.cli.test_serve import fetch_token, serve
from tests.support.process import child_pids

SCRIPT = "/venv/bin/identityserver"


def command(
    arguments: list[str],
    *,
    optimize: int = 0,
    environ: dict[str, str] | None = None,
    main_module: types.ModuleType | None = None,
    options: list[str] | None = None,
    platform: str = "posix",
    executable: str = "/venv/bin/python",
) -> list[str] | None:
    return optimized_command(
        arguments,
        executable=executable,
        optimize=optimize,
        environ=environ or {},
        main_module=main_module,
        options=options or [],
        platform=platform,
    )


def module_run_as(name: str) -> types.ModuleType:
    """A ``__main__`` module as ``python -m name`` leaves it (its spec names the module run)."""
    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name=name)  # type: ignore[assignment]
    return main


@pytest.fixture
def console_script(tmp_path: Path) -> str:
    path = tmp_path / "identityserver"
    path.write_text("#!/bin/sh\n")
    return str(path)


def test_the_console_script_runs_again_with_its_arguments_and_options(console_script):
    arguments = [console_script, "serve", "--config", "x.toml", "--port", "5001"]
    assert command(arguments, options=["-X", "dev", "-Wdefault"]) == [
        "/venv/bin/python",
        "-X",
        "dev",
        "-Wdefault",
        "-OO",
        console_script,
        "serve",
        "--config",
        "x.toml",
        "--port",
        "5001",
    ]


def test_python_dash_m_runs_the_package_again():
    arguments = ["/src/identityserver/__main__.py", "serve", "--workers", "2"]
    assert command(arguments, main_module=module_run_as("identityserver.__main__")) == [
        "/venv/bin/python",
        "-OO",
        "-m",
        "identityserver",
        "serve",
        "--workers",
        "2",
    ]
    assert command(arguments, main_module=module_run_as("identityserver.cli")) == [
        "/venv/bin/python",
        "-OO",
        "-m",
        "identityserver.cli",
        "serve",
        "--workers",
        "2",
    ]


@pytest.mark.parametrize(
    ("arguments", "settings"),
    [
        (["SCRIPT", "serve"], {"optimize": 2}),  # already optimized: the re-executed process itself
        (["SCRIPT", "serve"], {"environ": {"PYTHONOPTIMIZE": "0"}}),  # the operator's choice
        (["SCRIPT", "serve"], {"environ": {"PYTHONOPTIMIZE": ""}}),
        (["SCRIPT", "serve"], {"platform": "nt"}),  # execv would leave a second process
        (["SCRIPT", "serve"], {"executable": ""}),  # an embedded interpreter with no executable
        (["SCRIPT", "db", "upgrade"], {}),  # short commands run as they are
        (["SCRIPT", "keys", "list"], {}),
        (["SCRIPT"], {}),
        (["SCRIPT", "--help"], {}),
        (["/no/such/script", "serve"], {}),  # python -c, or a script that is gone
    ],
)
def test_runs_on_as_it_is(console_script, arguments, settings):
    arguments = [console_script if a == "SCRIPT" else a for a in arguments]
    assert command(arguments, **settings) is None


def test_the_optimization_level_of_the_running_interpreter_is_not_repeated(monkeypatch):
    monkeypatch.setattr(
        subprocess, "_args_from_interpreter_flags", lambda: ["-O", "-OO", "-X", "dev", "-Wdefault", "-s"]
    )
    assert interpreter.interpreter_options() == ["-X", "dev", "-Wdefault", "-s"]


def test_a_failed_execution_serves_as_started(monkeypatch, console_script):
    started = types.SimpleNamespace(
        argv=[console_script, "serve"],
        executable="/venv/bin/python",
        flags=types.SimpleNamespace(optimize=0),
        modules={},
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    monkeypatch.setattr(interpreter, "sys", started)
    monkeypatch.delenv("PYTHONOPTIMIZE", raising=False)
    calls: list[list[str]] = []

    def execute(path: str, args: list[str]) -> NoReturn:
        calls.append(args)
        raise PermissionError(path)

    interpreter.reexecute_optimized(execute)
    assert calls and calls[0][-3:] == ["-OO", console_script, "serve"]


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def after_optimize(served: list[str]) -> list[str]:
    """What follows ``-OO`` up to the command, in a command line of this interpreter."""
    assert Path(served[0]).parent == Path(sys.executable).parent  # this venv's interpreter (python or python3)
    rest = served[served.index("-OO") + 1 :]
    return rest[: rest.index("serve") + 1]


def uvicorn_workers(pid: int, expected: int) -> list[int]:
    """The worker processes uvicorn spawned (multiprocessing's resource tracker aside), once ``expected`` run."""
    deadline = time.monotonic() + 30
    while True:
        workers = [child for child in child_pids(pid) if "spawn_main" in " ".join(cmdline(child))]
        if len(workers) >= expected or time.monotonic() > deadline:
            return workers
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc/<pid>/cmdline (Linux)")
def test_serve_runs_optimized_in_its_own_process_and_its_workers(tmp_path, config_file):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONOPTIMIZE"}
    with serve("--config", str(config_file), "--state-path", str(tmp_path / "s1"), env=env) as running:
        served = cmdline(running.pid)  # the same process, executed again: the pid is the one started
        assert after_optimize(served) == ["-m", "identityserver", "serve"]
        assert fetch_token(running.base_url)["token_type"] == "Bearer"
    script = shutil.which("identityserver", path=str(Path(sys.executable).parent))
    assert script is not None
    with serve(
        "--config",
        str(config_file),
        "--state-path",
        str(tmp_path / "s2"),
        "--workers",
        "2",
        program=[script],
        env=env,
    ) as running:
        assert after_optimize(cmdline(running.pid)) == [script, "serve"]
        workers = uvicorn_workers(running.pid, 2)
        assert len(workers) == 2
        assert all("-OO" in cmdline(worker) for worker in workers)  # uvicorn spawns them with the same options
        assert fetch_token(running.base_url)["token_type"] == "Bearer"


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc/<pid>/cmdline (Linux)")
def test_pythonoptimize_keeps_the_interpreter_as_started(tmp_path, config_file):
    env = {**os.environ, "PYTHONOPTIMIZE": "0"}
    with serve("--config", str(config_file), "--state-path", str(tmp_path / "s"), env=env) as running:
        assert "-OO" not in cmdline(running.pid)
        assert fetch_token(running.base_url)["token_type"] == "Bearer"
