"""What the admin commands print: one JSON document on stdout with ``--json``, plain text otherwise; errors on
stderr; progress on stderr (a bar on a terminal, one plain line per step otherwise)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILED = 1
"""The operation failed, or an id was not found: nothing was changed."""
EXIT_USAGE = 2
"""Malformed arguments or configuration (argparse uses the same code)."""


class CommandError(Exception):
    """A failure to report on stderr with ``exit_code`` (nothing was changed)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_FAILED) -> int:
    print(f"identityserver: {message}", file=sys.stderr)
    return exit_code


class Output:
    """Collects a command's result: ``emit`` prints it once, as JSON or as the given text lines."""

    def __init__(self, as_json: bool, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout

    def emit(self, document: Any, lines: Iterable[str] = ()) -> None:
        if self.as_json:
            json.dump(document, self.stream, indent=2, default=str)
            self.stream.write("\n")
        else:
            for line in lines:
                self.stream.write(line + "\n")
        self.stream.flush()


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> list[str]:
    """Rows as aligned text columns under ``headers``."""
    cells = [[str(h) for h in headers], *[["-" if c is None or c == "" else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]


class Progress:
    """Reports long work. On a terminal a bar (or a running count when the total is unknown) redrawn in place;
    otherwise one plain line per step, e.g. ``removed 1000 grants...``, so that logs show it."""

    def __init__(self, verb: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._drawn = False

    def advance(self, count: int, unit: str) -> None:
        self.done += count
        if not self.interactive:
            self.stream.write(f"{self.verb} {count} {unit}...\n")
        elif self.total:
            width = 30
            filled = min(width, width * self.done // self.total)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r{self.verb} [{bar}] {self.done}/{self.total} {unit}")
            self._drawn = True
        else:
            self.stream.write(f"\r{self.verb} {self.done} {unit}...")
            self._drawn = True
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


_CLEANUP_UNITS = {"PersistedGrants": "grants", "DeviceCodes": "device codes"}


def reporting_token_cleanup(database: Any, options: Any, clock: Any) -> Any:
    """``SqlTokenCleanupService`` that reports each batch it removes (``removed 1000 grants...``)."""
    from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService

    progress = Progress("removed")

    class ReportingTokenCleanup(SqlTokenCleanupService):
        async def cleanup_grants(self) -> None:
            try:
                await super().cleanup_grants()
            finally:
                progress.finish()

        async def on_batch_removed(self, table_name: str, count: int) -> None:
            await super().on_batch_removed(table_name, count)
            if count:
                progress.advance(count, _CLEANUP_UNITS.get(table_name, f"{table_name} rows"))

    return ReportingTokenCleanup(database, options, clock)


class EntryProgress:
    """Progress through a known number of entries: a bar on a terminal, otherwise a line per 100 entries and one
    at the end (``imported 300/1250 entries...``)."""

    EVERY = 100

    def __init__(self, verb: str, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.stream = stream or sys.stderr
        self._bar: Progress | None = None

    def written(self, done: int, total: int) -> None:
        if self.stream.isatty():
            if self._bar is None:
                self._bar = Progress(self.verb, total, self.stream)
            self._bar.advance(done - self._bar.done, "entries")
        elif done % self.EVERY == 0 or done == total:
            self.stream.write(f"{self.verb} {done}/{total} entries...\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.finish()


class RevisionProgress:
    """One line per migration revision applied (``applied revision 0004``): there are few, each may be long."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def applied(self, revision: str) -> None:
        self.stream.write(f"applied revision {revision}\n")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.flush()
