"""The records pages' pickers are read in the site's time zone: a skipped local time is refused, a repeated one
is the first of the two, and a value with a UTC offset or in another format is refused with its field named."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.web.local_time import LocalTimeError, iso, parse_local, picker

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_picker_value_is_local_time_of_the_site():
    """08:00 in Shanghai is 00:00 UTC; shown back it is the same picker value and ISO time with +08:00."""
    ms = parse_local("2026-03-02T08:00", SHANGHAI, field="start")
    assert ms == int(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert picker(ms, SHANGHAI) == "2026-03-02T08:00"
    assert iso(ms, SHANGHAI) == "2026-03-02T08:00:00+08:00"


def test_a_skipped_local_time_is_refused_and_a_repeated_one_is_the_first():
    """Berlin skips 02:00-03:00 on 2026-03-29 and repeats 02:00-03:00 on 2026-10-25."""
    with pytest.raises(LocalTimeError, match="does not exist"):
        parse_local("2026-03-29T02:30", BERLIN, field="start")
    first = parse_local("2026-10-25T02:30", BERLIN, field="start")
    assert first == int(dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize("text", ["2026-03-02T08:00+01:00", "02/03/2026 08:00", "", "1764410401000"])
def test_anything_else_is_refused_naming_the_field(text):
    """A UTC offset, another format, nothing, or epoch ms: refused, and the message starts with the field."""
    with pytest.raises(LocalTimeError, match=r"^end: "):
        parse_local(text, SHANGHAI, field="end")
