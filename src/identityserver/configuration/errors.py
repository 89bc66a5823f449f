"""The error a configuration problem raises, naming the file, the entry and the field."""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration is invalid; the message names file, entry and field."""


class Where:
    """Where in the file a value came from: ``source`` (the file) and ``entry`` (``[options.x]``, a client)."""

    def __init__(self, source: str, entry: str) -> None:
        self.source = source
        self.entry = entry

    def error(self, name: str | None, problem: str) -> ConfigError:
        where = f"{self.source}: {self.entry}"
        return ConfigError(f'{where}: field "{name}": {problem}' if name else f"{where}: {problem}")
