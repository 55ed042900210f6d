"""Times as the records pages enter and show them: in the site's time zone (HAZMON_HEALTH_TIMEZONE), never as
epoch milliseconds. A date/time picker's value (`<input type="datetime-local">`: YYYY-MM-DDTHH:MM) is read as
local time; a time that does not exist (the hour skipped when clocks go forward) is refused, and an ambiguous one
(the hour repeated when they go back) is the first of the two."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class LocalTimeError(ValueError):
    """A picker's value that is not a local date and time."""


def parse_local(text: str, tz: ZoneInfo, *, field: str) -> int:
    """ms since the epoch of a local `YYYY-MM-DDTHH:MM[:SS]` in `tz`."""
    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise LocalTimeError(f"{field}: {text!r} is not a date and time YYYY-MM-DDTHH:MM") from None
    if naive.tzinfo is not None:
        raise LocalTimeError(f"{field}: give the local time without a UTC offset")
    local = naive.replace(tzinfo=tz, fold=0)
    back = local.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        raise LocalTimeError(f"{field}: {text} does not exist in {tz.key} (the clocks skip it)")
    return int(local.timestamp() * 1000)


def day_start(day: dt.date, tz: ZoneInfo) -> int:
    """ms of local midnight starting `day`."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp() * 1000)


def local(ms: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=tz)


def stamp(ms: int | None, tz: ZoneInfo) -> str:
    """YYYY-MM-DD HH:MM in `tz` (empty for None)."""
    return "" if ms is None else local(ms, tz).strftime("%Y-%m-%d %H:%M")


def iso(ms: int | None, tz: ZoneInfo) -> str:
    """ISO 8601 with the UTC offset, to the second, in `tz` (for CSV)."""
    return "" if ms is None else local(ms, tz).replace(microsecond=0).isoformat()


def picker(ms: int | None, tz: ZoneInfo) -> str:
    """A datetime-local picker's value for a time."""
    return "" if ms is None else local(ms, tz).strftime("%Y-%m-%dT%H:%M")
