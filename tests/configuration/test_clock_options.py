"""``[options.clock]``: read from the file, checked at load, and a PostgreSQL deployment's processes hold their
clock to the database server's unless told not to (docs/scaling.md, "Clocks")."""

from __future__ import annotations

from pathlib import Path

import pytest

from identityserver.clock import SynchronizedClock, SystemClock
from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import ConfigError
from tests.support.data import load_file_text

POSTGRES = "postgresql://postgres@127.0.0.1:5432/unused"  # the builder connects to nothing


def test_the_clock_options_are_read_and_given_to_the_synchronized_clock(tmp_path: Path) -> None:
    config = load_file_text(
        tmp_path,
        f'database_url = "{POSTGRES}"\n[options.clock]\ntolerance = 0.25\nsynchronization_interval = 30\n',
    )
    clock = create_builder(config, tmp_path).clock
    assert isinstance(clock, SynchronizedClock)
    assert (clock.tolerance, clock.interval) == (0.25, 30)


def test_defaults_hold_a_postgresql_deployment_to_the_database_clock(tmp_path: Path) -> None:
    clock = create_builder(load_file_text(tmp_path, f'database_url = "{POSTGRES}"\n'), tmp_path).clock
    assert isinstance(clock, SynchronizedClock)
    assert (clock.tolerance, clock.interval) == (0.5, 10.0)


@pytest.mark.parametrize(
    "text",
    [
        f'database_url = "{POSTGRES}"\n[options.clock]\nfollow_database = false\n',
        "",  # SQLite: the database runs on this host, on its clock
        'database_url = "sqlite:///{tmp}/server.db"\n',
    ],
    ids=["postgres-not-following", "state-folder-sqlite", "sqlite-file"],
)
def test_the_host_clock_otherwise(tmp_path: Path, text: str) -> None:
    config = load_file_text(tmp_path, text.replace("{tmp}", str(tmp_path)))
    assert isinstance(create_builder(config, tmp_path).clock, SystemClock)


@pytest.mark.parametrize(
    ("field", "value"),
    [("tolerance", "0"), ("tolerance", "0.6"), ("synchronization_interval", "0"), ("synchronization_interval", "7200")],
)
def test_out_of_range_values_stop_loading_naming_the_field(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_file_text(tmp_path, f"[options.clock]\n{field} = {value}\n")
    assert field in str(info.value) and "[options.clock]" in str(info.value)


def test_the_clock_is_synchronized_first_at_start_up_and_then_in_the_background(tmp_path: Path) -> None:
    services = create_builder(load_file_text(tmp_path, f'database_url = "{POSTGRES}"\n'), tmp_path).build()
    clock = services.clock
    assert isinstance(clock, SynchronizedClock)
    # before the key ring and the signing keys, which date what they create by it
    assert services.startup[0] == clock.start
    assert services.startup[1] == services.data_protection.initialize
    assert clock.run in services.background


def test_a_sqlite_deployment_has_no_clock_steps(tmp_path: Path) -> None:
    services = create_builder(load_file_text(tmp_path, ""), tmp_path).build()
    assert isinstance(services.clock, SystemClock)
    assert services.startup[0] == services.data_protection.initialize
    assert not any(getattr(job, "__self__", None) is services.clock for job in services.background)
