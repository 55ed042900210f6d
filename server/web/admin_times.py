"""Times on the administration pages: shown and entered in the site's time zone (HAZMON_HEALTH_TIMEZONE), never
as epoch milliseconds. A `datetime-local` picker sends `YYYY-MM-DDTHH:MM` (seconds optional) in that zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class BadTime(ValueError):
    pass


def parse_local(text: str, tz: ZoneInfo, *, field: str) -> int | None:
    """ms since the epoch of a local date and time in `tz` (a bare date is its midnight; a time with an offset,
    from an API client, is taken as it says); None for an empty field. A time that a clock change skips or
    repeats takes the earlier reading (fold 0)."""
    text = text.strip()
    if not text:
        return None
    try:
        local = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadTime(f"{field}: {text!r} is not a date and time like 2026-12-04T08:30") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return int(local.timestamp() * 1000)


def local_text(ms: int | None, tz: ZoneInfo) -> str:
    """`2026-12-04 08:30:05` in the site's zone (empty for None)."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")


def local_input(ms: int | None, tz: ZoneInfo) -> str:
    """The value of a `datetime-local` input for a time (empty for None)."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%dT%H:%M")


def iso(ms: int, tz: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second: `2026-12-04T08:30:05+08:00` (the CSV's times)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="seconds")
