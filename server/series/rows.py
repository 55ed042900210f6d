"""A stored reading row and a `Reading`, both ways: written once, used by every read of the series."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Select, select

from exposure import Reading
from server.series.models import ReadingRow


class StoredReading(Protocol):
    """A stored reading's columns: a `ReadingRow`, or a row of `select_readings()` (no ORM object per reading,
    several times cheaper when a shift's thousands of readings are read)."""

    @property
    def quantity(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def ts(self) -> int: ...
    @property
    def interval_s(self) -> float | None: ...
    @property
    def flags(self) -> str: ...


def select_readings() -> Select[int, str, float, str, int, float | None, str]:
    """SELECT of the columns a `Reading` is made from, and the row id; add the WHERE and ORDER BY."""
    return select(ReadingRow.id, ReadingRow.quantity, ReadingRow.value, ReadingRow.unit, ReadingRow.ts,
                  ReadingRow.interval_s, ReadingRow.flags)


def flags_to_text(flags: Iterable[str]) -> str:
    return ",".join(flags)


def flags_of(text: str) -> tuple[str, ...]:
    return tuple(f for f in text.split(",") if f)


def row_to_reading(row: StoredReading, *, sensor: str, value: float | None = None, unit: str | None = None) -> Reading:
    """The row as a `Reading` named `sensor` (the caller's name for it: a sensor name or id); `value` and `unit`
    replace the stored ones when the caller converted the value."""
    return Reading(sensor=sensor, quantity=row.quantity, value=row.value if value is None else value,
                   unit=row.unit if unit is None else unit, ts=row.ts, interval_s=row.interval_s,
                   flags=flags_of(row.flags))
