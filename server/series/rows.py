"""A stored reading row and a `Reading`, both ways: written once, used by every read of the series."""

from __future__ import annotations

from collections.abc import Iterable

from exposure import Reading
from server.series.models import ReadingRow


def flags_to_text(flags: Iterable[str]) -> str:
    return ",".join(flags)


def flags_of(text: str) -> tuple[str, ...]:
    return tuple(f for f in text.split(",") if f)


def row_to_reading(row: ReadingRow, *, sensor: str, value: float | None = None, unit: str | None = None) -> Reading:
    """The row as a `Reading` named `sensor` (the caller's name for it: a sensor name or id); `value` and `unit`
    replace the stored ones when the caller converted the value."""
    return Reading(sensor=sensor, quantity=row.quantity, value=row.value if value is None else value,
                   unit=row.unit if unit is None else unit, ts=row.ts, interval_s=row.interval_s,
                   flags=flags_of(row.flags))
