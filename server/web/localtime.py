"""Form values in the site's time zone: an `<input type="datetime-local">` (YYYY-MM-DDTHH:MM[:SS]) or
`<input type="date">` (YYYY-MM-DD, its midnight) read as local time of the site (server.web.templating's zone) and
turned into epoch ms, and back; a value that is not one of these is a ValueError with a one-line reason.

A local time that does not exist (skipped by a spring-forward) or exists twice (the autumn hour) is taken as the
first of its readings (`fold=0`, Python's rule): forms never ask for such an hour in the plants this serves."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.web.templating import site_zone


def parse_local(value: str, zone: ZoneInfo | None = None) -> int:
    """Epoch ms of a `datetime-local` or `date` form value in the site's zone (or `zone`)."""
    tz = zone or site_zone()
    text = value.strip()
    try:
        if "T" in text or " " in text:
            t = dt.datetime.fromisoformat(text.replace(" ", "T"))
            if t.tzinfo is not None:
                raise ValueError("carries its own offset")
        else:
            t = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM): {text[:40]!r}") from None
    return int(t.replace(tzinfo=tz).timestamp() * 1000)


def to_local_input(ms: int, zone: ZoneInfo | None = None) -> str:
    """The `datetime-local` value (YYYY-MM-DDTHH:MM) of a time in ms, in the site's zone (or `zone`)."""
    return dt.datetime.fromtimestamp(ms / 1000, zone or site_zone()).strftime("%Y-%m-%dT%H:%M")
