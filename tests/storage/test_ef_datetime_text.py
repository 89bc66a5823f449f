"""EF Core's SQLite text for ``DateTime`` columns (``entities/types.py``): the exact text 6.2 rows hold, what the
SQLite processors of ``UtcDateTime`` give to SQLAlchemy and the fast path, and the order the text sorts in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect, make_url

from identityserver.storage.sqlalchemy.entities.types import UtcDateTime, format_ef_datetime, parse_ef_datetime

MOMENT = datetime(2023, 3, 1, 8, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (MOMENT, "2023-03-01 08:00:05"),
        (MOMENT.replace(microsecond=120000), "2023-03-01 08:00:05.12"),
        (MOMENT.replace(microsecond=1), "2023-03-01 08:00:05.000001"),
        (MOMENT.replace(microsecond=999999), "2023-03-01 08:00:05.999999"),
        (MOMENT.replace(tzinfo=None), "2023-03-01 08:00:05"),  # naive values are UTC, as EF writes them
        (MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30))), "2023-03-01 08:00:05"),
        (datetime(2023, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=-8))), "2023-03-01 09:00:00"),
    ],
)
def test_the_text_is_efs_and_reads_back_as_the_same_instant(value: datetime, text: str) -> None:
    assert format_ef_datetime(value) == text
    expected = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    assert parse_ef_datetime(text) == expected
    assert parse_ef_datetime(text).tzinfo is UTC


def test_the_text_sorts_as_the_instants_do() -> None:
    rng = random.Random(15)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    moments = [
        start + timedelta(seconds=rng.randrange(10**8), microseconds=rng.choice([0, 10, rng.randrange(10**6)]))
        for _ in range(2000)
    ]
    assert sorted(moments, key=format_ef_datetime) == sorted(moments)


def test_the_sqlite_processors_are_the_formatter_and_the_parser() -> None:
    dialect = sqlite.dialect()
    column = UtcDateTime().dialect_impl(dialect)
    bind, result = column.bind_processor(dialect), column.result_processor(dialect, None)
    assert bind is not None and result is not None
    assert bind(None) is None and result(None) is None
    value = MOMENT.replace(microsecond=250000)
    assert bind(value) == "2023-03-01 08:00:05.25"
    assert bind(value.replace(tzinfo=None)) == "2023-03-01 08:00:05.25"
    assert result("2023-03-01 08:00:05.25") == value
    assert result("2023-03-01T08:00:05.25+01:00") == value - timedelta(hours=1)


def test_on_postgresql_values_stay_datetimes_in_utc() -> None:
    dialect: Dialect = make_url("postgresql+asyncpg://").get_dialect()()
    column = UtcDateTime()
    naive = MOMENT.replace(tzinfo=None)
    assert column.process_bind_param(naive, dialect) == MOMENT
    shifted = MOMENT.astimezone(timezone(timedelta(hours=2)))
    bound = column.process_bind_param(shifted, dialect)
    assert bound == MOMENT and bound.tzinfo is UTC
    assert column.process_result_value(naive, dialect) == MOMENT
    with pytest.raises(TypeError):
        column.process_result_value(12, dialect)
