"""Column types as Entity Framework Core's SQLite and Npgsql providers create them (Duende
``EntityFramework.Storage`` schema): bool, nvarchar(n), datetime2 and TimeSpan per dialect."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, Interval, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_TIMESPAN = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")


def nvarchar(length: int | None = None) -> TypeEngine[str]:
    """``nvarchar(n)``: ``character varying(n)`` on PostgreSQL, ``TEXT`` on SQLite; ``nvarchar(max)`` is text."""
    if length is None:
        return Text()
    return String(length).with_variant(Text(), "sqlite")


def long_id() -> TypeEngine[int]:
    """``bigint`` identity on PostgreSQL; SQLite's rowid alias must be spelled ``INTEGER``."""
    return BigInteger().with_variant(Integer(), "sqlite")


class Bool(TypeDecorator[bool]):
    """``bit``: ``boolean`` on PostgreSQL, ``INTEGER`` (0/1) on SQLite, as EF Core writes it."""

    impl = Boolean
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Boolean(create_constraint=False))

    def process_bind_param(self, value: bool | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return int(bool(value)) if dialect.name == "sqlite" else bool(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> bool | None:
        return None if value is None else bool(value)


def format_ef_datetime(value: datetime) -> str:
    """EF Core's SQLite text for a ``DateTime``: ``yyyy-MM-dd HH:mm:ss.FFFFFFF`` (UTC, trailing zeros dropped).

    The format sorts like the instants it stands for, so ``<`` in SQL compares times."""
    if value.tzinfo is not None:
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)  # a naive value's isoformat() is less than half the cost
    # "yyyy-MM-dd HH:mm:ss" and, when there are microseconds, ".ffffff": EF's seven digits less trailing zeros
    text = value.isoformat(" ")
    return text.rstrip("0") if value.microsecond else text


def parse_ef_datetime(text: str) -> datetime:
    """Parse EF Core's SQLite text (or ISO 8601 with ``T`` / an offset) into an aware UTC datetime."""
    try:  # every grant read parses two of these: the C parser is ~10 x faster than strptime (issue 15)
        fast = datetime.fromisoformat(text.strip())  # 3.11+: a space separator, 7 fraction digits (truncated)
    except ValueError:
        pass
    else:
        return fast.replace(tzinfo=UTC) if fast.tzinfo is None else fast.astimezone(UTC)
    value = text.strip().replace("T", " ")
    offset = ""
    match = re.search(r"(Z|[+-]\d{2}:\d{2})$", value)
    if match:
        offset, value = match.group(1), value[: match.start()]
    fraction = ""
    if "." in value:
        value, fraction = value.split(".", 1)
    parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if fraction:
        parsed = parsed.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        parsed -= sign * timedelta(hours=hours, minutes=minutes)
    return parsed.replace(tzinfo=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``datetime2``: ``timestamp with time zone`` on PostgreSQL (Npgsql 6+), ``TEXT`` on SQLite.

    Values are aware UTC datetimes in Python; naive values are taken as UTC (EF writes UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return format_ef_datetime(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return _utc_datetime(value)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        # SQLite's TEXT has no processor of its own: the formatter alone, without TypeDecorator's two calls
        # around it, on the statements of every grant (issue 15)
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _utc_datetime
        return super().result_processor(dialect, coltype)


def _sqlite_text(value: datetime | None) -> str | None:
    return None if value is None else format_ef_datetime(value)


def _utc_datetime(value: Any) -> datetime | None:
    """A column's value as an aware UTC datetime: EF Core's SQLite text, or a driver's datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_ef_datetime(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise TypeError(f"unexpected datetime value {value!r}")


def format_timespan(value: timedelta) -> str:
    """.NET ``TimeSpan.ToString("c")``: ``[-][d.]hh:mm:ss[.fffffff]``, as EF Core stores it on SQLite."""
    total = round(value.total_seconds() * 10_000_000)
    sign = "-" if total < 0 else ""
    total = abs(total)
    ticks = total % 10_000_000
    seconds = total // 10_000_000
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{ticks:07d}" if ticks else "")


def parse_timespan(text: str) -> timedelta:
    match = _TIMESPAN.match(text.strip())
    if match is None:
        raise ValueError(f"not a TimeSpan: {text!r}")
    negative, days, hours, minutes, seconds, fraction = match.groups()
    value = timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int((fraction or "0").ljust(7, "0")) / 10,
    )
    return -value if negative else value


class TimeSpan(TypeDecorator[timedelta]):
    """``TimeSpan`` (SQL Server ``time``): ``interval`` on PostgreSQL, ``TEXT`` "hh:mm:ss" on SQLite."""

    impl = Interval
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Interval())

    def process_bind_param(self, value: timedelta | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return format_timespan(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> timedelta | None:
        if value is None:
            return None
        if isinstance(value, timedelta):
            return value
        return parse_timespan(str(value))
