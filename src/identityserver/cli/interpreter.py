"""``identityserver serve`` runs on ``python -OO``: the server's processes leave docstrings out of the code they load.

Docstrings are about 3 MiB of a worker's resident memory (the 800 modules a worker imports), a worker's memory is
what bounds how many fit on a host (issue 15: at most 80 MiB each), and nothing in the server reads them. The other
half of ``-OO``, skipping ``assert`` statements, changes nothing in the server's own code, which has none
(tests/test_architecture.py); its libraries use them to check their own invariants. The command line re-executes
itself once, before it parses its arguments, with the same interpreter, options and arguments plus ``-OO``; uvicorn
starts its worker processes with the interpreter's options, so they run optimized too. An operator who sets
``PYTHONOPTIMIZE`` (``0`` included) keeps the interpreter as started. docs/operations.md, "Worker memory".
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import NoReturn

OPTIMIZE_ENV = "PYTHONOPTIMIZE"
OPTIMIZED_COMMANDS = frozenset({"serve"})
"""Long-running commands; a short one (``db upgrade``, ``keys list``) would pay the re-execution for nothing."""


def interpreter_options() -> list[str]:
    """The running interpreter's command-line options (``-X``, ``-W``, ``-I``, ...) but its ``-O`` level."""
    # multiprocessing's spawn start method builds its children's command lines with this same function
    options: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    return [option for option in options if option.lstrip("-").strip("O") != ""]


def optimized_command(
    arguments: Sequence[str],
    *,
    executable: str,
    optimize: int,
    environ: Mapping[str, str],
    main_module: ModuleType | None,
    options: Sequence[str],
    platform: str = os.name,
) -> list[str] | None:
    """The command line that runs ``arguments`` (``sys.argv``) again under ``-OO``; ``None`` to run on as it is."""
    if platform != "posix" or not executable or optimize >= 2 or OPTIMIZE_ENV in environ:
        return None  # Windows' execv starts a second process beside the first; an operator's choice stands
    if len(arguments) < 2 or arguments[1] not in OPTIMIZED_COMMANDS:
        return None
    spec = getattr(main_module, "__spec__", None)
    if spec is not None:  # python -m identityserver: the package again, with the current directory first on the path
        target = ["-m", spec.name.removesuffix(".__main__")]
    elif os.path.isfile(arguments[0]):  # the console script: the same script, with its own folder on the path
        target = [arguments[0]]
    else:
        return None
    return [executable, *options, "-OO", *target, *arguments[1:]]


def reexecute_optimized(execute: Callable[[str, list[str]], NoReturn] = os.execv) -> None:
    """Replace this process with the same command under ``-OO`` where :func:`optimized_command` gives one."""
    command = optimized_command(
        sys.argv,
        executable=sys.executable,
        optimize=sys.flags.optimize,
        environ=os.environ,
        main_module=sys.modules.get("__main__"),
        options=interpreter_options(),
    )
    if command is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        execute(command[0], command)
    except OSError:
        return  # the interpreter cannot be executed again (a sandbox, a deleted venv): serve as started
